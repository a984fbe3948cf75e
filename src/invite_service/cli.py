"""``invite-service`` command line: serve | migrate | worker | beat | token | sandbox-integration |
sandbox-parsing."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from invite_service.config import ConfigError, Settings, get_settings

# Each command imports what it runs inside its function: `invite-service migrate` should not pay for
# uvicorn, FastAPI and Celery, nor a worker for the web app (start-up cost only, not to dodge a cycle).


def _ensure_sqlite_dir(settings: Settings) -> None:
    prefix = "sqlite+aiosqlite:///"
    if settings.database_url.startswith(prefix):
        path = settings.database_url[len(prefix) :]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from invite_service.main import create_app

    _ensure_sqlite_dir(settings)
    if args.migrate:
        from invite_service.migrations import runner

        runner.upgrade(settings.database_url)
    uvicorn.run(
        create_app(settings),
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,  # structlog owns logging
        proxy_headers=True,
    )
    return 0


def cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from invite_service.migrations import runner

    _ensure_sqlite_dir(settings)
    if args.downgrade:
        runner.downgrade(settings.database_url, args.downgrade)
    else:
        runner.upgrade(settings.database_url, args.revision)
    print(f"database migrated ({settings.database_backend})")
    return 0


def _celery(settings: Settings):  # type: ignore[no-untyped-def]
    from invite_service.runtime import worker_app

    try:
        return worker_app(settings)
    except ConfigError as exc:
        print(f"invite-service: {exc}", file=sys.stderr)
        return None


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    app = _celery(settings)
    if app is None:
        return 2
    from invite_service.workers.celery_app import worker_queues

    argv = [
        "worker",
        "-Q",
        args.queues or worker_queues(settings),
        "--loglevel",
        args.loglevel,
        "--concurrency",
        str(args.concurrency),
        "--pool",
        args.pool,
        "-n",
        args.name or f"{settings.queue_prefix}invite@%h",
        "--without-gossip",
        "--without-mingle",
    ]
    app.worker_main(argv)
    return 0


def cmd_beat(args: argparse.Namespace, settings: Settings) -> int:
    app = _celery(settings)
    if app is None:
        return 2
    app.start(["beat", "--loglevel", args.loglevel, "--schedule", args.schedule])
    return 0


def cmd_token(args: argparse.Namespace, settings: Settings) -> int:
    from invite_service.auth.jwt import mint_token

    if not settings.embedded:
        print("invite-service: `token` works in the embedded profile only", file=sys.stderr)
        return 2
    try:
        print(mint_token(args.user, settings, ttl_seconds=args.ttl))
    except ConfigError as exc:
        print(f"invite-service: {exc}", file=sys.stderr)
        return 2
    return 0


def cmd_sandbox_integration(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the Integration Service contract over a simulated Telegram (tests, demos, local dev)."""
    import uvicorn

    from invite_service.sandbox import TelegramSimulator
    from invite_service.sandbox.adapter import simulator_limits
    from invite_service.sandbox.integration_app import create_integration_app, demo_config

    if not settings.integration_token_secret:
        print(
            "invite-service: set INVITE_INTEGRATION_TOKEN_SECRET (the secret shared with the Invite Service)",
            file=sys.stderr,
        )
        return 2
    limits = None if args.caps == "none" else simulator_limits(settings.caps_for(args.caps))
    simulator = TelegramSimulator(demo_config(args.seed, limits))
    state_file: Path | None = args.state_file
    if state_file is not None:
        state_file.parent.mkdir(parents=True, exist_ok=True)
    app = create_integration_app(
        simulator,
        settings.integration_token_secret,
        demo_accounts_per_user=args.accounts_per_user,
        state_file=state_file,
        events_url=args.events_url,
        previous_token_secret=settings.integration_token_secret_previous,
    )
    # Injected latency keeps requests open; do not let them hold a shutdown for long.
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=2)
    return 0


def cmd_sandbox_parsing(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the Parsing Service contract with deterministic results of any size (``demo-1000``)."""
    import uvicorn

    from invite_service.imports.file_limits import parsing_token_secret
    from invite_service.sandbox.parsing_app import create_parsing_app

    app = create_parsing_app(args.seed, token_secret=parsing_token_secret(settings))
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level, timeout_graceful_shutdown=2)
    return 0


DESCRIPTION = (
    "Invite Service: runs invite and outreach tasks in messengers inside every platform limit. "
    "Settings come from INVITE_* environment variables (and a .env file); README.md lists them."
)
EPILOG = (
    "Embedded (the default): `invite-service serve --migrate` is the whole product on one process "
    "(SQLite, in-process jobs, simulated Telegram and sandbox accounts). Production: `migrate` once, then "
    "`serve`, `worker` and `beat` as separate processes (docs/runbook.md). "
    "`invite-service COMMAND --help` explains a command."
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invite-service", description=DESCRIPTION, epilog=EPILOG)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="serve the API, /docs, /redoc and the web UI (when built)",
        description="Serve the HTTP API under /api/v1, the API docs (/docs, /redoc; offline) and the built "
        "web UI at /. In the embedded profile this process also runs the jobs and the ticker.",
    )
    serve.add_argument("--host", default=None, help="listen address (default: INVITE_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="listen port (default: INVITE_PORT, 8002)")
    serve.add_argument("--migrate", action="store_true", help="upgrade the database schema first")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser(
        "migrate",
        help="upgrade (or downgrade) the database schema",
        description="Apply the Alembic migrations to INVITE_DATABASE_URL (SQLite or PostgreSQL).",
    )
    migrate.add_argument("--revision", default="head", help="upgrade to this revision (default: head)")
    migrate.add_argument(
        "--downgrade", metavar="REVISION", default=None, help="downgrade to this revision instead, e.g. base"
    )
    migrate.set_defaults(func=cmd_migrate)

    worker = sub.add_parser(
        "worker",
        help="run a Celery worker on the three invite queues (production)",
        description="Run a Celery worker (needs INVITE_BROKER_URL): it sends the invites and messages, "
        "imports audiences and delivers notifications.",
    )
    worker.add_argument(
        "--queues", default=None, help="comma-separated (default: the high, normal, low queues, prefixed)"
    )
    worker.add_argument("--concurrency", type=int, default=2, help="worker processes (default: 2)")
    worker.add_argument(
        "--pool", default="prefork", choices=["prefork", "solo", "threads"], help="default: prefork"
    )
    worker.add_argument("--name", default=None, help="node name (default: <INVITE_QUEUE_PREFIX>invite@%%h)")
    worker.add_argument("--loglevel", default="INFO", help="default: INFO")
    worker.set_defaults(func=cmd_worker)

    beat = sub.add_parser(
        "beat",
        help="run the Celery beat: the ticker, recovery and retention (production)",
        description="Run the Celery beat (needs INVITE_BROKER_URL); exactly one per deployment.",
    )
    beat.add_argument("--loglevel", default="INFO", help="default: INFO")
    beat.add_argument(
        "--schedule", default="var/celerybeat-schedule", help="the beat's state file (default: %(default)s)"
    )
    beat.set_defaults(func=cmd_beat)

    token = sub.add_parser(
        "token",
        help="mint a bearer token for scripts (embedded profile only)",
        description="Print a bearer token for the API (Authorization: Bearer ...), signed with "
        "INVITE_JWT_SECRET. Refused outside the embedded profile.",
    )
    token.add_argument("--user", required=True, help="the user id the token is for")
    token.add_argument(
        "--ttl", type=int, default=None, help="lifetime in seconds (default: INVITE_DEV_TOKEN_TTL_SECONDS)"
    )
    token.set_defaults(func=cmd_token)

    sandbox_integration = sub.add_parser(
        "sandbox-integration",
        help="serve a simulated Integration Service (Telegram) for tests and demos",
        description="Serve the Integration Service contract over a simulated Telegram; point "
        "INVITE_INTEGRATION_URL at it. Needs INVITE_INTEGRATION_TOKEN_SECRET.",
    )
    sandbox_integration.add_argument("--port", type=int, required=True, help="listen port")
    sandbox_integration.add_argument(
        "--host", default="127.0.0.1", help="listen address (default: %(default)s)"
    )
    sandbox_integration.add_argument("--seed", type=int, default=0, help="the simulated audience's seed")
    sandbox_integration.add_argument(
        "--caps",
        choices=["telegram", "sandbox", "none"],
        default="telegram",
        help="push back (FLOOD_WAIT, PEER_FLOOD) above these platform caps (INVITE_PLATFORM_CAPS)",
    )
    sandbox_integration.add_argument(
        "--accounts-per-user", type=int, default=4, help="demo accounts created on a user's first listing"
    )
    sandbox_integration.add_argument(
        "--events-url",
        default=None,
        help="where POST /admin/replies delivers inbound events "
        "(the Invite Service's http://HOST:PORT/api/v1/integration/events)",
    )
    sandbox_integration.add_argument(
        "--state-file",
        type=Path,
        default=None,
        help="keep operation keys in this file, so a restarted server still answers lookups and replays"
        " (the simulated platform itself restarts empty)",
    )
    sandbox_integration.add_argument("--log-level", default="warning", help="default: warning")
    sandbox_integration.set_defaults(func=cmd_sandbox_integration)

    sandbox_parsing = sub.add_parser(
        "sandbox-parsing",
        help="serve a sandbox Parsing Service (results of any size, fault injection)",
        description="Serve the Parsing Service contract with deterministic results; point "
        "INVITE_PARSING_URL at it.",
    )
    sandbox_parsing.add_argument("--port", type=int, required=True, help="listen port")
    sandbox_parsing.add_argument("--host", default="127.0.0.1", help="listen address (default: %(default)s)")
    sandbox_parsing.add_argument("--seed", type=int, default=0, help="the generated audience's seed")
    sandbox_parsing.add_argument("--log-level", default="warning", help="default: warning")
    sandbox_parsing.set_defaults(func=cmd_sandbox_parsing)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ConfigError as exc:
        print(f"invite-service: configuration error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:  # pydantic's ValidationError: a malformed INVITE_* value
        print(f"invite-service: invalid settings: {exc}", file=sys.stderr)
        return 2
    return int(args.func(args, settings))


if __name__ == "__main__":
    raise SystemExit(main())
