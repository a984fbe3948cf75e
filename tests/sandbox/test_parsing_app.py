"""The sandbox Parsing Service: deterministic pages of any size, the contract's shapes, auth, faults."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import jwt
import pytest

from invite_service.imports.parsing_client import ResultsPage
from invite_service.sandbox.parsing_app import ParsingSandbox, create_parsing_app

pytestmark = pytest.mark.asyncio
SECRET = "sandbox-parsing-secret-0123456789abcdef"


def token(**overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "iss": "invite-service",
        "sub": "invite-service",
        "aud": "parsing-service",
        "iat": now,
        "exp": now + 60,
    }
    claims.update(overrides)
    return jwt.encode(claims, str(overrides.pop("key", SECRET)), algorithm="HS256")


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    app = create_parsing_app(seed=3, token_secret=SECRET)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://parsing",
        headers={"Authorization": f"Bearer {token()}"},
    ) as client:
        yield client


async def all_pages(http: httpx.AsyncClient, task: str, limit: int) -> list[ResultsPage]:
    pages: list[ResultsPage] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        resp = await http.get(f"/v1/tasks/{task}/results", params=params)
        assert resp.status_code == 200, resp.text
        pages.append(ResultsPage.model_validate_json(resp.content))
        cursor = pages[-1].next_cursor
        if cursor is None:
            return pages


async def test_pages_cover_the_task_once_in_order(http: httpx.AsyncClient) -> None:
    pages = await all_pages(http, "members-2500", 1000)
    assert [len(p.items) for p in pages] == [1000, 1000, 500]
    assert {p.total for p in pages} == {2500}
    ids = [u.user_id for p in pages for u in p.items]
    assert len(set(ids)) == 2500
    assert ids == sorted(ids)  # stable order
    users = [u for p in pages for u in p.items]
    assert sum(u.is_bot for u in users) == 50
    deleted = [u for u in users if u.is_deleted]
    assert len(deleted) == 25
    assert all(u.username is None and u.phone is None for u in deleted)
    assert 0.6 < sum(u.username is not None for u in users) / 2500 < 0.8
    assert 0.2 < sum(u.phone is not None for u in users) / 2500 < 0.4
    # What an import keeps: the people, neither bots nor deleted accounts.
    kept = ParsingSandbox(seed=3).expected("members-2500")
    assert [u["user_id"] for u in kept] == [u.user_id for u in users if not u.is_bot and not u.is_deleted]


async def test_deterministic_per_seed_and_task(http: httpx.AsyncClient) -> None:
    first = (await all_pages(http, "demo-300", 300))[0]
    again = await all_pages(http, "demo-300", 100)
    assert [u for p in again for u in p.items] == first.items
    other_seed = ParsingSandbox(seed=4).user("demo-300", 5)
    assert other_seed != ParsingSandbox(seed=3).user("demo-300", 5)
    assert ParsingSandbox(seed=3).user("demo-300", 5) == first.items[5].model_dump()


async def test_sizes_unknown_tasks_and_bad_cursors(http: httpx.AsyncClient) -> None:
    empty = await http.get("/v1/tasks/demo-0/results")
    assert empty.json() == {"items": [], "next_cursor": None, "total": 0}
    assert (await http.get("/v1/tasks/no-size/results")).status_code == 404
    assert (await http.get("/v1/tasks/demo-10/results", params={"limit": 1001})).status_code == 422
    page = (await http.get("/v1/tasks/demo-10/results", params={"limit": 4})).json()
    foreign = await http.get("/v1/tasks/other-10/results", params={"cursor": page["next_cursor"]})
    assert (foreign.status_code, foreign.json()["code"]) == (400, "VALIDATION_ERROR")
    assert (await http.get("/v1/tasks/demo-10/results", params={"cursor": "%%%"})).status_code == 400


async def test_service_token_is_required(http: httpx.AsyncClient) -> None:
    assert (await http.get("/health", headers={"Authorization": ""})).status_code == 200
    url = "/v1/tasks/demo-5/results"
    assert (await http.get(url, headers={"Authorization": ""})).status_code == 401
    for bad in (
        token(aud="integration-service"),
        token(exp=int(time.time()) - 120),
        token(key="wrong-secret-0123456789abcdef-padding"),
    ):
        resp = await http.get(url, headers={"Authorization": f"Bearer {bad}"})
        assert (resp.status_code, resp.json()["code"]) == (401, "UNAUTHORIZED")


async def test_fault_injection(http: httpx.AsyncClient) -> None:
    url = "/v1/tasks/demo-50/results"
    resp = await http.post("/admin/faults", json={"after": 1, "fail_next": 2, "fail_status": 502})
    assert resp.status_code == 200
    assert [(await http.get(url)).status_code for _ in range(4)] == [200, 502, 502, 200]
    await http.post("/admin/faults", json={"fail_next": 1, "fail_status": 429, "retry_after": 7})
    throttled = await http.get(url)
    assert (throttled.status_code, throttled.headers["Retry-After"], throttled.json()["code"]) == (
        429,
        "7",
        "THROTTLED",
    )
    await http.post("/admin/faults", json={"broken_next": 1})
    broken = await http.get(url)
    assert broken.status_code == 200
    with pytest.raises(ValueError, match=r"Invalid JSON|EOF"):
        ResultsPage.model_validate_json(broken.content)
    await http.post("/admin/faults", json={"broken_next": 1, "broken": "missing_fields"})
    with pytest.raises(ValueError, match="Field required"):
        ResultsPage.model_validate_json((await http.get(url)).content)
    await http.post("/admin/faults", json={"delay_next": 1, "delay_seconds": 0.01})
    assert (await http.get(url)).status_code == 200
    stats = (await http.get("/admin/stats")).json()
    assert stats == {"result_calls": 8, "faults_served": 6}
    assert (await http.delete("/admin/faults")).status_code == 204
    assert (await http.get(url)).status_code == 200
