"""schemathesis against a real ``invite-service serve`` on each backend: the OpenAPI document is a contract.

``st run --checks all`` runs as a subprocess against the module's ``server`` (tests/security/conftest.py),
once per database backend, with a fixed seed and a bounded number of examples per operation, in both
generation modes (positive: schema-valid input; negative: schema-invalid input), through schemathesis'
phases (coverage, fuzzing, stateful). It fails on any 5xx, an undocumented status code, content type or
header, a body (or an SSE event) that does not match its schema, and on every other check schemathesis has,
except where turned off below, each time with the reason (docs/security.md, "Schema fuzzing" says the same).

Two users sign in (a WFC auth file with two peers), so ``object_level_authorization`` replays one user's
reads as the other. A task of the first user (with a target) is seeded: schemathesis reuses the ids it sees
in responses, so the ``/tasks/{task_id}`` operations reach their handlers instead of stopping at a 404; the
stateful phase follows the document's links (create, then read, change, delete) on top of that.

On a failure the message holds schemathesis' report (each failure with a curl line to reproduce it) and
the end of the server's traceback of each 500; the whole output stays in the test's tmp directory.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx

from tests.security.server import Server

ST = Path(sys.executable).parent / "st"
SEED = 20261202
MAX_EXAMPLES = 10  # per operation and phase
RUN_DEADLINE_SECONDS = 600  # a guard against a hung run, not a timing assertion
OWNER, PEER = "fuzz-owner", "fuzz-peer"
ALL = "*"  # every operation

# Operations not fuzzed: {operation: reason}. None today: the SSE stream (GET .../events) is read up to its
# first event (max-stream-events), and GET /metrics is not in the document (include_in_schema=False).
EXCLUDED_OPERATIONS: dict[str, str] = {}

# A check turned off for an operation, because that operation checks its input against a rule the document
# cannot state in JSON Schema: schema-valid input gets a correct 422 (or 415), which
# positive_data_acceptance reports; or a body checked row by row answers 200 with the bad rows listed, which
# negative_data_rejection reports. {(operation, check): reason}.
_CURSOR = "cursor is an opaque token the server issued: any other string of the right length is a 422"
_FILE = (
    "the file's content (empty, not CSV/XLSX/JSON), `mapping` (JSON inside a form field) and exactly one of "
    "task_id / audience_id (file) are checked"
)
_HOOK_URL = "url: http(s), and its host resolves to a public address (SSRF) unless private ones are allowed"
_CHANNEL_URL = "url: a URL apprise understands (mailto://, tgram://, json://host …), with the same SSRF rule"
SCHEMA_CANNOT_SAY: dict[tuple[str, str], str] = {
    ("GET /api/v1/tasks", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/tasks/{task_id}/targets", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/tasks/{task_id}/logs", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/import/jobs", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/suppressions", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/accounts", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/audit", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/tasks/{task_id}/stats", "positive_data_acceptance"): "`from` before `to`, at most 7 days",
    ("POST /api/v1/tasks", "positive_data_acceptance"): "which fields an action needs (invite: destination)",
    (
        "PUT /api/v1/tasks/{task_id}",
        "positive_data_acceptance",
    ): "destination: @name, t.me or invite link, chat id",
    ("POST /api/v1/tasks/bulk", "positive_data_acceptance"): "SET_PRIORITY needs priority",
    (
        "POST /api/v1/tasks/{task_id}/start",
        "positive_data_acceptance",
    ): "needs a usable account, a pending target",
    (
        "POST /api/v1/tasks/{task_id}/targets",
        "positive_data_acceptance",
    ): "one identity; usernames, phones parsed",
    (
        "POST /api/v1/tasks/{task_id}/targets/bulk",
        "positive_data_acceptance",
    ): "each row is checked as a target",
    (
        "POST /api/v1/tasks/{task_id}/targets/bulk-action",
        "positive_data_acceptance",
    ): "exactly one of ids, filter",
    (
        "POST /api/v1/tasks/{task_id}/test-message",
        "positive_data_acceptance",
    ): "to: a username, phone or user id; target_id, account_id the task's own; a printable Idempotency-Key",
    (
        "POST /api/v1/suppressions",
        "positive_data_acceptance",
    ): "exactly one identity; usernames, phones parsed",
    ("POST /api/v1/suppressions/import", "positive_data_acceptance"): _FILE,
    ("POST /api/v1/import/file", "positive_data_acceptance"): _FILE,
    ("POST /api/v1/import/validate", "positive_data_acceptance"): _FILE,
    (
        "POST /api/v1/import/parsing",
        "positive_data_acceptance",
    ): "exactly one of task_id / audience_id; an Idempotency-Key reused with another body",
    ("GET /api/v1/notifications/deliveries", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/audiences", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/audiences/{audience_id}/contacts", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/contacts", "positive_data_acceptance"): _CURSOR,
    ("GET /api/v1/contacts/{contact_id}/history", "positive_data_acceptance"): _CURSOR,
    ("POST /api/v1/audiences", "positive_data_acceptance"): "a printable Idempotency-Key of 1-200 characters",
    (
        "PATCH /api/v1/audiences/{audience_id}",
        "positive_data_acceptance",
    ): "text without NUL (kit.inputs.Text)",
    ("PATCH /api/v1/contacts/{contact_id}", "positive_data_acceptance"): "text without NUL (kit.inputs.Text)",
    (
        "POST /api/v1/audiences/{audience_id}/contacts",
        "positive_data_acceptance",
    ): "contact ids up to 2**63-1 (a JSON Schema bound is a float: it lets 2**63 + 191 through)",
    (
        "POST /api/v1/audiences/{audience_id}/contacts",
        "negative_data_rejection",
    ): "each row is checked on its own: a bad row is listed in `rejected` (200) and the others are added",
    (
        "POST /api/v1/audiences/{audience_id}/contacts/remove",
        "positive_data_acceptance",
    ): "contact ids up to 2**63-1 (a JSON Schema bound is a float: it lets 2**63 + 191 through)",
    (
        "POST /api/v1/audiences/preview",
        "positive_data_acceptance",
    ): "audiences: the user's own, of the platform; contact_policy only stricter than the user's policy",
    ("POST /api/v1/notifications/webhooks", "positive_data_acceptance"): _HOOK_URL,
    ("PATCH /api/v1/notifications/webhooks/{endpoint_id}", "positive_data_acceptance"): _HOOK_URL,
    ("POST /api/v1/notifications/channels", "positive_data_acceptance"): _CHANNEL_URL,
    ("PATCH /api/v1/notifications/channels/{channel_id}", "positive_data_acceptance"): _CHANNEL_URL,
}

# PENDING_FIXES: failures being fixed on other branches now. The lead removes an entry once its fix is
# merged (and the test then proves it). {(operation, check): what fails, and which fix}.
PENDING_FIXES: dict[tuple[str, str], str] = {}

# Found by this test, not fixed on this branch, and in no fix under way that we know of; each needs a
# decision beyond the API layer (docs/security.md, "Schema fuzzing"). {(operation, check): what fails}.
KNOWN_UNFIXED: dict[tuple[str, str], str] = {}


def _toml(value: object) -> str:
    """A TOML value: the strings, numbers, booleans and lists this config uses (JSON escapes are TOML's)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    raise TypeError(value)


def _selector(operation: str) -> str:
    """``"GET /api/v1/tasks"`` selects that operation, ``ALL`` every operation."""
    if operation == ALL:
        return f"include-path-regex = {_toml('.')}"
    assert re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) /\S+", operation), operation
    return f"include-name = {_toml(operation)}"


def write_config(workdir: Path, auth_headers: dict[str, str]) -> Path:
    auth = {
        "auth": [
            {"name": user, "fixedHeaders": [{"name": "Authorization", "value": header}]}
            for user, header in auth_headers.items()
        ]
    }
    (workdir / "auth.json").write_text(json.dumps(auth))
    lines = [
        f"seed = {SEED}",
        "workers = 1",  # one worker: the order of the requests, so the server's state, is reproducible
        "request-timeout = 30",
        "max-stream-events = 1",  # an SSE stream is read up to its first event (it ends only with its task)
        "",
        "[generation]",
        'mode = "all"',
        f"max-examples = {MAX_EXAMPLES}",
        "",
        "[checks]",
        "enabled = true",  # --checks all; not on the command line, which would win over the entries below
        "",
        "[auth.wfc]",
        f"path = {_toml(str(workdir / 'auth.json'))}",
        f"user = {_toml(OWNER)}",
        f"peers = {_toml([OWNER, PEER])}",
        "",
    ]
    for operation in EXCLUDED_OPERATIONS:
        lines += ["", "[[operations]]", _selector(operation), "enabled = false"]
    for operation, check in [*SCHEMA_CANNOT_SAY, *PENDING_FIXES, *KNOWN_UNFIXED]:
        lines += ["", "[[operations]]", _selector(operation), f"checks.{check}.enabled = false"]
    path = workdir / "schemathesis.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def seed_task(server: Server) -> str:
    """A task of the first user, with a target: what the ``{task_id}`` operations find and work on."""
    with server.client(headers=server.headers(OWNER)) as c:
        accounts = c.get("/api/v1/accounts", params={"platform": "telegram"})
        assert accounts.status_code == 200, accounts.text
        task = c.post(
            "/api/v1/tasks",
            json={
                "name": "Fuzzed task",
                "platform": "telegram",
                "action": "invite",
                "destination": "https://t.me/fuzz_target",
                "account_ids": [a["id"] for a in accounts.json()["items"]][:1],
            },
        )
        assert task.status_code == 201, task.text
        task_id = str(task.json()["id"])
        target = c.post(f"/api/v1/tasks/{task_id}/targets", json={"username": "fuzz_user"})
        assert target.status_code == 201, target.text
    return task_id


def _server_errors(server: Server) -> str:
    """The end of the traceback of each 500 in the server's log (JSON lines), by request id."""
    found = []
    for line in server.log().splitlines():
        if '"unhandled_error"' not in line:
            continue
        try:
            record = json.loads(line)
        except ValueError:
            continue
        tail = "\n    ".join(str(record.get("exception", "")).splitlines()[-4:])
        found.append(f"{record.get('request_id')}:\n    {tail}")
    return "\n".join(found[-20:])


def st_run(server: Server, config: Path, workdir: Path, name: str, *selection: str) -> str | None:
    """One ``st run``; its failures report (None when it passed). The whole output is kept in ``workdir``."""
    run = subprocess.run(
        [
            str(ST),
            "--no-color",
            f"--config-file={config}",
            "run",
            f"{server.base_url}/openapi.json",
            *selection,
            f"--report-dir={workdir / name}",
            "--report=junit,ndjson",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=RUN_DEADLINE_SECONDS,
        check=False,
    )
    output = run.stdout + run.stderr
    (workdir / f"{name}.txt").write_text(output)
    if run.returncode == 0:
        return None
    start = output.find("=== FAILURES")
    return f"{name} ({workdir / name}.txt):\n" + (output[start:] if start >= 0 else output)[-30000:]


# The operations that delete tasks run after the rest: schemathesis hands every id it has seen to any
# operation that takes one, and a deleted seeded task would turn the rest of the run into 404s.
DELETING = ["DELETE /api/v1/tasks/{task_id}", "POST /api/v1/tasks/bulk"]


def test_the_api_conforms_to_its_openapi_document(server: Server, tmp_path: Path) -> None:
    seed_task(server)
    config = write_config(tmp_path, {user: server.headers(user)["Authorization"] for user in (OWNER, PEER)})
    assert httpx.get(f"{server.base_url}/openapi.json").status_code == 200
    failures = [
        st_run(server, config, tmp_path, "most", *[f"--exclude-name={op}" for op in DELETING]),
        st_run(server, config, tmp_path, "deleting", *[f"--include-name={op}" for op in DELETING]),
    ]
    if any(failures):
        errors = _server_errors(server)
        backend = server.db_url.split(":", 1)[0]
        raise AssertionError(
            f"schemathesis found failures on {backend}:\n"
            + "\n\n".join(f for f in failures if f)
            + (f"\n\nserver tracebacks:\n{errors}" if errors else "")
        )
