"""SIP edge cases against scripted sipp UAS scenarios (scenarios/*.xml) on loopback."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from tests.integration.telephony.sip.peers import RecordingEvents, Sipp, dial
from vozagent.telephony.carrier import CallHandle
from vozagent.telephony.sip.carrier import SipCarrier

pytestmark = pytest.mark.integration
StartSipp = Callable[..., Awaitable[Sipp]]


@pytest.mark.parametrize(
    ("code", "reason", "status", "end_reason"),
    [
        ("486", "Busy Here", "busy", "busy"),
        ("603", "Decline", "busy", "declined"),
        ("480", "Temporarily Unavailable", "no-answer", "no-answer"),
        ("503", "Service Unavailable", "failed", "carrier-error: 503 Service Unavailable"),
    ],
)
async def test_refused_calls(
    carrier: SipCarrier,
    events: RecordingEvents,
    sipp: StartSipp,
    code: str,
    reason: str,
    status: str,
    end_reason: str,
) -> None:
    peer = await sipp("reject.xml", {"code": code, "reason": reason})
    reference = await carrier.place_call(dial(peer.port))

    final = await events.wait_for_end()

    assert await peer.finished() == 0, peer.log()  # it got our ACK
    assert (final.status, final.end_reason, final.reference) == (status, end_reason, reference)
    assert events.status_names == [status]


async def test_ring_timeout_cancels(
    carrier: SipCarrier, events: RecordingEvents, sipp: StartSipp
) -> None:
    peer = await sipp("ring_forever.xml")
    await carrier.place_call(dial(peer.port, ring_timeout=2))

    final = await events.wait_for_end()

    assert events.status_names == ["ringing", "no-answer"]
    assert final.end_reason == "no-answer"
    assert await peer.finished() == 0, peer.log()  # it got CANCEL, then our ACK of 487


async def test_hang_up_while_ringing_cancels(
    carrier: SipCarrier, events: RecordingEvents, sipp: StartSipp
) -> None:
    peer = await sipp("ring_forever.xml")
    reference = await carrier.place_call(dial(peer.port, ring_timeout=20))
    await events.wait_for_status("ringing")

    await carrier.hang_up(CallHandle(call_id="out-1", reference=reference, account=None))
    final = await events.wait_for_end()

    assert final.status == "canceled"
    assert await peer.finished() == 0, peer.log()


async def test_digest_challenge_then_answer(
    carrier: SipCarrier, events: RecordingEvents, sipp: StartSipp
) -> None:
    events.listen_seconds = 1.0
    peer = await sipp("auth_answer.xml", trunk_user="alice", trunk_password="s3cret")
    await carrier.place_call(dial(peer.port, username="alice", password="s3cret"))

    final = await events.wait_for_end()

    # sipp's verifyauth accepted the digest (a wrong one gets 403 -> failed).
    assert events.status_names == ["in-progress", "completed"], peer.log()
    assert final.end_reason == "assistant-hangup"
    assert await peer.finished() == 0, peer.log()  # and it got our BYE


async def test_wrong_password_fails(
    carrier: SipCarrier, events: RecordingEvents, sipp: StartSipp
) -> None:
    peer = await sipp("auth_answer.xml", trunk_user="alice", trunk_password="s3cret")
    await carrier.place_call(dial(peer.port, username="alice", password="wrong"))

    final = await events.wait_for_end()

    assert (final.status, final.end_reason) == ("failed", "carrier-error: 403 Forbidden")
    assert await peer.finished() == 0, peer.log()


async def test_remote_bye_mid_call(
    carrier: SipCarrier, events: RecordingEvents, sipp: StartSipp
) -> None:
    events.listen_seconds = 10.0
    peer = await sipp("remote_bye.xml")
    await carrier.place_call(dial(peer.port))

    final = await events.wait_for_end()

    assert events.status_names == ["in-progress", "completed"]
    assert final.end_reason == "customer-hangup"
    assert events.closed_by == "remote"
    assert await peer.finished() == 0, peer.log()  # it got our 200 to its BYE


async def test_rfc2833_dtmf(carrier: SipCarrier, events: RecordingEvents, sipp: StartSipp) -> None:
    events.listen_seconds = 10.0
    peer = await sipp("dtmf.xml")
    await carrier.place_call(dial(peer.port))

    await events.wait_for_end()

    assert events.dtmf == ["1"], peer.log()
    assert await peer.finished() == 0, peer.log()
