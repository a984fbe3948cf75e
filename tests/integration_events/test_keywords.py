"""Opt-out keyword matching: the whole normalised reply, or a keyword then a space or punctuation."""

# ruff: noqa: RUF001 - the Russian replies are meant.

from __future__ import annotations

import pytest

from invite_service.config import Settings
from invite_service.integration_events.keywords import is_opt_out

DEFAULTS = Settings().opt_out_keywords


@pytest.mark.parametrize(
    "text",
    [
        "СТОП",
        "stop.",
        "STOP",
        "Stop!!!",
        "stop, please",
        "Не пишите мне",
        "не пишите!",
        "отписаться",
        "«Стоп»",
    ],
)
def test_opt_out(text: str) -> None:
    assert is_opt_out(text, DEFAULTS)


@pytest.mark.parametrize("text", ["stopwatch", "стопка", "don't stop", "", "...", "unsubscribed?"])
def test_not_opt_out(text: str) -> None:
    assert not is_opt_out(text, DEFAULTS)


def test_keywords_come_from_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INVITE_OPT_OUT_KEYWORDS", "halt, leave me alone")
    keywords = Settings().opt_out_keywords
    assert keywords == ["halt", "leave me alone"]
    assert is_opt_out("Leave me alone.", keywords)
    assert not is_opt_out("stop", keywords)
