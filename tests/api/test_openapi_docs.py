"""What the OpenAPI document tells a reader (Swagger shows it): the bulk target row is typed, GET /accounts
is a page like every list; and the docs pages name no host but the service's own."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

pytestmark = pytest.mark.asyncio


def resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


async def test_the_bulk_target_row_is_typed_in_openapi(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    body = doc["paths"]["/api/v1/tasks/{task_id}/targets/bulk"]["post"]["requestBody"]
    bulk = resolve(doc, body["content"]["application/json"]["schema"])
    row = resolve(doc, bulk["properties"]["targets"]["items"])
    assert row.get("type") == "object"
    assert {"username", "user_id", "phone", "first_name", "last_name", "fields"} <= set(row["properties"])
    assert row["properties"]["fields"]["propertyNames"]["pattern"]
    assert bulk["properties"]["targets"]["description"]


async def test_get_accounts_is_a_page_with_the_new_fields(client: httpx.AsyncClient) -> None:
    doc = (await client.get("/openapi.json")).json()
    get = doc["paths"]["/api/v1/accounts"]["get"]
    page = resolve(doc, get["responses"]["200"]["content"]["application/json"]["schema"])
    assert {"items", "next_cursor"} <= set(page["properties"])
    account = resolve(doc, page["properties"]["items"]["items"])
    assert {"simulated", "waiting", "tasks", "usage"} <= set(account["properties"])
    assert {p["name"] for p in get["parameters"]} >= {"platform", "limit", "cursor"}


@pytest.mark.parametrize("path", ["/docs", "/redoc"])
async def test_the_docs_pages_load_only_the_services_own_files(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    urls = re.findall(r"""(?:src|href|url|spec-url)\s*[=:]\s*["']([^"']+)["']""", page.text)
    assert urls, page.text
    assert all(u.startswith("/") and not u.startswith("//") for u in urls), urls
    assert "cdn" not in page.text.lower() and "fonts.googleapis" not in page.text
