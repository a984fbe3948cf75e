"""Message templates: ``{first_name}``-style placeholders, validated at save, rendered per target.

The rules (the UI's ``frontend/src/lib/template.ts`` keeps exactly the same ones):

- ``{name}``: a field; ``name`` is ``[A-Za-z_][A-Za-z0-9_]{0,63}``. A field the target lacks (missing, null
  or empty text) renders as empty text.
- ``{name|fallback}``: the same field, rendered as ``fallback`` when the target's value is missing, null or
  empty. The fallback is 0-100 characters, any but ``{``, ``}`` and ``|`` (so ``{first_name|}`` says
  "empty on purpose"). A field may appear with and without a fallback; each occurrence keeps its own.
- ``{{`` and ``}}`` are literal braces. Anything else in braces is refused as Python's ``str.format``
  parser refuses it (the messages below are its own), and so are attribute or index access, conversions
  and format specs: a template can never reach into Python objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

STANDARD_FIELDS = ("first_name", "last_name", "username")
FALLBACK_MAX = 100
# Python's ``$`` also matches before one trailing newline; template.ts keeps that too, so both agree.
_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# A placeholder with a fallback, tried at each ``{`` that does not start ``{{``.
_WITH_FALLBACK = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]{0,63})\|([^{}|]*)\}")
_BRACE_HINT = "; write a literal brace as '{{' or '}}'"
# A near miss of a standard field (``{frist_name}``): refused even before the task has targets.
NEAR_MISS = 2


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Placeholder:
    name: str
    fallback: str | None = None  # None: no fallback given ("" is an empty fallback)


Segment = str | Placeholder


@dataclass(frozen=True)
class _Raw:
    name: str
    fallback: str | None
    conversion: str | None
    spec: str


def _malformed(reason: str) -> TemplateError:
    return TemplateError(f"malformed template: {reason}{_BRACE_HINT}")


def _scan(template: str) -> list[str | _Raw]:
    """Split into text and fields; the malformed-brace errors are ``string.Formatter``'s."""
    out: list[str | _Raw] = []
    text: list[str] = []
    i, n = 0, len(template)
    while i < n:
        c = template[i]
        if c == "}":
            if i + 1 < n and template[i + 1] == "}":
                text.append("}")
                i += 2
                continue
            raise _malformed("Single '}' encountered in format string")
        if c != "{":
            text.append(c)
            i += 1
            continue
        if i + 1 >= n:
            raise _malformed("Single '{' encountered in format string")
        if template[i + 1] == "{":
            text.append("{")
            i += 2
            continue
        if text:
            out.append("".join(text))
            text = []
        fallback = _WITH_FALLBACK.match(template, i)
        if fallback is not None:
            out.append(_Raw(fallback.group(1), fallback.group(2), None, ""))
            i = fallback.end()
            continue
        # A replacement field up to its matching '}' (a format spec may nest braces).
        j, depth, in_spec = i + 1, 1, False
        while j < n:
            ch = template[j]
            if ch == "{":
                if not in_spec:
                    raise _malformed("unexpected '{' in field name")
                depth += 1
            elif ch == "}":
                depth -= 1
                if depth == 0:
                    break
            elif ch == ":" and not in_spec:
                in_spec = True
            j += 1
        if j >= n:
            raise _malformed("expected '}' before end of string")
        body = template[i + 1 : j]
        stop = re.search(r"[!:]", body)
        name = body if stop is None else body[: stop.start()]
        conversion: str | None = None
        spec = ""
        if stop is not None and stop.group() == "!":
            rest = body[stop.start() + 1 :]
            if not rest:
                raise _malformed("unmatched '{' in format spec")
            conversion, rest = rest[0], rest[1:]
            if rest and rest[0] != ":":
                raise _malformed("expected ':' after conversion specifier")
            spec = rest[1:]
        elif stop is not None:
            spec = body[stop.start() + 1 :]
        out.append(_Raw(name, None, conversion, spec))
        i = j + 1
    if text:
        out.append("".join(text))
    return out


def parse(template: str) -> list[Segment]:
    """Text and placeholders in order, or ``TemplateError`` saying what is malformed (the first problem)."""
    segments: list[Segment] = []
    for part in _scan(template):
        if isinstance(part, str):
            segments.append(part)
            continue
        field = part.name
        if field == "":
            raise TemplateError("empty placeholder '{}': name a field, e.g. {first_name}")
        if "|" in field and _FIELD.match(field.split("|", 1)[0]):
            raise TemplateError(
                f"placeholder {{{field}}}: a fallback may not contain '{{', '}}' or '|'"
                " (write it as {name|text})"
            )
        if not _FIELD.match(field):
            raise TemplateError(f"placeholder {{{field}}} must be a plain field name (letters, digits, _)")
        if part.spec or part.conversion:
            raise TemplateError(f"placeholder {{{field}}} may not have a format spec or conversion")
        if part.fallback is not None and len(part.fallback) > FALLBACK_MAX:
            raise TemplateError(
                f"the fallback of {{{field}}} is {len(part.fallback)} characters; at most {FALLBACK_MAX}"
            )
        segments.append(Placeholder(field, part.fallback))
    return segments


def placeholders(template: str) -> list[str]:
    """The placeholder names of ``template`` (each once, in order), or ``TemplateError``."""
    return list(dict.fromkeys(s.name for s in parse(template) if isinstance(s, Placeholder)))


def required_fields(template: str) -> list[str]:
    """The names used at least once without a fallback: a target without them would get empty text."""
    return list(
        dict.fromkeys(s.name for s in parse(template) if isinstance(s, Placeholder) and s.fallback is None)
    )


def _value(fields: Mapping[str, object], name: str) -> str:
    value = fields.get(name)
    return "" if value is None else str(value)


def render(template: str, fields: Mapping[str, object]) -> str:
    """Render with the target's fields: a missing or empty field gives its fallback, else empty text."""
    out: list[str] = []
    for segment in parse(template):
        if isinstance(segment, str):
            out.append(segment)
            continue
        value = _value(fields, segment.name)
        out.append(value if value != "" or segment.fallback is None else segment.fallback)
    return "".join(out)


# -- unknown placeholders -------------------------------------------------------------------------


def distance(a: str, b: str) -> int:
    """Levenshtein distance, case-insensitive (``{First_Name}`` is a near miss of ``{first_name}``)."""
    a, b = a.lower(), b.lower()
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name nearest to ``name`` (the first listed wins a tie), None when nothing is known."""
    best: tuple[int, str] | None = None
    for candidate in known:
        d = distance(name, candidate)
        if best is None or d < best[0]:
            best = (d, candidate)
    return None if best is None else best[1]


@dataclass(frozen=True)
class Unknown:
    """A placeholder without fallback that no target can fill; ``closest``: the nearest known name."""

    name: str
    closest: str | None

    @property
    def suggestion(self) -> str | None:
        """The closest name when it is a near miss (what "did you mean" offers), else None."""
        if self.closest is not None and distance(self.name, self.closest) <= NEAR_MISS:
            return self.closest
        return None

    @property
    def message(self) -> str:
        head = f"{{{self.name}}} is not a field any target has"
        if self.suggestion is not None:
            return f"{head}; did you mean {{{self.suggestion}}}?"
        hint = f"add a fallback ({{{self.name}|text}}) or import targets with a '{self.name}' column"
        if self.closest is not None:
            return f"{head} (the closest known field is {{{self.closest}}}); {hint}"
        return f"{head}; {hint}"


def unknown_placeholders(template: str, custom_fields: Iterable[str] | None) -> list[Unknown]:
    """The placeholders without fallback ``template`` may not use.

    ``custom_fields``: the imported fields some target of the task has; None when the task has no targets
    yet — then any name is accepted except a near miss of a standard field (it is checked again at start).
    """
    known = list(STANDARD_FIELDS) + sorted(set(custom_fields or ()) - set(STANDARD_FIELDS))
    out: list[Unknown] = []
    for name in required_fields(template):
        if name in known:
            continue
        if custom_fields is None:
            near = [s for s in STANDARD_FIELDS if distance(name, s) <= NEAR_MISS]
            if near:
                out.append(Unknown(name, closest(name, near)))
            continue
        out.append(Unknown(name, closest(name, known)))
    return out
