"""HTTP-level attacks on a real server: junk methods, bodies before authentication, slow and oversized
bodies, deeply nested JSON, the public detailed health check and open event streams.

Each test answers a finding of the security review (3, 4, 5 and parts of 10); every refusal must be a
clear 4xx problem+json, and ``/health`` must keep answering while the attack runs.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack

import httpx
import pytest

from tests.security.server import HealthProbe, RssSampler, Server, read_head, serve

PROBLEM = "application/problem+json"
MiB = 1024 * 1024
# Functional bounds on a socket waiting for an answer: "it answers", not how fast.
ANSWER_WITHIN_SECONDS = 20.0


def _is_problem(resp: httpx.Response, status: int) -> None:
    assert resp.status_code == status, resp.text[:500]
    assert resp.headers["content-type"].startswith(PROBLEM), resp.headers
    assert resp.json()["status"] == status


def _status_line(sock: socket.socket) -> tuple[int, bytes]:
    """The status code and the head of the answer on a raw socket (waits up to the functional bound)."""
    sock.settimeout(ANSWER_WITHIN_SECONDS)
    data = read_head(sock)
    assert data.startswith(b"HTTP/1.1 "), data[:200]
    return int(data.split(b" ", 2)[1]), data


def _raw(server: Server) -> socket.socket:
    host, port = server.base_url.removeprefix("http://").split(":")
    return socket.create_connection((host, int(port)), timeout=ANSWER_WITHIN_SECONDS)


def _create_task(client: httpx.Client, headers: dict[str, str]) -> str:
    resp = client.post(
        "/api/v1/tasks",
        json={"name": "security", "action": "invite", "destination": "@sec_chat"},
        headers=headers,
    )
    assert resp.status_code == 201, resp.text
    return str(resp.json()["id"])


# --- finding 3: the HTTP method as a metric label ------------------------------------------------------


def test_junk_methods_are_405_and_leave_no_metric_labels(server: Server) -> None:
    with server.client() as c, HealthProbe(server.base_url) as probe:
        before = c.get("/metrics").text
        paths = ["/api/v1/tasks", "/api/v1/nothing-here", "/", "/health", f"/x/{uuid.uuid4().hex}"]
        for i in range(200):
            method = f"X7916{i:07d}"
            resp = c.request(method, paths[i % len(paths)])
            _is_problem(resp, 405)
            assert set(resp.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST", "DELETE"}
        after = c.get("/metrics").text
    assert "X7916" not in after
    # Counted, but as one bounded series: `other`, on templated handlers (or "none").
    assert 'method="other"' in after
    assert len(after) - len(before) < 64 * 1024, (len(before), len(after))
    assert probe.kept_answering()


def test_known_methods_still_route(server: Server) -> None:
    with server.client() as c:
        assert c.head("/health").status_code in (200, 405)
        _is_problem(c.put("/api/v1/no-such-route", json={}), 404)  # the API's catch-all, as before


def test_a_method_a_path_does_not_serve_is_405_naming_every_method_it_does(server: Server) -> None:
    h = server.headers()
    task = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
    cases = {
        ("PUT", "/api/v1/accounts"): "GET",
        ("PATCH", "/api/v1/tasks"): "GET, POST",
        ("OPTIONS", f"/api/v1/tasks/{task}"): "DELETE, GET, PUT",
        ("PATCH", f"/api/v1/tasks/{task}/targets"): "GET, POST",
        ("POST", f"/api/v1/tasks/{task}/targets/7"): "DELETE, GET, PUT",
        ("PUT", "/api/v1/import/jobs/" + task): "DELETE, GET",
    }
    with server.client() as c:
        for (method, path), allow in cases.items():
            resp = c.request(method, path, headers=h)
            _is_problem(resp, 405)
            assert resp.headers["allow"] == allow, (method, path, resp.headers["allow"])


# --- finding 4: uploads read before authentication; bodies that never finish ---------------------------


def _multipart_head(path: str, length: int, boundary: str, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\n{extra}"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {length}\r\n\r\n"
    ).encode()


def _file_part(boundary: str) -> bytes:
    return f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'.encode()


UPLOADS = ["/api/v1/import/validate", "/api/v1/import/file", "/api/v1/suppressions/import"]


@pytest.mark.parametrize("path", UPLOADS)
def test_an_unauthenticated_upload_is_refused_before_its_body_is_read(server: Server, path: str) -> None:
    boundary = "sec" + uuid.uuid4().hex
    total = 40 * MiB
    part = _file_part(boundary)
    with RssSampler(server.pid) as rss, _raw(server) as sock:
        sock.sendall(_multipart_head(path, total, boundary) + part + b"username\n" + b"m" * 65536)
        # 64 KiB of 40 MiB sent: the answer must come now, not after the whole file was spooled.
        status, head = _status_line(sock)
    assert status == 401, head[:300]
    assert b"application/problem+json" in head and b"www-authenticate: bearer" in head.lower()
    assert rss.growth < 30 * MiB


def test_a_bad_token_on_an_upload_is_refused_before_its_body_is_read(server: Server) -> None:
    boundary = "sec" + uuid.uuid4().hex
    with _raw(server) as sock:
        bad = "Authorization: Bearer nope\r\n"
        head = _multipart_head("/api/v1/import/validate", 40 * MiB, boundary, bad)
        sock.sendall(head + f"--{boundary}\r\n".encode())
        status, _ = _status_line(sock)
    assert status == 401


def test_an_authenticated_upload_still_works(server: Server) -> None:
    with server.client() as c:
        resp = c.post(
            "/api/v1/import/validate",
            files={"file": ("a.csv", b"username\nmember_one\nmember_two\n", "text/csv")},
            headers=server.headers(),
        )
    assert resp.status_code == 200, resp.text


@pytest.fixture(scope="module")
def impatient(db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server that gives up on a request body idle for a second."""
    with serve(db_url, tmp_path_factory.mktemp("impatient"), request_body_idle_timeout_seconds="1") as srv:
        yield srv


@pytest.mark.parametrize("kind", ["json", "multipart"])
def test_an_idle_body_times_out_with_408(impatient: Server, kind: str) -> None:
    auth = impatient.headers()["Authorization"]
    if kind == "json":
        head = (
            f"POST /api/v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        ).encode()
        start = b'{"name": "slo'
    else:
        boundary = "sec" + uuid.uuid4().hex
        head = _multipart_head("/api/v1/import/validate", 5 * MiB, boundary, f"Authorization: {auth}\r\n")
        start = _file_part(boundary)
    with HealthProbe(impatient.base_url) as probe, _raw(impatient) as sock:
        sock.sendall(head + start)  # … and then nothing more
        status, head_in = _status_line(sock)
    assert status == 408, head_in[:300]
    assert b"application/problem+json" in head_in
    assert probe.kept_answering()


def test_a_slow_but_moving_body_is_not_timed_out(impatient: Server) -> None:
    # Each chunk comes within the idle timeout, the whole body takes longer than it: accepted.
    body = b'{"name": "slow but steady", "action": "invite", "destination": "@sec_chat"}'
    chunks = [body[i : i + 8] for i in range(0, len(body), 8)]

    def trickle() -> Iterator[bytes]:
        for chunk in chunks:
            time.sleep(0.2)
            yield chunk

    with impatient.client() as c:
        resp = c.post(
            "/api/v1/tasks",
            content=trickle(),
            headers={**impatient.headers(), "Content-Type": "application/json"},
        )
    assert resp.status_code == 201, resp.text


# --- finding 5: JSON bodies without a size limit; deeply nested JSON -----------------------------------


def test_a_declared_oversized_json_body_is_413_before_it_is_read(server: Server) -> None:
    h = server.headers()
    with server.client() as c:
        tid = _create_task(c, h)
    with _raw(server) as sock:
        sock.sendall(
            (
                f"POST /api/v1/tasks/{tid}/targets/bulk HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: {h['Authorization']}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {63 * MiB}\r\n\r\n"
            ).encode()
            + b'{"targets": ['
        )
        status, head = _status_line(sock)
    assert status == 413 and b"application/problem+json" in head


def test_a_streamed_oversized_json_body_is_413_while_it_arrives(server: Server) -> None:
    h = server.headers()
    with server.client() as c:
        tid = _create_task(c, h)
    row = b'{"username": "member_0000000", "first_name": "Name", "fields": {"city": "Moscow"}},'
    total_rows = (63 * MiB) // len(row)

    def chunked() -> Iterator[bytes]:
        yield b'{"targets": ['
        batch = row * 1000
        for _ in range(total_rows // 1000):
            yield batch
        yield b'{"username": "last"}]}'

    with (
        HealthProbe(server.base_url) as probe,
        RssSampler(server.pid) as rss,
        server.client() as c,
    ):
        try:
            resp = c.post(
                f"/api/v1/tasks/{tid}/targets/bulk",
                content=chunked(),  # no Content-Length: chunked transfer encoding
                headers={**h, "Content-Type": "application/json"},
            )
        except httpx.TransportError:
            pytest.fail("the server dropped the connection instead of answering 413")
    _is_problem(resp, 413)
    # The rest of the body was read and thrown away (the connection stays usable), not kept.
    assert rss.growth < 200 * MiB, f"RSS grew {rss.growth / MiB:.0f} MiB"
    assert probe.kept_answering()
    with server.client() as c:
        assert c.get(f"/api/v1/tasks/{tid}/targets", headers=h).json()["items"] == []  # nothing written


def test_other_json_routes_have_a_small_cap_and_bulk_checks_the_token_first(server: Server) -> None:
    h = server.headers()
    with server.client() as c:
        tid = _create_task(c, h)
        big = b'{"name": "' + b"x" * (2 * MiB) + b'"}'
        _is_problem(
            c.post("/api/v1/tasks", content=big, headers={**h, "Content-Type": "application/json"}), 413
        )
    with _raw(server) as sock:  # no token: 401 before 16 MiB of rows are read
        sock.sendall(
            (
                f"POST /api/v1/tasks/{tid}/targets/bulk HTTP/1.1\r\nHost: x\r\n"
                f"Content-Type: application/json\r\nContent-Length: {15 * MiB}\r\n\r\n"
            ).encode()
            + b'{"targets": [{},{},'
        )
        status, head = _status_line(sock)
    assert status == 401 and b"application/problem+json" in head


def test_the_largest_legitimate_bulk_body_fits(server: Server) -> None:
    # 10,000 rows (INVITE_MAX_BULK_TARGETS) with names, a phone and a few extra fields: about 4 MB.
    h = server.headers()
    with server.client() as c:
        tid = _create_task(c, h)
        fields = {"city": "Yekaterinburg", "source": "conference-2026", "note": "n" * 150}
        rows = [
            {
                "username": f"member_{i:07d}",
                "first_name": "Firstname",
                "last_name": "Lastname-Of-Some-Length",
                "fields": fields,
            }
            for i in range(10_000)
        ]
        resp = c.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h, timeout=300)
    assert resp.status_code == 200, resp.text[:500]


@pytest.mark.parametrize("path", ["/api/v1/tasks", "bulk"])
def test_deeply_nested_json_is_a_4xx(server: Server, path: str) -> None:
    h = server.headers()
    with server.client() as c:
        if path == "bulk":
            path = f"/api/v1/tasks/{_create_task(c, h)}/targets/bulk"
        depth = 100_000
        for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
            resp = c.post(path, content=body, headers={**h, "Content-Type": "application/json"})
            assert 400 <= resp.status_code < 500, resp.text[:300]
            assert resp.headers["content-type"].startswith(PROBLEM)
    assert "unhandled_error" not in server.log()


# --- finding 10 (parts): the detailed health check; open event streams -------------------------------


def test_anonymous_detailed_health_is_served_from_a_cache(server: Server) -> None:
    answers: list[httpx.Response] = []

    def ask() -> None:
        with server.client() as c:
            for _ in range(10):
                answers.append(c.get("/api/v1/health/detailed"))

    with HealthProbe(server.base_url) as probe:
        threads = [threading.Thread(target=ask) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert {r.status_code for r in answers} == {200}
    assert answers[0].json()["checks"]["database"]["status"] == "ok"
    # One check a cache period, whoever asks: at most a couple of distinct results for 100 requests.
    distinct = {r.content for r in answers}
    assert len(distinct) <= 3, len(distinct)
    assert probe.kept_answering()


def _open(stack: ExitStack, client: httpx.Client, url: str, headers: dict[str, str]) -> httpx.Response:
    resp = stack.enter_context(client.stream("GET", url, headers=headers))
    if resp.status_code == 200:
        lines = resp.iter_lines()
        stack.callback(lines.close)  # held until the stack closes: dropped, it would close the connection
        assert next(lines).startswith("retry:")  # the stream is open and serving
    return resp


def test_event_streams_are_capped_per_user_and_released_on_disconnect(server: Server) -> None:
    h = server.headers()
    limits = httpx.Limits(max_connections=50, max_keepalive_connections=0)
    with server.client(limits=limits) as c, ExitStack() as streams:
        tid = _create_task(c, h)
        url = f"/api/v1/tasks/{tid}/events"
        opened = [ExitStack() for _ in range(10)]
        for stack in opened:
            streams.enter_context(stack)
            assert _open(stack, c, url, h).status_code == 200
        with c.stream("GET", url, headers=h) as refused:  # streamed: an accepted one would never end
            assert refused.status_code == 429
            refused.read()
            _is_problem(refused, 429)
            assert int(refused.headers["retry-after"]) > 0
        other = server.headers()  # another user is not affected
        other_tid = _create_task(c, other)
        with ExitStack() as mine:
            assert _open(mine, c, f"/api/v1/tasks/{other_tid}/events", other).status_code == 200
        opened[0].close()  # the client goes away: its slot comes back
        deadline = time.monotonic() + 30
        while True:
            with ExitStack() as again:
                if _open(again, c, url, h).status_code == 200:
                    break
            assert time.monotonic() < deadline, "a closed stream never released its slot"
            time.sleep(0.1)
