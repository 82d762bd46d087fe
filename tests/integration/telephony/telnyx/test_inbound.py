"""Calls to our Telnyx numbers: offered to the runtime, then answered with a stream or rejected."""

from __future__ import annotations

import asyncio
import base64
import time

import pytest

from tests.integration.telephony.telnyx.conftest import OUR_NUMBER, WAIT, Harness
from tests.integration.telephony.telnyx.simulator import Script
from vozagent.telephony.carrier import COMPLETED, IN_PROGRESS, InboundAnswer, InboundCall
from vozagent.voice.audio import rms
from vozagent.voice.media import AudioReceived, LinkClosed, MediaLink

pytestmark = pytest.mark.integration
CALLER = "+15557770200"


def webhook_url(h: Harness) -> str:
    return f"{h.app_url}/telephony/telnyx/webhooks"


async def wait_for_request(h: Harness, suffix: str) -> dict[str, object]:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        for _, path, body in h.sim.requests:
            if path.endswith(suffix):
                return body  # type: ignore[no-any-return]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no request to *{suffix}")


async def test_inbound_call_is_answered_with_a_media_stream(telnyx: Harness) -> None:
    h = telnyx
    h.sim.scripts[CALLER] = Script(talk_seconds=0.6)
    heard = bytearray()

    async def converse(link: MediaLink) -> None:
        while not isinstance(event := await asyncio.wait_for(link.receive(), WAIT), LinkClosed):
            if isinstance(event, AudioReceived):
                heard.extend(event.pcm)

    h.events.converse = converse
    call = await h.sim.incoming_call(OUR_NUMBER, CALLER, webhook_url(h))
    assert h.sim.webhook_statuses == [200]
    answer = await wait_for_request(h, f"/{call.call_control_id}/actions/answer")
    await asyncio.wait_for(call.done.wait(), WAIT)
    completed = await h.events.wait_for_status("call-in-1", COMPLETED)

    assert h.events.inbound_calls == [
        InboundCall(provider="telnyx", to=OUR_NUMBER, from_=CALLER, reference=call.call_control_id)
    ]
    assert base64.b64decode(str(answer["client_state"])).decode() == "incoming:call-in-1"
    assert answer["stream_bidirectional_mode"] == "rtp"
    assert "call_id=call-in-1" in str(answer["stream_url"])
    assert [u.status for u in h.events.statuses] == [IN_PROGRESS, COMPLETED]
    assert completed.end_reason == "customer-hangup"  # the caller hung up
    assert h.events.media_calls == ["call-in-1"]
    assert rms(bytes(heard)) > 0.15
    assert not any(path.endswith("/reject") for _, path, _ in h.sim.requests)


async def test_refused_inbound_call_is_rejected_as_busy(telnyx: Harness) -> None:
    h = telnyx
    h.events.inbound_answer = InboundAnswer(call_id=None, refusal="no assistant on this number")
    call = await h.sim.incoming_call(OUR_NUMBER, CALLER, webhook_url(h))
    reject = await wait_for_request(h, f"/{call.call_control_id}/actions/reject")
    await asyncio.wait_for(call.done.wait(), WAIT)
    assert reject == {"cause": "USER_BUSY"}
    assert len(h.events.inbound_calls) == 1
    assert not any(path.endswith("/answer") for _, path, _ in h.sim.requests)
    assert h.events.statuses == []  # the hangup of a call we never took carries no state


async def test_inbound_call_to_a_number_we_do_not_have_is_refused(telnyx: Harness) -> None:
    h = telnyx
    await h.sim.incoming_call("+15550009999", CALLER, webhook_url(h))
    assert h.sim.webhook_statuses == [403]
    await asyncio.sleep(0.1)  # give a wrongly spawned answer task the chance to show up
    assert h.events.inbound_calls == []
    assert h.sim.requests == []
