"""First line of the SSRF guard: what a webhook URL may look like when it is saved.

Delivery re-checks every resolved address at send time (DNS can change; see
``addresses.py``); here we reject what is wrong on its face: other schemes,
credentials in the URL, ``localhost`` names, and IP literals that the connect-time
guard would refuse. Literals are classified by the same ``address_refusal``, so a
URL accepted here is not refused at delivery for its literal address, and
link-local/metadata addresses are refused even where private targets are allowed.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from vozagent.webhooks.addresses import address_refusal, literal_address

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
    # inet_aton forms (2130706433, 0x7f.1, 127.1) count as literals: resolvers accept them.
    address = literal_address(host)
    if address is not None:
        reason = address_refusal(address, allow_private=allow_private)
        if reason is not None:
            return f"the URL points at {reason}"
    elif not allow_private and _is_local_name(host):
        return "the URL points at a local host name"
    return None


def _is_local_name(host: str) -> bool:
    return host in _LOCAL_NAMES or host.endswith((".localhost", ".local"))
