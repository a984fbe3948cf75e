"""Shared steps of the audience tests: make an audience, add contacts, list them."""

from __future__ import annotations

from typing import Any

import httpx

URL = "/api/v1/audiences"


async def new_audience(
    client: httpx.AsyncClient, headers: dict[str, str], name: str = "Customers", platform: str = "telegram"
) -> dict[str, Any]:
    resp = await client.post(URL, json={"platform": platform, "name": name}, headers=headers)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


async def add_contacts(
    client: httpx.AsyncClient, headers: dict[str, str], audience_id: str, *rows: dict[str, Any], **body: Any
) -> dict[str, Any]:
    resp = await client.post(
        f"{URL}/{audience_id}/contacts", json={"contacts": list(rows), **body}, headers=headers
    )
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


async def contacts(
    client: httpx.AsyncClient, headers: dict[str, str], audience_id: str, **params: Any
) -> list[dict[str, Any]]:
    resp = await client.get(f"{URL}/{audience_id}/contacts", params=params, headers=headers)
    assert resp.status_code == 200, resp.text
    return list(resp.json()["items"])
