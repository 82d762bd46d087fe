"""Telnyx webhook signatures: Ed25519 over ``"{timestamp}|{raw body}"``.

Telnyx signs every Call Control webhook with the account's Ed25519 key and sends the base64
signature in ``telnyx-signature-ed25519`` and the Unix time in ``telnyx-timestamp``; the
account's public key (base64, 32 bytes) is in the portal. The timestamp is inside the signed
message, so refusing old timestamps stops a captured webhook from being replayed later.
(https://developers.telnyx.com/docs/development/sdk/python/webhooks; the same rules as the
``telnyx`` SDK's ``lib/webhook_verification.py``, which the tests use as an oracle.)
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Mapping
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SIGNATURE_HEADER: Final = "telnyx-signature-ed25519"
TIMESTAMP_HEADER: Final = "telnyx-timestamp"
# Telnyx's SDKs accept five minutes either way; so do we.
REPLAY_WINDOW_SECONDS: Final = 300


class SignatureError(Exception):
    """The webhook is not provably from Telnyx (or is too old to trust)."""


def _decode(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError) as error:
        raise SignatureError(f"{what} is not base64") from error


def verify_webhook(
    public_key: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: Callable[[], float] = time.time,
) -> None:
    """Raise :class:`SignatureError` unless ``body`` was signed by ``public_key`` recently.

    ``headers`` must look names up case-insensitively (Starlette's and aiohttp's do).
    """
    signature = headers.get(SIGNATURE_HEADER)
    timestamp = headers.get(TIMESTAMP_HEADER)
    if not signature or not timestamp:
        raise SignatureError("signature or timestamp header missing")
    try:
        sent_at = int(timestamp)
    except ValueError as error:
        raise SignatureError("timestamp is not an integer") from error
    if abs(now() - sent_at) > REPLAY_WINDOW_SECONDS:
        raise SignatureError("timestamp outside the replay window")
    key_bytes = _decode(public_key, "public key")
    if len(key_bytes) != 32:
        raise SignatureError("public key is not 32 bytes")
    try:
        Ed25519PublicKey.from_public_bytes(key_bytes).verify(
            _decode(signature, "signature"), timestamp.encode() + b"|" + body
        )
    except InvalidSignature as error:
        raise SignatureError("signature does not match") from error
