"""Signed, expiring recording URLs: a link that plays in a browser or an <audio> tag
without an API key, valid for ``recording_url_ttl_seconds``."""

from __future__ import annotations

import hashlib
import hmac
import time

from vozagent.api.container import Container


def _signature(container: Container, call_id: str, expires: int) -> str:
    key = container.secret_box.derive_key("recording-urls")
    return hmac.new(key, f"{call_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def signed_recording_url(container: Container, base_url: str, call_id: str) -> str:
    expires = int(time.time()) + container.settings.recording_url_ttl_seconds
    signature = _signature(container, call_id, expires)
    return f"{base_url}/v1/calls/{call_id}/recording?expires={expires}&signature={signature}"


def signature_valid(container: Container, call_id: str, expires: int, signature: str) -> bool:
    if expires < time.time():
        return False
    return hmac.compare_digest(_signature(container, call_id, expires), signature)
