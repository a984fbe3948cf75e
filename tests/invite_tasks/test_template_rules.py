"""The template rules themselves (no database): fallbacks, the brace rules kept from ``str.format``, and the
unknown-placeholder rule with its suggestion. ``frontend/src/lib/template.ts`` mirrors these rules."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from invite_service.invite_tasks.template import (
    FALLBACK_MAX,
    Placeholder,
    TemplateError,
    parse,
    placeholders,
    render,
    required_fields,
    unknown_placeholders,
)

HI = "Привет, {first_name|друг}!"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"first_name": "Анна"}, "Привет, Анна!"),  # present: the value
        ({"first_name": ""}, "Привет, друг!"),  # empty: the fallback
        ({"first_name": None}, "Привет, друг!"),  # null: the fallback
        ({}, "Привет, друг!"),  # missing: the fallback
    ],
)
def test_fallback_renders_when_the_field_is_empty_or_missing(
    fields: dict[str, object], expected: str
) -> None:
    assert render(HI, fields) == expected


def test_without_fallback_a_missing_field_is_empty_and_each_occurrence_keeps_its_own() -> None:
    template = "{first_name|friend}, {first_name}, {city|}{city|there}"
    assert render(template, {}) == "friend, , there"
    assert render(template, {"first_name": "Ann", "city": "Oslo"}) == "Ann, Ann, OsloOslo"
    assert parse("{a|x:y!z }") == [Placeholder("a", "x:y!z ")]  # ':' and '!' are fallback text
    assert required_fields(template) == ["first_name"]
    assert placeholders(template) == ["first_name", "city"]


def test_literal_braces_around_a_fallback_stay_literal() -> None:
    assert render("{{first_name|x}}", {"first_name": "A"}) == "{first_name|x}"
    assert render("{{{first_name|x}}}", {}) == "{x}"


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{first_name|a|b}", "a fallback may not contain '{', '}' or '|'"),
        ("{first_name|{x}}", "unexpected '{' in field name"),
        ("{first_name|x", "expected '}' before end of string"),
        ("{1abc|x}", "must be a plain field name"),
        ("{|x}", "must be a plain field name"),
        ("{" + "x" * 65 + "|y}", "must be a plain field name"),
    ],
)
def test_malformed_fallbacks_are_refused(template: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message.replace("|", r"\|").replace("{", r"\{")):
        parse(template)


def test_a_fallback_is_at_most_100_characters() -> None:
    assert render("{a|" + "я" * FALLBACK_MAX + "}", {}) == "я" * FALLBACK_MAX
    with pytest.raises(TemplateError, match="at most 100"):
        parse("{a|" + "я" * (FALLBACK_MAX + 1) + "}")


# The cases frontend/src/lib/template.test.ts checks: without '|' the rules are str.format's, messages too.
VALID = [
    ("Hello {first_name}!", ["first_name"], "Hello Anna!"),
    ("{{literal}} and {name}", ["name"], "{literal} and N"),
    ("}}{{", [], "}{"),
    ("{first_name} {first_name}", ["first_name"], "Anna Anna"),
    ("{_x1}", ["_x1"], ""),
    ("{{{a}}}", ["a"], "{A}"),
    ("", [], ""),
]
INVALID = [
    ("Hi {", "malformed template: Single '{' encountered in format string"),
    ("Hi }", "malformed template: Single '}' encountered in format string"),
    ("{}", "empty placeholder '{}': name a field, e.g. {first_name}"),
    ("{0}", "placeholder {0} must be a plain field name (letters, digits, _)"),
    ("{a.b}", "placeholder {a.b} must be a plain field name (letters, digits, _)"),
    ("{a!r}", "placeholder {a} may not have a format spec or conversion"),
    ("{a:>10}", "placeholder {a} may not have a format spec or conversion"),
    ("{a!}", "malformed template: unmatched '{' in format spec"),
    ("{a{b}}", "malformed template: unexpected '{' in field name"),
    ("{é}", "placeholder {é} must be a plain field name (letters, digits, _)"),
]


@pytest.mark.parametrize(("template", "names", "rendered"), VALID)
def test_the_old_rules_still_hold(template: str, names: list[str], rendered: str) -> None:
    assert placeholders(template) == names
    assert render(template, {"first_name": "Anna", "a": "A", "name": "N"}) == rendered


@pytest.mark.parametrize(("template", "message"), INVALID)
def test_the_old_refusals_still_hold(template: str, message: str) -> None:
    with pytest.raises(TemplateError) as caught:
        parse(template)
    assert str(caught.value).startswith(message)


def _formatter_verdict(template: str) -> tuple[str, object]:
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError:
        return ("malformed", None)
    # ``parse`` takes any character as a conversion, a brace too ("{!{}", which ``format`` then refuses):
    # a brace there is a stray brace, malformed; other conversions fall to the field rules.
    if any(conv in ("{", "}") for _text, _field, _spec, conv in parsed):
        return ("malformed", None)
    return ("ok", [(text, field) for text, field, _spec, _conv in parsed])


@given(st.text(alphabet="{}ab_:!.0 ", max_size=12))
def test_without_a_pipe_the_parser_agrees_with_str_format(template: str) -> None:
    """Malformed for ``str.format`` exactly when malformed here; a valid one renders as ``format_map``."""
    verdict, _ = _formatter_verdict(template)
    refusal: str | None = None
    try:
        names = placeholders(template)
    except TemplateError as exc:
        refusal = str(exc)
    if refusal is not None:
        # Only the field rules (plain names, no spec) may refuse what format accepts, and what format
        # finds malformed is refused as malformed (before any field rule), as the old parser did.
        assert ("malformed" in refusal) == (verdict == "malformed")
        return
    assert verdict == "ok"
    values = {name: name.upper() for name in names}
    assert render(template, values) == template.format_map(values)


def test_unknown_placeholders_name_the_closest_known_field() -> None:
    # With targets: only the standard fields and the fields some target has.
    [typo] = unknown_placeholders("Hi {frist_name}", ["city"])
    assert (typo.name, typo.suggestion) == ("frist_name", "first_name")
    assert typo.message == "{frist_name} is not a field any target has; did you mean {first_name}?"
    [near_custom] = unknown_placeholders("in {cty}", ["city", "email"])
    assert near_custom.suggestion == "city"
    [far] = unknown_placeholders("{crm_identifier}", ["city"])
    assert "add a fallback ({crm_identifier|text})" in far.message
    assert unknown_placeholders("{city} {first_name} {username}", ["city"]) == []
    assert unknown_placeholders("{crm_id|}", ["city"]) == []  # a fallback makes any name safe
    # Without targets yet: any name but a near miss of a standard one (edit distance <= 2, any case).
    assert unknown_placeholders("{city} {order_no}", None) == []
    assert [u.suggestion for u in unknown_placeholders("{First_Name} {usrname} {lastname}", None)] == [
        "first_name",
        "username",
        "last_name",
    ]
