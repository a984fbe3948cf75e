"""Where a notification may go: by default only public addresses (no loopback, private, link-local,
CGNAT, multicast, reserved or unspecified ranges, no IPv6 ULA, no IPv4-mapped private address).

Checked when an endpoint is saved and again at send time against the addresses the name resolves to
then (a name may be re-pointed after it was checked: DNS rebinding); the webhook sender connects to
the very address it checked (``pinned``).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(Exception):
    """The URL is not allowed; the message says why (safe to show: it holds no secret)."""


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return is_public(ip.ipv4_mapped)
    # is_global is False for private, loopback, link-local, CGNAT (100.64/10), reserved, unspecified and
    # ULA (fc00::/7); multicast is listed apart because some multicast ranges count as global.
    return ip.is_global and not ip.is_multicast


@dataclass(frozen=True)
class Resolved:
    host: str
    port: int
    address: str  # the checked address to connect to


def split_http_url(url: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http(s) URL, or ``UnsafeTarget``."""
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # e.g. an unclosed IPv6 bracket
        raise UnsafeTarget("is not a valid URL") from exc
    if parts.scheme not in ("http", "https"):
        raise UnsafeTarget("must be an http:// or https:// URL")
    try:
        host, port = parts.hostname, parts.port
    except ValueError as exc:
        raise UnsafeTarget("has an invalid port") from exc
    if not host:
        raise UnsafeTarget("has no host")
    return parts.scheme, host, port or (443 if parts.scheme == "https" else 80)


async def resolve(host: str, port: int, *, allow_private: bool) -> Resolved:
    """The first address ``host`` resolves to, after checking that every one of them is allowed."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise UnsafeTarget("host does not resolve") from exc
        addresses = [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]
        if not addresses:
            raise UnsafeTarget("host does not resolve")
    if not allow_private:
        for ip in addresses:
            if not is_public(ip):
                raise UnsafeTarget(
                    "resolves to a private, loopback or reserved address (not allowed on this server)"
                )
    return Resolved(host, port, str(addresses[0]))


async def check_http_url(url: str, *, allow_private: bool) -> Resolved:
    _, host, port = split_http_url(url)
    return await resolve(host, port, allow_private=allow_private)
