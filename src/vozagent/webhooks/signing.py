"""Standard Webhooks signatures (https://www.standardwebhooks.com).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature is
HMAC-SHA256 with the secret's base64-decoded bytes, sent as ``v1,<base64>``. During a
secret rotation the header carries one signature per valid secret, space-separated, so a
receiver holding either the old or the new secret accepts the message.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Sequence

from vozagent.webhooks.secrets import SECRET_PREFIX

USER_AGENT = "vozagent-webhooks/1"


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(key: bytes, message_id: str, timestamp: int, body: bytes) -> str:
    signed = b"%s.%d.%s" % (message_id.encode(), timestamp, body)
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signed_headers(
    keys: Sequence[bytes], message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The headers of one delivery attempt; ``keys`` lists the current secret first."""
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(sign(k, message_id, timestamp, body) for k in keys),
    }
