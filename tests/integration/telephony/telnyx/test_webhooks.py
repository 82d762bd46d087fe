"""Webhook authentication: only fresh, Ed25519-signed webhooks change anything."""

from __future__ import annotations

import base64
import json
import time

import aiohttp
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from tests.integration.telephony.telnyx.conftest import Harness
from tests.integration.telephony.telnyx.simulator import signed_headers, webhook_document
from vozagent.telephony.carrier import IN_PROGRESS

pytestmark = pytest.mark.integration


def answered(call_id: str = "call-hook") -> bytes:
    payload = {
        "call_control_id": "v3:abc",
        "client_state": base64.b64encode(call_id.encode()).decode(),
        "to": "+15557770100",
        "from": "+15550001000",
    }
    return json.dumps(webhook_document("call.answered", payload)).encode()


async def post(h: Harness, body: bytes, headers: dict[str, str]) -> int:
    url = f"{h.app_url}/telephony/telnyx/webhooks"
    async with h.http.post(url, data=body, headers=headers) as response:
        return response.status


async def test_signed_fresh_webhook_is_recorded(telnyx: Harness) -> None:
    body = answered()
    status = await post(
        telnyx, body, signed_headers(telnyx.sim.signing_key, body, int(time.time()))
    )
    assert status == 200
    assert [(u.call_id, u.status, u.reference) for u in telnyx.events.statuses] == [
        ("call-hook", IN_PROGRESS, "v3:abc")
    ]


@pytest.mark.parametrize(
    "attack",
    [
        "other-key",
        "stale",
        "future",
        "tampered-body",
        "tampered-timestamp",
        "no-signature",
        "no-timestamp",
        "garbage-signature",
    ],
)
async def test_unauthentic_webhook_is_refused_and_ignored(telnyx: Harness, attack: str) -> None:
    body, now = answered(), int(time.time())
    key = Ed25519PrivateKey.generate() if attack == "other-key" else telnyx.sim.signing_key
    sent_at = {"stale": now - 301, "future": now + 301}.get(attack, now)
    headers = signed_headers(key, body, sent_at)
    if attack == "tampered-body":
        body = body.replace(b"call.answered", b"call.hangup")
    elif attack == "tampered-timestamp":
        headers["telnyx-timestamp"] = str(now - 1)
    elif attack == "no-signature":
        del headers["telnyx-signature-ed25519"]
    elif attack == "no-timestamp":
        del headers["telnyx-timestamp"]
    elif attack == "garbage-signature":
        headers["telnyx-signature-ed25519"] = "not base64!"
    assert await post(telnyx, body, headers) == 403
    assert telnyx.events.statuses == []


async def test_webhook_for_an_unknown_call_is_refused(telnyx: Harness) -> None:
    body = answered("someone-else")  # no account answers for this call
    headers = signed_headers(telnyx.sim.signing_key, body, int(time.time()))
    assert await post(telnyx, body, headers) == 403
    assert telnyx.events.statuses == []


async def test_malformed_webhook_is_a_bad_request(telnyx: Harness) -> None:
    for body in (b"not json", b"[]", b'{"data": {"event_type": "call.answered"}}'):
        headers = signed_headers(telnyx.sim.signing_key, body, int(time.time()))
        assert await post(telnyx, body, headers) == 400
    assert telnyx.events.statuses == []


async def test_webhooks_only_accept_post(telnyx: Harness) -> None:
    async with telnyx.http.get(f"{telnyx.app_url}/telephony/telnyx/webhooks") as response:
        assert response.status == 405


async def test_unrelated_events_are_acknowledged_without_effect(telnyx: Harness) -> None:
    payload = {
        "call_control_id": "v3:abc",
        "client_state": base64.b64encode(b"call-hook").decode(),
    }
    body = json.dumps(webhook_document("streaming.started", payload)).encode()
    headers = signed_headers(telnyx.sim.signing_key, body, int(time.time()))
    assert await post(telnyx, body, headers) == 200
    assert telnyx.events.statuses == []


async def test_media_socket_with_a_bad_token_is_refused(telnyx: Harness) -> None:
    url = f"ws://{telnyx.app_url.removeprefix('http://')}/telephony/telnyx/media"
    for query in ("?call_id=call-ws&token=0000", "?call_id=call-ws", ""):
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await telnyx.http.ws_connect(url + query)
        assert refused.value.status == 403
    assert telnyx.events.media_calls == []
