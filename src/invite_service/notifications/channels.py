"""apprise channels: parsing a user's URL, and one send.

An apprise URL carries its service's tokens or passwords, so only its masked form (apprise's own
``url(privacy=True)``) is ever shown, and neither is logged.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from dataclasses import dataclass
from typing import Any

import apprise

from invite_service.notifications.ssrf import resolve

# apprise logs the URLs it posts to at DEBUG (a Telegram bot token is in the path), and urllib3 under it
# the request lines: kept at WARNING whatever the service's log level, like httpx (observability/logging.py).
for _name in ("apprise", "urllib3"):
    logging.getLogger(_name).setLevel(logging.WARNING)

# apprise's generic targets post to any host the user names: the SSRF rule applies to them as to
# webhooks. Other schemes name a service (tgram://, slack://, mailto:// …) and are only checked when
# their host is an IP literal.
CUSTOM_SCHEMES = frozenset({"json", "jsons", "xml", "xmls", "form", "forms"})


class UnknownChannel(Exception):
    pass


@dataclass(frozen=True)
class ParsedChannel:
    scheme: str
    masked: str


def _instantiate(url: str) -> Any:
    try:
        return apprise.Apprise.instantiate(url)
    except Exception:  # noqa: BLE001 - a plugin choking on odd input means "not understood"
        return None


async def _check_host(plugin: Any, scheme: str, *, allow_private: bool) -> None:
    host = getattr(plugin, "host", None)
    if not isinstance(host, str) or not host:
        return
    try:
        ipaddress.ip_address(host)
        literal = True
    except ValueError:
        literal = False
    if scheme in CUSTOM_SCHEMES or literal:
        port = getattr(plugin, "port", None)
        await resolve(host, int(port) if port else 443, allow_private=allow_private)


async def parse(url: str, *, allow_private: bool) -> ParsedChannel:
    """The scheme and masked URL, or ``UnknownChannel`` / ``UnsafeTarget``."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    plugin = _instantiate(url) if scheme else None
    if plugin is None:
        raise UnknownChannel(
            "is not an apprise URL this server understands (e.g. mailto://, tgram://, json://)"
        )
    await _check_host(plugin, scheme, allow_private=allow_private)
    return ParsedChannel(scheme=scheme, masked=str(plugin.url(privacy=True)))


async def send(url: str, title: str, body: str, *, allow_private: bool, seconds: float) -> str | None:
    """Send one notification; None when apprise reports success, else a short reason."""
    plugin = _instantiate(url)
    if plugin is None:
        return "the channel URL is no longer understood"
    scheme = url.split("://", 1)[0].lower()
    await _check_host(plugin, scheme, allow_private=allow_private)  # again: names can be re-pointed
    notifier = apprise.Apprise()
    notifier.add(plugin)
    try:
        async with asyncio.timeout(seconds):
            ok = await notifier.async_notify(body=body, title=title)
    except TimeoutError:
        return "timed out"
    return None if ok else f"the {scheme} service did not accept the notification"
