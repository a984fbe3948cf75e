"""Message templates: ``{first_name}``-style placeholders, validated at save, rendered per target."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

STANDARD_FIELDS = ("first_name", "last_name", "username")
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_formatter = string.Formatter()


class TemplateError(ValueError):
    pass


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template``, or ``TemplateError`` saying what is malformed.

    Only bare names are allowed: no attribute or index access, conversions or format specs,
    so a template can never reach into Python objects.
    """
    names: list[str] = []
    try:
        parsed = list(_formatter.parse(template))
    except ValueError as exc:
        raise TemplateError(f"malformed template: {exc}; write a literal brace as '{{{{' or '}}}}'") from exc
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if field == "":
            raise TemplateError("empty placeholder '{}': name a field, e.g. {first_name}")
        if not _FIELD.match(field):
            raise TemplateError(f"placeholder {{{field}}} must be a plain field name (letters, digits, _)")
        if spec or conversion:
            raise TemplateError(f"placeholder {{{field}}} may not have a format spec or conversion")
        if field not in names:
            names.append(field)
    return names


def render(template: str, fields: Mapping[str, object]) -> str:
    """Render with the target's fields; a field the target lacks renders as empty text."""
    values = {name: "" if fields.get(name) is None else str(fields[name]) for name in placeholders(template)}
    return template.format_map(values)
