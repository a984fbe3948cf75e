"""A new user's first walk, over real HTTP against a running server."""

from __future__ import annotations

from pathlib import Path

import httpx


def test_new_user_walkthrough(server: tuple[str, Path]) -> None:
    base, log_path = server
    with httpx.Client(base_url=base, timeout=10) as http:
        assert http.get("/health").json() == {"status": "ok"}
        detailed = http.get("/api/v1/health/detailed")
        assert detailed.status_code == 200
        assert detailed.json()["checks"]["database"]["status"] == "ok"

        assert http.get("/api/v1/tasks").status_code == 401
        login = http.post("/api/v1/auth/dev-login", json={"user": "walker"})
        assert login.status_code == 200
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"

        created = http.post(
            "/api/v1/tasks",
            json={
                "name": "Conference attendees",
                "action": "invite_or_message",
                "destination": "https://t.me/conf_chat",
                "message_template": "Hi {first_name}, join us: {link}",
                "platform": "sandbox",
                "settings": {
                    "send_window": {
                        "days": [0, 1, 2, 3, 4],
                        "start": "09:00",
                        "end": "18:00",
                        "timezone": "Asia/Yekaterinburg",
                    }
                },
            },
        )
        assert created.status_code == 201, created.text
        task = created.json()
        tid = task["id"]
        assert created.headers["X-Request-ID"]

        rows = [
            {"username": f"guest_{i:02d}", "first_name": f"Guest{i}", "fields": {"link": "t.me/x"}}
            for i in range(12)
        ]
        rows.append({"phone": "not-a-phone"})
        bulk = http.post(f"/api/v1/tasks/{tid}/targets/bulk", json={"targets": rows})
        assert bulk.status_code == 200
        out = bulk.json()
        assert (out["created"], out["invalid"]) == (12, 1)
        assert out["results"][12]["errors"][0]["loc"] == ["body", "targets", 12, "phone"]

        first = http.get(f"/api/v1/tasks/{tid}/targets", params={"limit": 5}).json()
        second = http.get(
            f"/api/v1/tasks/{tid}/targets", params={"limit": 5, "cursor": first["next_cursor"]}
        ).json()
        assert first["total"] == 12
        assert {t["id"] for t in first["items"]}.isdisjoint({t["id"] for t in second["items"]})
        found = http.get(f"/api/v1/tasks/{tid}/targets", params={"q": "guest_1"}).json()
        assert found["total"] == 2  # guest_10 and guest_11

        listed = http.get("/api/v1/tasks", params={"action": "invite_or_message", "q": "conference"}).json()
        assert [t["id"] for t in listed["items"]] == [tid]

        dup = http.post(f"/api/v1/tasks/{tid}/duplicate", json={"include_targets": True})
        assert dup.status_code == 201
        assert dup.json()["counters"]["pending"] == 12

        edited = http.put(f"/api/v1/tasks/{tid}", json={"name": "Conference 2026", "priority": "high"})
        assert edited.status_code == 200
        assert edited.json()["priority"] == "high"

        assert http.delete(f"/api/v1/tasks/{tid}").status_code == 204
        assert http.get(f"/api/v1/tasks/{tid}").status_code == 404
        remaining = http.get("/api/v1/tasks").json()
        assert [t["id"] for t in remaining["items"]] == [dup.json()["id"]]

    log = log_path.read_text()
    assert login.json()["access_token"] not in log
