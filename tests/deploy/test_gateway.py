"""The gateway config (deploy/nginx/invite-service.conf) in a real nginx, in front of a real
`invite-service serve`: prefixes, live events, uploads, throttling, and what it hides."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, require_tool
from tests.e2e.conftest import start_server
from tests.security.server import read_head

ROOT = Path(__file__).resolve().parents[2]
CONF = ROOT / "deploy" / "nginx" / "invite-service.conf"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    nginx = require_tool("nginx", "Debian package `nginx`")
    tmp = tmp_path_factory.mktemp("gateway")
    server, api = start_server(
        {"INVITE_DATABASE_URL": f"sqlite+aiosqlite:///{tmp / 'gw.db'}", "INVITE_LOG_LEVEL": "WARNING"},
        tmp / "server.log",
    )
    port = free_port()
    site = CONF.read_text()
    assert "server api:8002;" in site and "listen 8080;" in site
    site = site.replace("server api:8002;", f"server {api.removeprefix('http://')};")
    (tmp / "site.conf").write_text(site.replace("listen 8080;", f"listen 127.0.0.1:{port};"))
    temp_paths = "\n".join(
        f"    {kind}_temp_path {tmp / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    # As root, nginx's workers would drop to `nobody`, who cannot write into pytest's private tmp dirs.
    user = "user root;\n" if os.geteuid() == 0 else ""
    (tmp / "nginx.conf").write_text(
        f"{user}worker_processes 1;\ndaemon off;\npid {tmp / 'nginx.pid'};\n"
        f"error_log {tmp / 'error.log'} warn;\n"
        f"events {{}}\nhttp {{\n    access_log off;\n{temp_paths}\n    include {tmp / 'site.conf'};\n}}\n"
    )
    proc = subprocess.Popen(
        [nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf"), "-e", str(tmp / "error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {(tmp / 'error.log').read_text()[-2000:]}")
                time.sleep(0.1)
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        server.terminate()
        server.wait(timeout=10)


def sign_in(base: str, prefix: str) -> dict[str, str]:
    token = httpx.post(f"{base}{prefix}/v1/auth/dev-login", json={"user": "gateway-user"}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_the_api_answers_under_both_prefixes_and_the_ui_at_the_root(gateway: str) -> None:
    refused = httpx.get(f"{gateway}/api/invite/v1/tasks")
    assert refused.status_code == 401  # the service's answer, through the /api/invite/ prefix
    assert refused.headers["content-type"].startswith("application/problem+json")
    h = sign_in(gateway, "/api/invite")
    created = httpx.post(
        f"{gateway}/api/invite/v1/tasks",
        json={"name": "via the gateway", "action": "invite", "destination": "@gw_chat"},
        headers=h,
    )
    assert created.status_code == 201, created.text
    listed = httpx.get(f"{gateway}/api/v1/tasks", headers=h).json()  # where the UI calls it
    assert [t["id"] for t in listed["items"]] == [created.json()["id"]]
    assert len(created.headers["x-request-id"]) == 32  # nginx's $request_id, passed through
    for page in ("/", "/tasks/some-task"):  # client-side routes get the app too
        ui = httpx.get(f"{gateway}{page}")
        assert ui.status_code == 200 and '<div id="root">' in ui.text
    assert httpx.get(f"{gateway}/metrics").status_code == 404  # Prometheus scrapes the service directly


@pytest.mark.parametrize("login_prefix", ["/api/invite", "/api/invite/v1"])
def test_the_plans_prefix_without_a_version_reaches_the_same_api(gateway: str, login_prefix: str) -> None:
    # The plan writes the gateway's routes as /api/invite/{path}; /api/invite/v1/{path} keeps working.
    token = httpx.post(f"{gateway}{login_prefix}/auth/dev-login", json={"user": f"plan-{login_prefix[-2:]}"})
    assert token.status_code == 200, token.text
    h = {"Authorization": f"Bearer {token.json()['access_token']}"}
    created = [
        httpx.post(f"{gateway}/api/invite/tasks", json={**body, "name": name}, headers=h)
        for name, body in (("short", TASK), ("versioned", TASK))
    ]
    assert [c.status_code for c in created] == [201, 201], created[0].text
    ids = {c.json()["id"] for c in created}
    listed = {
        prefix: httpx.get(f"{gateway}{prefix}/tasks", headers=h)
        for prefix in ("/api/invite", "/api/invite/v1")
    }
    for prefix, answer in listed.items():
        assert answer.status_code == 200, (prefix, answer.text)
        assert {t["id"] for t in answer.json()["items"]} == ids, prefix
    # The query string survives the rewrite.
    one = httpx.get(f"{gateway}/api/invite/tasks", params={"limit": 1}, headers=h).json()
    assert len(one["items"]) == 1
    task_id = created[0].json()["id"]
    detail = httpx.get(f"{gateway}/api/invite/tasks/{task_id}", headers=h)
    assert detail.status_code == 200 and detail.json()["name"] == "short"
    # Live events under the short prefix: the unbuffered location, rewritten the same way.
    with httpx.stream("GET", f"{gateway}/api/invite/tasks/{task_id}/events", headers=h, timeout=10) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert any(line.startswith("event: snapshot") for line in resp.iter_lines())
    # Unauthenticated, the service's own problem answer: the request reached /api/v1/tasks, not a 404.
    refused = httpx.get(f"{gateway}/api/invite/tasks")
    assert refused.status_code == 401
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert httpx.get(f"{gateway}/api/invite/no-such-thing", headers=h).status_code == 404


TASK = {"action": "invite", "destination": "@gw_chat"}


def test_live_events_arrive_through_the_gateway_while_the_stream_is_open(gateway: str) -> None:
    h = sign_in(gateway, "/api/invite")
    accounts = httpx.get(
        f"{gateway}/api/invite/v1/accounts", params={"platform": "sandbox"}, headers=h
    ).json()["items"]
    body = {
        "name": "watched",
        "platform": "sandbox",
        "action": "invite",
        "destination": "@gw_chat",
        "account_ids": [a["id"] for a in accounts],
    }
    tid = httpx.post(f"{gateway}/api/invite/v1/tasks", json=body, headers=h).json()["id"]
    rows = [{"username": f"gw_member_{i}"} for i in range(3)]
    httpx.post(f"{gateway}/api/invite/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h)
    with httpx.stream("GET", f"{gateway}/api/invite/v1/tasks/{tid}/events", headers=h, timeout=10) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        lines = resp.iter_lines()
        assert any(line.startswith("event: snapshot") for line in lines)
        # Events reach the client as they happen, not when the stream ends.
        started = time.monotonic()
        assert httpx.post(f"{gateway}/api/invite/v1/tasks/{tid}/start", headers=h).status_code == 200
        event = next(line for line in lines if line.startswith("event: ") and "heartbeat" not in line)
        waited = time.monotonic() - started
    assert event in ("event: status", "event: progress")
    assert waited < 5, f"the first event after the start took {waited:.1f} s"


def test_uploads_above_nginxs_default_limit_reach_the_service(gateway: str) -> None:
    h = sign_in(gateway, "/api/invite")
    rows = b"".join(b"member_%07d,Name%d\n" % (i, i) for i in range(120_000))  # about 2.5 MB
    body = b"username,first_name\n" + rows
    assert len(body) > 2 * 1024 * 1024  # nginx refuses bodies over 1 MiB unless told otherwise
    resp = httpx.post(
        f"{gateway}/api/invite/v1/import/validate",
        files={"file": ("audience.csv", body, "text/csv")},
        headers=h,
        timeout=60,
    )
    assert resp.status_code == 200, resp.text[:500]
    assert resp.json()["delimiter"] == ","


def _raw_answer(base: str, head: bytes) -> bytes:
    """Send ``head`` (a request line, headers and the start of a body) and read the answer's head."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=20) as sock:
        sock.sendall(head)
        return read_head(sock)


@pytest.mark.parametrize("prefix", ["/api/v1", "/api/invite/v1", "/api/invite"])
def test_an_unauthenticated_upload_is_refused_before_the_file_is_sent(gateway: str, prefix: str) -> None:
    # The 401 comes back while the client has sent 64 KiB of a 40 MiB file: nginx refuses a tokenless
    # upload before buffering its body (which it otherwise does in full before passing it on).
    boundary = "gw0123456789"
    head = (
        f"POST {prefix}/import/validate HTTP/1.1\r\nHost: x\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {40 * 1024 * 1024}\r\n\r\n"
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    ).encode()
    answer = _raw_answer(gateway, head + b"username\n" + b"m" * 65536)
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]
    assert b"application/problem+json" in answer


def test_a_json_body_over_the_gateways_limit_is_a_problem_413(gateway: str) -> None:
    head = (
        "POST /api/invite/v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {20 * 1024 * 1024}\r\n\r\n"
    ).encode()
    answer = _raw_answer(gateway, head + b'{"name": ')
    assert answer.startswith(b"HTTP/1.1 413"), answer[:300]
    assert b"application/problem+json" in answer


def test_a_burst_is_throttled_with_a_problem_answer(gateway: str) -> None:
    with httpx.Client(base_url=gateway) as client:
        answers = [client.get("/api/invite/v1/tasks") for _ in range(150)]
    throttled = [r for r in answers if r.status_code == 429]
    assert throttled, "150 requests at once: beyond the burst of 50"
    assert {r.status_code for r in answers} <= {401, 429}
    assert throttled[0].headers["content-type"].startswith("application/problem+json")
    assert throttled[0].json()["status"] == 429
    assert throttled[0].headers["retry-after"] == "1"
