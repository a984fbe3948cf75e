"""Crafted input through the real server: every one is a 4xx problem+json naming the parameter, never a
500, and nothing is written.

Cursors are fuzzed per list and sort: a cursor valid for the list is taken apart and each value swapped
for one of the wrong type; dates at the calendar's edges with offsets; NUL bytes in strings; ``null`` for
a required field of a task update; a token whose ``exp`` is a string or whose ``sub`` holds a NUL.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import jwt as pyjwt
import pytest

from tests.security.server import SECRET, Server

PROBLEM_JSON = "application/problem+json"
DRAFT = {"name": "inputs", "platform": "sandbox", "action": "invite", "destination": "@demo_chat"}
RUN_DEADLINE_SECONDS = 60.0  # a guard against a hung run, not a timing assertion


def assert_refused(resp: httpx.Response, loc: list[str | int], status: int = 422) -> None:
    """A problem+json ``status`` whose errors name ``loc`` (the parameter or field)."""
    assert resp.status_code == status, (resp.status_code, resp.text)
    assert resp.headers["content-type"].startswith(PROBLEM_JSON), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status
    if status == 422:
        assert loc in [e["loc"] for e in body["errors"]], body


def b64(data: Any, *, raw: bytes | None = None) -> str:
    payload = raw if raw is not None else json.dumps(data).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


@pytest.fixture(scope="module")
def user(server: Server) -> dict[str, str]:
    return server.headers()


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[httpx.Client]:
    with server.client() as c:
        yield c


@pytest.fixture(scope="module")
def task_id(api: httpx.Client, user: dict[str, str]) -> str:
    """A draft sandbox task with two targets (every per-task list has something to page)."""
    resp = api.post(
        "/api/v1/tasks",
        json=DRAFT,
        headers=user,
    )
    assert resp.status_code == 201, resp.text
    tid = str(resp.json()["id"])
    added = api.post(
        f"/api/v1/tasks/{tid}/targets/bulk",
        json={"targets": [{"username": "alpha_one"}, {"username": "beta_two"}]},
        headers=user,
    )
    assert added.status_code == 200, added.text
    return tid


# ---------------------------------------------------------------------------------------------- cursors

# A valid value of each kind of sort column, as the cursor carries it.
VALID = {
    "datetime": {"t": "2026-01-05T09:00:00+00:00"},
    "uuid": {"u": "5b0c0ad5-3a3e-4b7e-8f43-2a7b7f6a7e10"},
    "int": 7,
    "str": "name",
    "task_status": "draft",
    "target_status": "pending",
    "priority": "normal",
}

# Values of the wrong type for every kind, or out of its range.
BAD_VALUES: list[Any] = [
    "x",
    "1",
    "",
    1.5,
    True,
    None,
    [],
    [1, 2],
    {},
    {"x": 1},
    {"t": 5},
    {"t": None},
    {"t": "not a date"},
    {"t": "2026-01-05T09:00:00"},  # naive
    {"t": "0001-01-01T00:00:00+14:00"},
    {"t": "9999-12-31T23:59:59-14:00"},
    {"u": 5},
    {"u": "not-a-uuid"},
    {"u": ["x"]},
    10**30,
    -(10**30),
    2**63,
    -(2**63) - 1,
    "a\x00b",
    "draft\x00",
]

# (list path with {tid}, sorts, the kinds of the cursor's values for each sort)
LISTS: list[tuple[str, dict[str, list[str]]]] = [
    (
        "/api/v1/tasks",
        {
            "created_at": ["datetime", "uuid"],
            "name": ["str", "uuid"],
            "priority": ["priority", "uuid"],
            "status": ["task_status", "uuid"],
        },
    ),
    ("/api/v1/tasks/{tid}/targets", {"id": ["int", "int"], "status": ["target_status", "int"]}),
    ("/api/v1/tasks/{tid}/logs", {"at": ["datetime", "int"]}),
    ("/api/v1/import/jobs", {"created_at": ["datetime", "uuid"]}),
    ("/api/v1/suppressions", {"created_at": ["datetime", "int"], "key": ["str", "int"]}),
    ("/api/v1/audit", {"-id": ["int"]}),  # newest first only
]


def _acceptable(kind: str, value: Any) -> bool:
    """Whether ``value`` is a legitimate cursor value for a column of ``kind`` (then it is not a bad one)."""
    return kind == "str" and isinstance(value, str) and "\x00" not in value


def _cursors(field: str, desc: bool, kinds: list[str]) -> Iterator[tuple[str, str]]:
    """(what is wrong, cursor) for one list and sort."""
    valid = [VALID[k] for k in kinds]
    head = {"s": field, "d": desc}
    for i, kind in enumerate(kinds):
        for bad in BAD_VALUES:
            if _acceptable(kind, bad):
                continue
            values = list(valid)
            values[i] = bad
            yield f"v[{i}]={bad!r}", b64({**head, "v": values})
    for shape in (valid[:-1], [*valid, 1], "ab", {"a": 1}, 5, None, [valid]):
        yield f"v={shape!r}", b64({**head, "v": shape})
    yield "d is a string", b64({**head, "d": "yes", "v": valid})
    yield "no v", b64(head)
    yield "a list", b64([field, desc, valid])
    yield "a string", b64("cursor")
    yield "not json", b64(None, raw=b"{not json")
    yield "not utf-8", b64(None, raw=b'{"s": "\xff\xfe"}')
    yield "not base64", "!!!***"


def _sorts() -> Iterator[tuple[str, str, bool, list[str]]]:
    """(path, field, descending, kinds); a sort named with "-" has that direction only."""
    for path, sorts in LISTS:
        for name, kinds in sorts.items():
            for desc in (True,) if name.startswith("-") else (False, True):
                yield path, name.lstrip("-"), desc, kinds


@pytest.mark.parametrize(("path", "field", "desc", "kinds"), list(_sorts()))
def test_crafted_cursors_are_a_422_naming_the_cursor(
    api: httpx.Client, user: dict[str, str], task_id: str, path: str, field: str, desc: bool, kinds: list[str]
) -> None:
    url = path.format(tid=task_id)
    sort = f"-{field}" if desc else field
    # The template is a cursor this list accepts: each refusal below is the swapped value's doing.
    ok = api.get(
        url,
        params={"sort": sort, "cursor": b64({"s": field, "d": desc, "v": [VALID[k] for k in kinds]})},
        headers=user,
    )
    assert ok.status_code == 200, ok.text
    failures = []
    for what, cursor in _cursors(field, desc, kinds):
        try:
            resp = api.get(url, params={"sort": sort, "cursor": cursor}, headers=user)
        except httpx.TransportError as exc:  # a 500 can cost the connection
            failures.append((what, type(exc).__name__, ""))
            continue
        ok_problem = (
            resp.status_code == 422
            and resp.headers["content-type"].startswith(PROBLEM_JSON)
            and ["query", "cursor"] in [e["loc"] for e in resp.json().get("errors", [])]
        )
        if not ok_problem:
            failures.append((what, resp.status_code, resp.text[:200]))
    assert not failures, failures


def test_next_cursors_still_page_through_every_list(
    api: httpx.Client, user: dict[str, str], task_id: str
) -> None:
    """The stricter decoder reads back every cursor the lists hand out (one row a page)."""
    for name in ("sup_one", "sup_two"):
        body = {"platform": "sandbox", "username": name, "reason": "manual"}
        assert api.post("/api/v1/suppressions", json=body, headers=user).status_code in (200, 201)
    second_task = {**DRAFT, "name": "inputs two", "priority": "high"}
    assert api.post("/api/v1/tasks", json=second_task, headers=user).status_code == 201
    for path, field, desc, _kinds in _sorts():
        if path.endswith("/logs") or path.endswith("/jobs"):
            continue  # no rows in this module's lists (the logs fill once a task ran)
        url, sort = path.format(tid=task_id), f"-{field}" if desc else field
        first = api.get(url, params={"sort": sort, "limit": 1}, headers=user)
        assert first.status_code == 200, first.text
        cursor = first.json()["next_cursor"]
        assert cursor, (path, sort, first.json())
        second = api.get(url, params={"sort": sort, "limit": 1, "cursor": cursor}, headers=user)
        assert second.status_code == 200, (path, sort, second.text)
        assert second.json()["items"] and second.json()["items"] != first.json()["items"]


# ------------------------------------------------------------------------------------------------ dates

EDGES = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59Z",
]


@pytest.mark.parametrize("value", EDGES)
def test_dates_at_the_calendars_edges_are_a_422(
    api: httpx.Client, user: dict[str, str], task_id: str, value: str
) -> None:
    checks: list[tuple[str, str]] = [
        ("/api/v1/tasks", "created_from"),
        ("/api/v1/tasks", "created_to"),
        (f"/api/v1/tasks/{task_id}/stats", "from"),
        (f"/api/v1/tasks/{task_id}/stats", "to"),
        (f"/api/v1/tasks/{task_id}/logs", "from"),
        (f"/api/v1/tasks/{task_id}/logs", "to"),
    ]
    for path, param in checks:
        assert_refused(api.get(path, params={param: value}, headers=user), ["query", param])


def test_a_representable_range_still_works(api: httpx.Client, user: dict[str, str], task_id: str) -> None:
    wide = {"created_from": "0002-01-01T00:00:00-12:00", "created_to": "9998-12-31T00:00:00+14:00"}
    assert api.get("/api/v1/tasks", params=wide, headers=user).status_code == 200
    week = {"from": "2026-01-01T00:00:00+03:00", "to": "2026-01-07T00:00:00+03:00"}
    assert api.get(f"/api/v1/tasks/{task_id}/stats", params=week, headers=user).status_code == 200
    assert api.get(f"/api/v1/tasks/{task_id}/logs", params=week, headers=user).status_code == 200


@pytest.mark.parametrize("value", EDGES[:2])
def test_a_schedule_at_the_calendars_edge_is_a_422_and_nothing_is_written(
    api: httpx.Client, server: Server, value: str
) -> None:
    h = server.headers()
    created = api.post("/api/v1/tasks", json={**DRAFT, "scheduled_at": value}, headers=h)
    assert_refused(created, ["body", "scheduled_at"])
    assert api.get("/api/v1/tasks", headers=h).json()["total"] == 0
    tid = api.post("/api/v1/tasks", json=DRAFT, headers=h).json()["id"]
    before = api.get(f"/api/v1/tasks/{tid}", headers=h).json()
    assert_refused(
        api.put(f"/api/v1/tasks/{tid}", json={"scheduled_at": value}, headers=h), ["body", "scheduled_at"]
    )
    assert api.get(f"/api/v1/tasks/{tid}", headers=h).json() == before


# -------------------------------------------------------------------------------------------- NUL bytes


def test_nul_bytes_in_query_strings_are_a_422(api: httpx.Client, user: dict[str, str], task_id: str) -> None:
    checks: list[tuple[str, str]] = [
        ("/api/v1/tasks", "q"),
        (f"/api/v1/tasks/{task_id}/targets", "q"),
        ("/api/v1/suppressions", "q"),
        (f"/api/v1/tasks/{task_id}/logs", "outcome"),
        (f"/api/v1/tasks/{task_id}/logs", "account_id"),
        (f"/api/v1/tasks/{task_id}/logs", "error_code"),
    ]
    for path, param in checks:
        for value in ("\x00", "abc\x00def", "%\x00_"):
            assert_refused(api.get(path, params={param: value}, headers=user), ["query", param])
    # Without the NUL the same searches answer.
    for path, param in checks:
        assert api.get(path, params={param: "abc"}, headers=user).status_code == 200


def _token(claims: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {pyjwt.encode(claims, SECRET, algorithm='HS256')}"}


def test_a_token_whose_sub_holds_a_nul_is_a_401(api: httpx.Client) -> None:
    exp = int(time.time()) + 600
    for sub in ("\x00", "user\x00admin"):
        resp = api.get("/api/v1/tasks", headers=_token({"sub": sub, "exp": exp}))
        assert_refused(resp, [], status=401)
    assert api.get("/api/v1/tasks", headers=_token({"sub": "plain-user", "exp": exp})).status_code == 200


def test_a_token_whose_exp_is_not_a_number_is_a_401(api: httpx.Client) -> None:
    future = int(time.time()) + 600
    for exp in (str(future), f"{future}.0", [future], {"t": future}, True):
        resp = api.get("/api/v1/tasks", headers=_token({"sub": "exp-user", "exp": exp}))
        assert_refused(resp, [], status=401)
    for exp in (future, future + 0.5):
        assert api.get("/api/v1/tasks", headers=_token({"sub": "exp-user", "exp": exp})).status_code == 200
    # iat and nbf are NumericDates too.
    for claim in ("iat", "nbf"):
        resp = api.get(
            "/api/v1/tasks", headers=_token({"sub": "exp-user", "exp": future, claim: str(int(time.time()))})
        )
        assert_refused(resp, [], status=401)


# ------------------------------------------------------------------------------------ null in an update


@pytest.mark.parametrize("field", ["name", "action", "priority", "platform"])
def test_null_for_a_required_field_of_an_update_is_a_422_and_nothing_changes(
    api: httpx.Client, user: dict[str, str], task_id: str, field: str
) -> None:
    before = api.get(f"/api/v1/tasks/{task_id}", headers=user).json()
    resp = api.put(f"/api/v1/tasks/{task_id}", json={field: None, "description": "changed"}, headers=user)
    assert_refused(resp, ["body", field])
    assert api.get(f"/api/v1/tasks/{task_id}", headers=user).json() == before


# ----------------------------------------------------------------------------------- start, once over


def _wait_status(api: httpx.Client, h: dict[str, str], tid: str, statuses: set[str]) -> dict[str, Any]:
    deadline = time.monotonic() + RUN_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        task = api.get(f"/api/v1/tasks/{tid}", headers=h).json()
        if task["status"] in statuses:
            return dict(task)
        time.sleep(0.05)  # polling the condition; the deadline only guards a hung run
    raise AssertionError(f"task {tid} never reached {statuses}")


def _sandbox_task(api: httpx.Client, h: dict[str, str], n: int) -> str:
    accounts = api.get("/api/v1/accounts", params={"platform": "sandbox"}, headers=h).json()["items"]
    body = {
        "name": "once over",
        "platform": "sandbox",
        "action": "invite",
        "destination": "@demo_chat",
        "account_ids": [a["id"] for a in accounts],
    }
    tid = str(api.post("/api/v1/tasks", json=body, headers=h).json()["id"])
    rows = [{"username": f"done_{uuid.uuid4().hex[:8]}"} for _ in range(n)]
    added = api.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h)
    assert added.status_code == 200, added.text
    return tid


def _assert_conflict_naming(resp: httpx.Response, status: str) -> None:
    assert resp.status_code == 409, resp.text
    assert resp.headers["content-type"].startswith(PROBLEM_JSON)
    body = resp.json()
    assert body["current_status"] == status, body
    assert status in body["detail"], body


def test_start_on_a_completed_or_cancelled_task_is_a_409_naming_its_state(
    api: httpx.Client, server: Server
) -> None:
    h = server.headers()
    done = _sandbox_task(api, h, 2)
    assert api.post(f"/api/v1/tasks/{done}/start", headers=h).status_code == 200
    finished = _wait_status(api, h, done, {"completed", "paused", "failed"})
    assert finished["status"] == "completed", finished
    _assert_conflict_naming(api.post(f"/api/v1/tasks/{done}/start", headers=h), "completed")
    assert api.get(f"/api/v1/tasks/{done}", headers=h).json() == finished

    cancelled = _sandbox_task(api, h, 1)
    assert api.post(f"/api/v1/tasks/{cancelled}/cancel", headers=h).status_code == 200
    before = api.get(f"/api/v1/tasks/{cancelled}", headers=h).json()
    _assert_conflict_naming(api.post(f"/api/v1/tasks/{cancelled}/start", headers=h), "cancelled")
    assert api.get(f"/api/v1/tasks/{cancelled}", headers=h).json() == before


# --------------------------------------------------------------------------------- NUL bytes in bodies


def test_nul_bytes_in_request_bodies_are_a_422_naming_the_field_and_nothing_is_written(
    api: httpx.Client, server: Server
) -> None:
    h = server.headers()
    tid = api.post("/api/v1/tasks", json=DRAFT, headers=h).json()["id"]
    before = api.get(f"/api/v1/tasks/{tid}", headers=h).json()
    creates: list[tuple[dict[str, Any], list[str | int]]] = [
        ({**DRAFT, "name": "a\x00b"}, ["body", "name"]),
        ({**DRAFT, "description": "a\x00b"}, ["body", "description"]),
        ({**DRAFT, "action": "message", "message_template": "hi\x00"}, ["body", "message_template"]),
    ]
    for body, loc in creates:
        assert_refused(api.post("/api/v1/tasks", json=body, headers=h), loc)
    assert api.get("/api/v1/tasks", headers=h).json()["total"] == 1
    assert_refused(api.put(f"/api/v1/tasks/{tid}", json={"name": "x\x00"}, headers=h), ["body", "name"])
    assert_refused(
        api.post(f"/api/v1/tasks/{tid}/duplicate", json={"name": "x\x00"}, headers=h), ["body", "name"]
    )
    assert api.get(f"/api/v1/tasks/{tid}", headers=h).json() == before
    assert api.get("/api/v1/tasks", headers=h).json()["total"] == 1

    # A bulk add reports the row as invalid (the others go in); a single add is a 422.
    rows = [{"username": "clean_row"}, {"username": "nul_row", "first_name": "a\x00"}]
    bulk = api.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=h)
    assert bulk.status_code == 200, bulk.text
    assert [r["result"] for r in bulk.json()["results"]] == ["created", "invalid"]
    assert bulk.json()["results"][1]["errors"][0]["loc"][-1] == "first_name"
    # A NUL in a row's key is echoed in the row's error; the answer stored for an Idempotency-Key (JSONB
    # on PostgreSQL) shows it as U+FFFD, and a replay gives the same answer.
    keyed = {**h, "Idempotency-Key": "nul-key-row"}
    rows = [{"username": "keyed_row", "fie\x00ld": 1}]
    first = api.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=keyed)
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["errors"][0]["loc"][-1] == "fie\ufffdld"
    again = api.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows}, headers=keyed)
    assert again.headers.get("Idempotent-Replayed") == "true" and again.json() == first.json()
    single = {"username": "nul_fields", "fields": {"k\x00": "v"}}
    assert_refused(api.post(f"/api/v1/tasks/{tid}/targets", json=single, headers=h), ["body", "fields"])
    assert api.get(f"/api/v1/tasks/{tid}/targets", headers=h).json()["total"] == 1

    note = {"platform": "sandbox", "username": "nul_note", "reason": "manual", "note": "x\x00"}
    assert_refused(api.post("/api/v1/suppressions", json=note, headers=h), ["body", "note"])
    assert api.get("/api/v1/suppressions", headers=h).json()["total"] == 0


def test_ids_beyond_64_bits_are_a_422(api: httpx.Client, user: dict[str, str], task_id: str) -> None:
    for big in (2**63, -(2**63) - 1, 10**30):
        if big > 0:
            get = api.get(f"/api/v1/tasks/{task_id}/targets/{big}", headers=user)
            assert_refused(get, ["path", "target_id"])
            delete = api.delete(f"/api/v1/tasks/{task_id}/targets/{big}", headers=user)
            assert_refused(delete, ["path", "target_id"])
            assert_refused(
                api.delete(f"/api/v1/suppressions/{big}", headers=user), ["path", "suppression_id"]
            )
        else:  # a path id is digits ({target_id:int}): anything else names no resource
            assert api.get(f"/api/v1/tasks/{task_id}/targets/{big}", headers=user).status_code == 404
            assert api.delete(f"/api/v1/suppressions/{big}", headers=user).status_code == 404
        action = {"action": "skip", "ids": [1, big]}
        resp = api.post(f"/api/v1/tasks/{task_id}/targets/bulk-action", json=action, headers=user)
        assert_refused(resp, ["body", "ids", 1])
    assert api.get(f"/api/v1/tasks/{task_id}/targets/{2**63 - 1}", headers=user).status_code == 404
