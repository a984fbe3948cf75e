"""The OpenAPI document declares the problem+json error answers, and real error bodies match it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import httpx

from invite_service.errors import PROBLEM_JSON
from tests.invite_tasks.test_endpoints import create

JsonSchema = dict[str, Any]
NewUser = Callable[[], dict[str, str]]


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    resp = await client.get("/openapi.json")
    assert resp.status_code == 200, resp.text
    return dict(resp.json())


def resolve(doc: dict[str, Any], schema: JsonSchema) -> JsonSchema:
    ref = schema.get("$ref")
    if ref is None:
        return schema
    assert ref.startswith("#/components/schemas/"), ref
    return dict(doc["components"]["schemas"][ref.rsplit("/", 1)[1]])


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


def violations(doc: dict[str, Any], schema: JsonSchema, value: Any, at: str = "$") -> list[str]:
    """The subset of JSON Schema the document uses (type, properties, required, items, anyOf, $ref).

    Stricter than the schema on one point: an object may hold only the properties it declares.
    """
    schema = resolve(doc, schema)
    if "anyOf" in schema:
        if any(not violations(doc, option, value, at) for option in schema["anyOf"]):
            return []
        return [f"{at}: {value!r} matches none of {schema['anyOf']}"]
    kind = schema.get("type")
    if kind is not None:
        ok = isinstance(value, _TYPES[kind]) and not (
            kind in {"integer", "number"} and isinstance(value, bool)
        )
        if not ok:
            return [f"{at}: {value!r} is not {kind}"]
    found: list[str] = []
    if isinstance(value, dict):
        props: dict[str, JsonSchema] = schema.get("properties", {})
        found += [f"{at}: {key} is required" for key in schema.get("required", []) if key not in value]
        found += [f"{at}: {key} is not declared" for key in value if key not in props]
        for key, item in value.items():
            if key in props:
                found += violations(doc, props[key], item, f"{at}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            found += violations(doc, schema["items"], item, f"{at}[{i}]")
    return found


def problem_schema(doc: dict[str, Any], path: str, method: str, status: int) -> JsonSchema:
    answer = doc["paths"][path][method]["responses"][str(status)]
    assert list(answer["content"]) == [PROBLEM_JSON], answer
    schema: JsonSchema = answer["content"][PROBLEM_JSON]["schema"]
    assert schema == {"$ref": "#/components/schemas/Problem"}
    return schema


async def test_errors_are_declared_as_problem_json(client: httpx.AsyncClient) -> None:
    doc = await openapi(client)
    problem_schema(doc, "/api/v1/tasks", "post", 422)
    problem_schema(doc, "/api/v1/tasks/{task_id}", "get", 404)
    problem_schema(doc, "/api/v1/tasks/{task_id}", "get", 401)
    problem_schema(doc, "/api/v1/tasks/{task_id}/start", "post", 409)
    problem_schema(doc, "/api/v1/import/file", "post", 413)
    schemas = doc["components"]["schemas"]
    assert set(schemas["Problem"]["required"]) == {"type", "title", "status", "detail", "code", "instance"}
    # FastAPI's own 422 shape is not what the service sends, so it is not in the document.
    assert "HTTPValidationError" not in schemas
    assert "ValidationError" not in schemas
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if status.startswith("4"):
                    assert list(answer.get("content", {})) == [PROBLEM_JSON], (method, path, status)


async def test_a_real_422_matches_the_declared_problem(client: httpx.AsyncClient, new_user: NewUser) -> None:
    doc = await openapi(client)
    schema = problem_schema(doc, "/api/v1/tasks", "post", 422)
    resp = await client.post("/api/v1/tasks", json={"platform": "telegram", "mystery": 1}, headers=new_user())
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"] == PROBLEM_JSON
    body = resp.json()
    assert violations(doc, schema, body) == []
    assert body["code"] == "validation_error"
    assert body["instance"] == "/api/v1/tasks"
    assert body["request_id"] == resp.headers["X-Request-ID"]
    locs = [e["loc"] for e in body["errors"]]
    assert ["body", "name"] in locs
    assert ["body", "mystery"] in locs
    assert all(set(e) == {"loc", "msg", "type"} for e in body["errors"])


async def test_a_real_404_and_401_match_the_declared_problem(
    client: httpx.AsyncClient, new_user: NewUser
) -> None:
    doc = await openapi(client)
    path = f"/api/v1/tasks/{uuid.uuid4()}"
    missing = await client.get(path, headers=new_user())
    assert missing.status_code == 404, missing.text
    assert violations(doc, problem_schema(doc, "/api/v1/tasks/{task_id}", "get", 404), missing.json()) == []
    assert "errors" not in missing.json()  # left out, never null
    anonymous = await client.get(path)
    assert anonymous.status_code == 401, anonymous.text
    assert violations(doc, problem_schema(doc, "/api/v1/tasks/{task_id}", "get", 401), anonymous.json()) == []


async def test_a_real_409_with_its_extension_matches_the_declared_problem(
    client: httpx.AsyncClient, new_user: NewUser
) -> None:
    doc = await openapi(client)
    headers = new_user()
    task = await create(client, headers)
    resp = await client.post(f"/api/v1/tasks/{task['id']}/pause", headers=headers)
    assert resp.status_code == 409, resp.text
    schema = problem_schema(doc, "/api/v1/tasks/{task_id}/pause", "post", 409)
    assert violations(doc, schema, resp.json()) == []
    assert resp.json()["current_status"] == "draft"


def test_the_checker_finds_what_does_not_match() -> None:
    doc = {"components": {"schemas": {"E": {"type": "object", "properties": {"loc": {"type": "array"}}}}}}
    schema = {"type": "object", "required": ["a"], "properties": {"e": {"$ref": "#/components/schemas/E"}}}
    found = violations(doc, schema, {"e": {"loc": "x"}, "b": 1})
    assert found == ["$: a is required", "$: b is not declared", "$.e.loc: 'x' is not array"]
