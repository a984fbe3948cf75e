"""``invite-service`` command line: serve | migrate | token (more commands join as features land)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from invite_service.config import ConfigError, Settings, get_settings


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="invite-service", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the API (and the UI when built)")
    serve.add_argument("--host", default=None)
    serve.add_argument("--port", type=int, default=None)
    serve.add_argument("--migrate", action="store_true", help="upgrade the database first")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="upgrade (or downgrade) the database schema")
    migrate.add_argument("--revision", default="head")
    migrate.add_argument("--downgrade", metavar="REVISION", default=None, help="e.g. base")
    migrate.set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="mint a bearer token (embedded profile only)")
    token.add_argument("--user", required=True)
    token.add_argument("--ttl", type=int, default=None, help="seconds")
    token.set_defaults(func=cmd_token)
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
