"""structlog JSON logs to stdout (one object a line, ELK-ready) that never carry personal data or secrets.

Context: ``request_id`` (HTTP middleware), ``user_id`` (the auth dependency) and ``task_id`` (the
engine's jobs) are bound with ``structlog.contextvars`` and merged into every line, stdlib loggers'
lines included.

Redaction, last thing before rendering, on structlog's and the stdlib's records alike:
* values under sensitive keys (``authorization``, ``cookie``, ``token``, ``phone``, ``text``,
  ``message_template``, …) at any depth are replaced;
* free text is scrubbed of JWTs, ``Bearer``/``Basic`` credentials, ``key=value`` secrets and bodies
  (``text='…'``), header lines such as ``Authorization: …`` and ``Cookie: …``, passwords in URLs,
  and phone numbers. A body quoted in prose with no key cannot be recognised: hence the next rule,
  and the loggers that quote request bodies or SQL parameters (httpx, aiosqlite) kept at WARNING;
* exceptions are rendered as their type and stack frames only. An exception's message may quote
  whatever its code was handling — a message body, a row of the audience, a SQL parameter — which
  no pattern can recognise, so it is withheld (the type and the line are what a reader needs).
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import MutableMapping
from types import TracebackType
from typing import Any, TextIO

import structlog

REDACTED = "[redacted]"
# A phone: an optional +, then 10-15 digits with common separators (spaces, dots, dashes, brackets).
_PHONE = re.compile(r"(?<![\w+])\+?\d(?:[\s().-]{0,2}\d){9,14}(?![\w:])")
# A UUID's groups can be all digits (``942753ee-1234-5678-9012-…``), which the phone pattern would read as
# a number with dashes: a phone match that touches a UUID is left alone, so ids stay whole for correlation.
_UUID = re.compile(r"[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_SCHEME_CREDENTIALS = re.compile(r"(?i)\b(bearer|basic)(\s+)[\w\-.~+/=]+")
_KEY_VALUE = re.compile(
    r"(?i)\b(access_token|refresh_token|id_token|token|secret(?:_id)?|password|passwd|api[_-]?key|"
    r"sessionid|signature)([\"']?\s*[=:]\s*[\"']?)[^\s,;&\"'}]+"
)
_HEADER_LINE = re.compile(
    r"(?i)\b(authorization|proxy-authorization|cookie|set-cookie)([\"']?\s*[:=]\s*)[^\r\n\"}]+"
)
# A message body written out as ``text='…'`` / ``body="…"`` / ``message_template=…`` in free text.
_BODY_FIELD = re.compile(
    r"(?i)\b(text|body|message|message_template|template)(\s*[=:]\s*)"
    r"('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|[^\s,;&]+)"
)
_URL_PASSWORD = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@")

SENSITIVE_KEYS = frozenset(
    {
        "authorization",
        "proxy-authorization",
        "cookie",
        "cookies",
        "set-cookie",
        "password",
        "secret",
        "token",
        "access_token",
        "refresh_token",
        "id_token",
        "api_key",
        "x-api-key",
        "jwt",
        "jwt_secret",
        "jwt_secret_previous",
        "secret_id",
        "role_id",
        "integration_token_secret",
        "integration_token_secret_previous",
        "vault_secret_id",
        "vault_role_id",
        "phone",
        "phones",
        "phone_number",
        "message",
        "message_template",
        "template",
        "text",
        "body",
        "content",
    }
)
# Keys the logging machinery itself fills in; they are never free text from a caller.
_STRUCTURAL_KEYS = frozenset({"level", "logger", "timestamp"})


def redact_text(text: str) -> str:
    text = _JWT.sub("[redacted-jwt]", text)
    text = _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _HEADER_LINE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _SCHEME_CREDENTIALS.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _KEY_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _BODY_FIELD.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    return _redact_phones(text)


def _redact_phones(text: str) -> str:
    ids = [m.span() for m in _UUID.finditer(text)]
    if not ids:
        return _PHONE.sub("[redacted-phone]", text)

    def mask(m: re.Match[str]) -> str:
        start, end = m.span()
        inside_id = any(start < id_end and id_start < end for id_start, id_end in ids)
        return m.group(0) if inside_id else "[redacted-phone]"

    return _PHONE.sub(mask, text)


def _is_sensitive(key: object) -> bool:
    return str(key).lower().replace("_", "-") in _SENSITIVE_DASHED


_SENSITIVE_DASHED = frozenset(k.replace("_", "-") for k in SENSITIVE_KEYS)


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {k: REDACTED if _is_sensitive(k) else _redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return REDACTED
    if isinstance(value, BaseException):
        return type(value).__name__
    return value


def redact_processor(
    _logger: Any, _name: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in list(event_dict):
        if key in _STRUCTURAL_KEYS:
            continue
        if key != "event" and _is_sensitive(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _redact(event_dict[key])
    return event_dict


ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _exc_info(value: Any) -> ExcInfo | None:
    if isinstance(value, BaseException):
        return type(value), value, value.__traceback__
    if isinstance(value, tuple) and len(value) == 3 and value[0] is not None:
        return value
    if value:
        current = sys.exc_info()
        return current if current[0] is not None else None
    return None


_CAUSE = "The above exception was the direct cause of the following exception:"
_CONTEXT = "During handling of the above exception, another exception occurred:"


def format_exception_safely(exc: BaseException) -> str:
    """A traceback with every frame and every chained exception's type, but none of their messages."""
    # Outermost first, each with how the next one (its cause or context) relates to it.
    chain: list[tuple[BaseException, str]] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen, _ in chain):
        if current.__cause__ is not None:
            nxt, how = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            nxt, how = current.__context__, _CONTEXT
        else:
            nxt, how = None, ""
        chain.append((current, how))
        current = nxt
    lines: list[str] = []
    for i in range(len(chain) - 1, -1, -1):  # innermost first, as Python prints it
        item = chain[i][0]
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(item.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        lines.append(f"{type(item).__module__}.{type(item).__qualname__} (message withheld)")
        if i > 0:
            lines += ["", chain[i - 1][1], ""]
    return "\n".join(lines)


def safe_exc_info(_logger: Any, _name: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """Replaces structlog's ``format_exc_info``: renders ``exc_info`` without exception messages."""
    info = _exc_info(event_dict.pop("exc_info", None))
    if info is not None:
        event_dict["exception"] = format_exception_safely(info[1])
    return event_dict


def configure_logging(level: str = "INFO", json_output: bool = True, *, stream: TextIO | None = None) -> None:
    """Route structlog and the stdlib through one handler on ``stream`` (stdout by default)."""
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        safe_exc_info,
        redact_processor,
    ]
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # httpx logs full URLs at INFO (a membership path can carry a phone number); aiosqlite and
    # SQLAlchemy's engine log SQL with its parameters at DEBUG/INFO (phones, message templates).
    for noisy in ("uvicorn.access", "httpx", "httpcore", "aiosqlite", "sqlalchemy.engine"):
        logging.getLogger(noisy).setLevel("WARNING")
