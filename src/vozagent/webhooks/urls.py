"""First line of the SSRF guard: what a webhook URL may look like when it is saved.

Delivery re-checks every resolved address at send time (DNS can change); here we
reject what is wrong on its face: other schemes, credentials in the URL, and
literal loopback/private/link-local addresses or ``localhost`` names.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL_LENGTH = 2000
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")


def url_problem(url: str, *, allow_http: bool, allow_private: bool) -> str | None:
    """A human-readable reason the URL is refused, or ``None`` when it is acceptable."""
    if len(url) > MAX_URL_LENGTH:
        return f"the URL is longer than {MAX_URL_LENGTH} characters"
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "the URL cannot be parsed"
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        return "the URL must use " + " or ".join(allowed)
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        return "the URL has no host"
    if parts.username is not None or parts.password is not None:
        return "credentials in the URL are not allowed"
    if port == 0:
        return "port 0 is not allowed"
    if not allow_private and _is_internal(host):
        return "the URL points at a loopback, private or link-local address"
    return None


def _is_internal(host: str) -> bool:
    if host in _LOCAL_NAMES or host.endswith(".localhost") or host.endswith(".local"):
        return True
    address = _parse_address(host)
    if address is None:
        return False
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped or address.sixtofour
        if mapped is not None:
            address = mapped
    return not address.is_global or address.is_multicast


def _parse_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        pass
    # inet_aton forms browsers and curl accept: 2130706433, 0x7f.1, 017700000001, 127.1
    import socket

    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None
