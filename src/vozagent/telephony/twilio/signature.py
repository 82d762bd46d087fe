"""Twilio's request signature (``X-Twilio-Signature``).

base64(HMAC-SHA1(auth token, URL + each form parameter's name and value, sorted by name)),
https://www.twilio.com/docs/usage/security#validating-requests. Twilio is inconsistent about
an explicit default port in the signed URL, so, like its SDK's validator, we accept either form.
A parameter sent several times (``StatusCallbackEvent``) contributes each distinct value in
sorted order, as the SDK computes it. The Media Streams WebSocket upgrade is signed the same
way, over the ``wss://`` URL with no parameters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from urllib.parse import SplitResult, urlsplit

SIGNATURE_HEADER = "X-Twilio-Signature"
_DEFAULT_PORTS = {"https": 443, "wss": 443, "http": 80, "ws": 80}

FormPairs = Iterable[tuple[str, str]]


def compute_signature(auth_token: str, url: str, params: FormPairs = ()) -> str:
    values_by_name: dict[str, set[str]] = {}
    for name, value in params:
        values_by_name.setdefault(name, set()).add(value)
    signed = url + "".join(
        name + value for name in sorted(values_by_name) for value in sorted(values_by_name[name])
    )
    digest = hmac.new(auth_token.encode(), signed.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def signature_valid(auth_token: str, url: str, params: FormPairs, signature: str | None) -> bool:
    if not auth_token or not signature:
        return False
    pairs = list(params)
    return any(
        hmac.compare_digest(compute_signature(auth_token, candidate, pairs), signature)
        for candidate in _port_variants(url)
    )


def _port_variants(url: str) -> tuple[str, str]:
    """The URL without and with an explicit port (default port for the scheme)."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    # Keep the host exactly as written (``hostname`` would lower-case it, changing the MAC).
    if hostport.startswith("["):  # an IPv6 literal: [::1]:8080
        host = hostport[: hostport.index("]") + 1]
    else:
        host = hostport.split(":")[0]
    prefix = userinfo + at
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
    without_port = _with_netloc(parts, prefix + host)
    with_port = _with_netloc(parts, f"{prefix}{host}:{port}")
    return without_port, with_port


def _with_netloc(parts: SplitResult, netloc: str) -> str:
    return parts._replace(netloc=netloc).geturl()
