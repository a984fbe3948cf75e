# ruff: noqa: RUF001  (Russian sentences are Cyrillic on purpose)
"""Failures explain themselves (issue 15 §2, §3): the reasons catalogue covers every error code the code
base can record, in English and Russian; the targets list filters by error code; the report's ``reason``
column speaks the language asked; the live log names the target and the account.

The set of codes is found by reading the source (``ast``), not copied here, so a new code without a
sentence fails this test."""

from __future__ import annotations

import ast
import csv
import importlib
import io
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import openpyxl
import pytest

from invite_service.adapters.telegram.error_table import TELEGRAM_ERRORS
from invite_service.sandbox.model import TargetFate
from invite_service.statistics.reasons import REASONS, sentence
from tests.execution.harness import Harness, name_with

SRC = Path(__file__).resolve().parents[2] / "src"
# Calls whose first code-like string argument is an error code: the adapters' result makers, the
# Integration Service client's exceptions, the simulator's RPC errors, the Integration Service's answers.
# (where, the call): Integration Service answers are ``error(status, "CODE", ...)``.
CODE_CALLS = frozenset(
    {
        ("invite_service.adapters", "Retryable"),
        ("invite_service.adapters", "IntegrationProtocolError"),
        ("invite_service.sandbox", "_uncertain"),
        ("invite_service.sandbox", "RpcError"),
        ("integration_service", "error"),
    }
)
CODE_LIKE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


def _python_files() -> Iterator[tuple[str, ast.Module]]:
    for root in ("invite_service", "integration_service"):
        for path in sorted((SRC / root).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = ".".join(path.relative_to(SRC).with_suffix("").parts).removesuffix(".__init__")
            yield module, ast.parse(path.read_text(encoding="utf-8"))


def _code(value: object) -> str | None:
    if isinstance(value, str) and value and (set(value) <= CODE_LIKE or (value.islower() and "_" in value)):
        return value
    return None


def _resolve(module: str, name: str) -> object:
    return getattr(importlib.import_module(module), name, None)


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def recordable_codes() -> set[str]:
    """Every error code the source can record on a target or a log row (see the module docstring)."""
    codes: set[str] = set(TELEGRAM_ERRORS)
    for module, tree in _python_files():
        for node in ast.walk(tree):
            # error_code="suppressed" / error_code=NO_CHANGE_CODE, and {"error_code": "..."}
            if isinstance(node, ast.keyword) and node.arg == "error_code":
                if isinstance(node.value, ast.Constant):
                    codes.add(str(node.value.value))
                elif isinstance(node.value, ast.Name) and isinstance(_resolve(module, node.value.id), str):
                    codes.add(str(_resolve(module, node.value.id)))
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if (
                        isinstance(key, ast.Constant)
                        and key.value == "error_code"
                        and isinstance(value, ast.Constant)
                    ):
                        codes.add(str(value.value))
            if isinstance(node, ast.Call) and any(
                module.startswith(where) and _call_name(node) == name for where, name in CODE_CALLS
            ):
                args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
                if _call_name(node) == "error":  # error(status, code, detail); log.error("event") is not
                    args = args[1:2] if args and isinstance(args[0], int) else []
                found = [c for value in args if (c := _code(value))]
                codes.update(found[:1])
            # A function that decides an error code returns it (policy.kept_error -> HANDED_TO_PREMIUM).
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.endswith("_error"):
                for ret in ast.walk(node):
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Name):
                        value = _resolve(module, ret.value.id)
                        if isinstance(value, str) and _code(value):
                            codes.add(value)
        # Module-level tables of codes: SERVICE_ERROR_CODES, the simulator's RPC_ERROR_CODES, ...
        for stmt in tree.body:
            targets = (
                stmt.targets
                if isinstance(stmt, ast.Assign)
                else [stmt.target]
                if isinstance(stmt, ast.AnnAssign)
                else []
            )
            for target in targets:
                if isinstance(target, ast.Name) and target.id.endswith(("_CODE", "_CODES")):
                    value = _resolve(module, target.id)
                    items = (
                        [value]
                        if isinstance(value, str)
                        else list(value)
                        if isinstance(value, dict | frozenset | set)
                        else []
                    )
                    codes.update(str(v) for v in items if _code(v))
    codes.discard("None")
    return codes


def test_the_catalogue_covers_every_code_the_code_base_can_record() -> None:
    codes = recordable_codes()
    # The scan finds what each layer records: Telegram's table, the engine's own, the adapters', the
    # Integration Service's and the simulator's.
    for sample in (
        "FLOOD_WAIT_X",
        "PEER_FLOOD",
        "suppressed",
        "DELIVERY_UNKNOWN",
        "NOT_SENT",
        "HANDED_TO_PREMIUM",
        "MISSING_INVITEE_PRIVACY",
        "INVITE_NO_CHANGE",
        "IDEMPOTENCY_KEY_MISMATCH",
        "ACTIVE_USER_REQUIRED",
        "UNAVAILABLE",
        "cancelled",
        "skipped_by_user",
    ):
        assert sample in codes, sample
    missing = sorted(codes - set(REASONS))
    assert not missing, f"codes with no sentence in statistics/reasons.py: {missing}"


def test_every_sentence_is_written_in_both_languages() -> None:
    for code, (kind, en, ru) in REASONS.items():
        assert kind in {"success", "benign", "retryable", "final"}, code
        assert en.strip() and ru.strip(), code
        assert en != ru and any("а" <= ch.lower() <= "я" for ch in ru), f"{code}: not Russian"
        if code.isupper():
            assert code not in en and code not in ru, f"{code}: a sentence for people, not the code again"


def test_a_numbered_status_code_reads_as_its_family() -> None:
    # ``HTTP_{status}`` (adapters/telegram/errors.py) is built at run time: every server status reads as one.
    assert sentence("HTTP_599", "ru") == REASONS["HTTP_500"][2]
    assert sentence("HTTP_-500") == REASONS["HTTP_500"][1]
    assert sentence("SOMETHING_NEW") == "SOMETHING_NEW"  # unknown: the code itself, as the UI does
    assert sentence(None) == ""


@pytest.mark.asyncio
async def test_meta_reasons_serves_the_catalogue_to_a_signed_in_user(
    client: httpx.AsyncClient, new_user
) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/api/v1/meta/reasons")).status_code == 401
    resp = await client.get("/api/v1/meta/reasons", headers=new_user())
    assert resp.status_code == 200, resp.text
    reasons = {r["code"]: r for r in resp.json()["reasons"]}
    assert set(reasons) == set(REASONS)
    # Benign outcomes are not failures; a privacy refusal or a deleted user cannot be retried;
    # a platform wait or an account problem can.
    assert reasons["USER_ALREADY_PARTICIPANT"]["kind"] == "benign"
    assert reasons["suppressed"]["kind"] == "benign"
    assert reasons["USER_PRIVACY_RESTRICTED"]["kind"] == "final"
    assert reasons["INPUT_USER_DEACTIVATED"]["kind"] == "final"
    assert reasons["FLOOD_WAIT_X"]["kind"] == "retryable"
    assert reasons["PEER_FLOOD"]["kind"] == "retryable"
    assert reasons["USER_PRIVACY_RESTRICTED"]["ru"].startswith("Настройки приватности")


# -- a finished run: targets, logs and report -------------------------------------------------


FATES = {
    "ok": TargetFate.OK,
    "privacy": TargetFate.PRIVACY,
    "deleted": TargetFate.DELETED,
    "member": TargetFate.ALREADY_MEMBER,
}


@pytest.fixture
async def finished(h: Harness) -> dict[str, Any]:
    """An invite task of two labelled accounts and targets of known fates, run to completion."""
    accounts = await h.accounts(2)
    names = {label: [name_with(fate, f"{label}{i}_") for i in range(2)] for label, fate in FATES.items()}
    tid = await h.task(0, accounts, usernames=[n for group in names.values() for n in group])
    await h.control(tid, "start")
    assert await h.run_until([tid], {"completed"}, horizon=timedelta(hours=2))
    return {"tid": tid, "names": names, "accounts": accounts}


async def _all(api: httpx.AsyncClient, path: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 5, **({"cursor": cursor} if cursor else {})}
        resp = await api.get(path, params=query)
        assert resp.status_code == 200, resp.text
        items += resp.json()["items"]
        cursor = resp.json()["next_cursor"]
        if cursor is None:
            return items


@pytest.mark.asyncio
async def test_the_error_code_filter_narrows_the_targets(
    api: httpx.AsyncClient, finished: dict[str, Any]
) -> None:
    tid, names = finished["tid"], finished["names"]
    everyone = await _all(api, f"/api/v1/tasks/{tid}/targets")
    assert len(everyone) == 8
    privacy = await _all(api, f"/api/v1/tasks/{tid}/targets", error_code="USER_PRIVACY_RESTRICTED")
    assert {t["username"] for t in privacy} == {n.lower() for n in names["privacy"]}
    assert all(t["error_code"] == "USER_PRIVACY_RESTRICTED" and t["status"] == "failed" for t in privacy)
    # Combined with the other filters, and the page's total follows it.
    page = await api.get(
        f"/api/v1/tasks/{tid}/targets", params={"error_code": "INPUT_USER_DEACTIVATED", "status": "failed"}
    )
    assert page.json()["total"] == 2
    assert {t["username"] for t in page.json()["items"]} == {n.lower() for n in names["deleted"]}
    none = await api.get(
        f"/api/v1/tasks/{tid}/targets", params={"error_code": "INPUT_USER_DEACTIVATED", "status": "invited"}
    )
    assert none.json()["total"] == 0
    # An unknown code is an empty page, not an error.
    unknown = await api.get(f"/api/v1/tasks/{tid}/targets", params={"error_code": "NO_SUCH_CODE"})
    assert unknown.status_code == 200 and unknown.json() == {"items": [], "next_cursor": None, "total": 0}


@pytest.mark.asyncio
async def test_the_log_names_the_target_and_the_account(
    api: httpx.AsyncClient, h: Harness, finished: dict[str, Any]
) -> None:
    tid, accounts = finished["tid"], finished["accounts"]
    targets = {t["id"]: t for t in await _all(api, f"/api/v1/tasks/{tid}/targets")}
    labels = {
        lane["account_id"]: lane["label"] for lane in (await api.get(f"/api/v1/tasks/{tid}/lanes")).json()
    }
    assert all(labels[a] for a in accounts)
    logs = await _all(api, f"/api/v1/tasks/{tid}/logs")
    assert len(logs) >= 8
    for entry in logs:
        assert entry["target"] == targets[entry["target_id"]]["key"]  # as the targets list shows it
        assert entry["account_label"] == labels[entry["account_id"]]
    # Filter by account: only that account's rows, each with its label.
    mine = await _all(api, f"/api/v1/tasks/{tid}/logs", account_id=accounts[0])
    assert mine and {e["account_id"] for e in mine} == {accounts[0]}
    assert len(mine) < len(logs) or {e["account_id"] for e in logs} == {accounts[0]}


def _csv(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8-sig"))))


@pytest.mark.asyncio
async def test_the_report_reason_column_speaks_english_or_russian(
    api: httpx.AsyncClient, finished: dict[str, Any]
) -> None:
    tid, names = finished["tid"], finished["names"]
    privacy = {n.lower() for n in names["privacy"]}
    en = _csv((await api.get(f"/api/v1/tasks/{tid}/report", params={"format": "csv"})).content)
    ru = _csv((await api.get(f"/api/v1/tasks/{tid}/report", params={"format": "csv", "lang": "ru"})).content)
    assert len(en) == len(ru) == 8
    header = list(en[0])
    assert header.index("reason") == header.index("error_code") + 1
    for row_en, row_ru in zip(en, ru, strict=True):
        code = row_en["error_code"]
        if code:
            assert row_en["reason"] == REASONS[code][1]
            assert row_ru["reason"] == REASONS[code][2]
        else:
            assert row_en["reason"] == row_ru["reason"] == ""
    by_name = {row["username"]: row for row in ru}
    for name in privacy:
        assert (
            by_name[name]["reason"]
            == "Настройки приватности этого человека не позволяют добавлять его в чаты."
        )

    xlsx = await api.get(f"/api/v1/tasks/{tid}/report", params={"format": "xlsx", "lang": "ru"})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)["Targets"]
    rows = list(sheet.iter_rows(values_only=True))
    head = list(rows[0])
    cells = {row[head.index("username")]: row for row in rows[1:]}
    for name in privacy:
        assert cells[name][head.index("reason")] == REASONS["USER_PRIVACY_RESTRICTED"][2]
    # Bad language: a 422, not a silent English.
    bad = await api.get(f"/api/v1/tasks/{tid}/report", params={"format": "csv", "lang": "de"})
    assert bad.status_code == 422
    assert uuid.UUID(str(tid))
