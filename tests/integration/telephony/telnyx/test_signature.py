"""Our Ed25519 check agrees with the official ``telnyx`` SDK's webhook verification."""

from __future__ import annotations

import base64
import time

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from tests.integration.telephony.telnyx.simulator import signed_headers
from vozagent.telephony.telnyx.signature import SignatureError, verify_webhook

pytestmark = pytest.mark.unit
oracle = pytest.importorskip("telnyx.lib.webhook_verification", reason="telnyx SDK not installed")
pytest.importorskip("nacl", reason="the telnyx SDK verifies with PyNaCl")

KEY = Ed25519PrivateKey.generate()
PUBLIC = base64.b64encode(KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()
BODY = b'{"data": {"event_type": "call.answered", "payload": {"to": "+1555\\u00e9"}}}'


def case(name: str) -> tuple[bytes, dict[str, str]]:
    now = int(time.time())
    key = Ed25519PrivateKey.generate() if name == "other-key" else KEY
    sent_at = {"stale": now - 400, "future": now + 400, "edge": now - 290}.get(name, now)
    headers = signed_headers(key, BODY, sent_at)
    if name == "tampered":
        return BODY.replace(b"answered", b"hangup"), headers
    if name == "upper-case-headers":
        headers = {k.title(): v for k, v in headers.items()}
    if name == "short-signature":
        headers["telnyx-signature-ed25519"] = base64.b64encode(b"x" * 10).decode()
    return BODY, headers


class CaseInsensitive(dict[str, str]):
    def get(self, key: str, default: str | None = None) -> str | None:  # type: ignore[override]
        return next((v for k, v in self.items() if k.lower() == key.lower()), default)


@pytest.mark.parametrize(
    "name",
    [
        "good",
        "edge",
        "upper-case-headers",
        "other-key",
        "stale",
        "future",
        "tampered",
        "short-signature",
    ],
)
def test_verification_matches_the_sdk(name: str) -> None:
    body, headers = case(name)
    try:
        oracle.verify_webhook_signature(body, headers, PUBLIC)
        sdk_accepts = True
    except oracle.WebhookVerificationError:
        sdk_accepts = False
    try:
        verify_webhook(PUBLIC, CaseInsensitive(headers), body)
        we_accept = True
    except SignatureError:
        we_accept = False
    assert we_accept == sdk_accepts
    assert we_accept == (name in ("good", "edge", "upper-case-headers"))
