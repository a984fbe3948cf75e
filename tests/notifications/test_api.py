"""The notifications API on both databases: shapes, ownership (404), validation (422) and the feed."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable

import httpx

from invite_service.models.notifications import NotificationEventType
from invite_service.notifications.service import emit

Headers = Callable[[], dict[str, str]]


async def test_webhook_crud_and_secret_shown_once(client: httpx.AsyncClient, new_user: Headers) -> None:
    me = new_user()
    created = await client.post(
        "/api/v1/notifications/webhooks",
        json={"url": "https://93.184.215.14/hook", "description": "ops", "event_types": ["task.completed"]},
        headers=me,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert body["enabled"] is True and body["disabled_reason"] is None and body["consecutive_failures"] == 0
    assert body["event_types"] == ["task.completed"]
    one = await client.get(f"/api/v1/notifications/webhooks/{body['id']}", headers=me)
    assert one.status_code == 200 and "secret" not in one.json()
    listed = await client.get("/api/v1/notifications/webhooks", headers=me)
    assert [w["id"] for w in listed.json()] == [body["id"]] and "secret" not in listed.json()[0]
    patched = await client.patch(
        f"/api/v1/notifications/webhooks/{body['id']}", json={"event_types": [], "enabled": False}, headers=me
    )
    assert patched.status_code == 200 and patched.json()["enabled"] is False
    assert patched.json()["event_types"] == []
    gone = await client.delete(f"/api/v1/notifications/webhooks/{body['id']}", headers=me)
    assert gone.status_code == 204
    assert (await client.get(f"/api/v1/notifications/webhooks/{body['id']}", headers=me)).status_code == 404


async def test_another_users_objects_are_404(client: httpx.AsyncClient, new_user: Headers) -> None:
    owner, other = new_user(), new_user()
    hook = (
        await client.post(
            "/api/v1/notifications/webhooks", json={"url": "https://93.184.215.14/"}, headers=owner
        )
    ).json()
    channel = await client.post(
        "/api/v1/notifications/channels",
        json={"url": "json://93.184.215.14/path", "label": "x"},
        headers=owner,
    )
    assert channel.status_code == 201, channel.text
    cid = channel.json()["id"]
    for method, path, body in [
        ("GET", f"/webhooks/{hook['id']}", None),
        ("PATCH", f"/webhooks/{hook['id']}", {"description": "mine"}),
        ("DELETE", f"/webhooks/{hook['id']}", None),
        ("GET", f"/channels/{cid}", None),
        ("PATCH", f"/channels/{cid}", {"label": "mine"}),
        ("DELETE", f"/channels/{cid}", None),
        ("POST", f"/deliveries/{uuid.uuid4()}/redeliver", None),
    ]:
        answer = await client.request(method, f"/api/v1/notifications{path}", json=body, headers=other)
        assert answer.status_code == 404, (method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/notifications/webhooks", headers=other)).json() == []
    assert (await client.get("/api/v1/notifications/channels", headers=other)).json() == []
    # The owner's objects are untouched.
    assert (await client.get(f"/api/v1/notifications/webhooks/{hook['id']}", headers=owner)).json()[
        "description"
    ] == ""


async def test_private_and_non_http_urls_are_422_by_default(
    client: httpx.AsyncClient, new_user: Headers
) -> None:
    me = new_user()
    for url in [
        "http://127.0.0.1:8080/hook",
        "http://10.1.2.3/",
        "http://192.168.0.10/",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.0.1/",
        "http://[::1]/",
        "http://[fd00::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://localhost/",
        "ftp://93.184.215.14/",
        "not a url",
    ]:
        answer = await client.post("/api/v1/notifications/webhooks", json={"url": url}, headers=me)
        assert answer.status_code == 422, (url, answer.text)
        assert answer.json()["errors"][0]["loc"] == ["body", "url"]
    channel = await client.post(
        "/api/v1/notifications/channels", json={"url": "json://127.0.0.1:9/x"}, headers=me
    )
    assert channel.status_code == 422 and channel.json()["errors"][0]["loc"] == ["body", "url"]
    unknown = await client.post("/api/v1/notifications/channels", json={"url": "nope://what"}, headers=me)
    assert unknown.status_code == 422
    bad_type = await client.post(
        "/api/v1/notifications/webhooks",
        json={"url": "https://93.184.215.14/", "event_types": ["x"]},
        headers=me,
    )
    assert bad_type.status_code == 422


async def test_channel_url_is_masked(client: httpx.AsyncClient, new_user: Headers) -> None:
    me = new_user()
    answer = await client.post(
        "/api/v1/notifications/channels",
        json={"url": "mailto://someone:hunter2secret@gmail.com", "label": "mail"},
        headers=me,
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["scheme"] == "mailto"
    assert "hunter2secret" not in answer.text and "***" in body["url_masked"]


async def test_feed_starts_from_now(client: httpx.AsyncClient, new_user: Headers, app) -> None:  # type: ignore[no-untyped-def]
    me = new_user()
    user = me["X-Test-User"]
    start = await client.get("/api/v1/notifications/events", headers=me)
    assert start.status_code == 200 and start.json()["items"] == []
    last_id = start.json()["last_id"]
    async with app.state.db.session() as session:
        event = await emit(
            session, user, NotificationEventType.IMPORT_COMPLETED, {"import_id": "i", "task_id": "t"}, _now()
        )
    after = (await client.get(f"/api/v1/notifications/events?after={last_id}", headers=me)).json()
    assert [e["id"] for e in after["items"]] == [event.id] and after["last_id"] == event.id
    assert after["items"][0]["type"] == "import.completed"
    other = (await client.get(f"/api/v1/notifications/events?after={last_id}", headers=new_user())).json()
    assert other["items"] == []


def _now():  # type: ignore[no-untyped-def]
    from invite_service.kit.clock import utcnow

    return utcnow()


async def test_a_test_ping_is_a_delivery_and_not_in_the_feed(
    client: httpx.AsyncClient,
    new_user: Headers,
    app,  # type: ignore[no-untyped-def]
) -> None:
    me = new_user()
    url = "/api/v1/notifications/webhooks"
    hook = (await client.post(url, json={"url": "https://93.184.215.14/"}, headers=me)).json()
    # Disabled: the ping's job ends it as failed without going out to the network.
    await client.patch(f"{url}/{hook['id']}", json={"enabled": False}, headers=me)
    start = (await client.get("/api/v1/notifications/events", headers=me)).json()["last_id"]
    ping = await client.post(f"{url}/{hook['id']}/test", headers=me)
    assert ping.status_code == 202, ping.text
    assert ping.json()["event_type"] == "notification.test" and ping.json()["endpoint_id"] == hook["id"]
    async with asyncio.timeout(30):  # its job finishes inside this test's event loop
        await app.state.runner.wait_idle()
    log = (await client.get(f"/api/v1/notifications/deliveries?endpoint_id={hook['id']}", headers=me)).json()
    assert [d["id"] for d in log["items"]] == [ping.json()["id"]] and log["total"] == 1
    assert (
        log["items"][0]["status"] == "failed" and log["items"][0]["last_error"] == "the endpoint is disabled"
    )
    feed = (await client.get(f"/api/v1/notifications/events?after={start}", headers=me)).json()
    assert feed["items"] == []
    assert (await client.get("/api/v1/notifications/deliveries", headers=new_user())).json()["total"] == 0
