"""Outbound calls through the Twilio carrier, played out by the simulator end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.integration.telephony.twilio.conftest import OUR_NUMBER, SIGNING_KEY, TwilioRig
from tests.integration.telephony.twilio.simulator import parse_connect_stream
from vozagent.telephony.carrier import (
    BUSY,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NO_ANSWER,
    RINGING,
    VOICEMAIL,
    CallHandle,
    CarrierError,
    DialRequest,
    media_token,
)
from vozagent.voice.audio import rms

pytestmark = pytest.mark.integration


def dial(rig: TwilioRig, to: str, call_id: str = "call-1", **kwargs: object) -> DialRequest:
    return DialRequest(call_id, to, OUR_NUMBER, rig.account, **kwargs)  # type: ignore[arg-type]


def statuses(rig: TwilioRig) -> list[str]:
    return [update.status for update in rig.events.statuses]


async def test_answered_call_reports_progress_and_carries_audio_both_ways(rig: TwilioRig) -> None:
    sid = await rig.carrier.place_call(dial(rig, "+15551110000", ring_timeout_seconds=25))

    call = await rig.simulator.wait_done(sid)
    await rig.events.wait_for(lambda: COMPLETED in statuses(rig))

    assert statuses(rig) == [RINGING, IN_PROGRESS, COMPLETED]
    assert all(update.reference == sid for update in rig.events.statuses)
    assert [update.sequence for update in rig.events.statuses] == [1, 2, 3]
    assert all(update.occurred_at and update.occurred_at.tzinfo for update in rig.events.statuses)
    assert rig.events.statuses[-1].duration_seconds is not None
    assert all(code == 204 for _, code in call.callbacks)
    # The caller's tone reached the conversation, and the assistant's reached the caller.
    assert rms(bytes(rig.events.heard["call-1"])) > 0.1
    assert rms(call.received_pcm) > 0.1
    assert rig.events.marks["call-1"][0].name == "greeting"
    assert call.clears >= 1  # link.clear() became a Twilio "clear" message
    assert call.stream_close_code is not None


async def test_dial_request_follows_twilios_call_resource(rig: TwilioRig) -> None:
    sid = await rig.carrier.place_call(dial(rig, "+15551110001", ring_timeout_seconds=17))

    params = rig.simulator.calls[sid].params
    callbacks = f"{rig.app_url}/telephony/twilio/calls/call-1"
    assert params["StatusCallback"] == [f"{callbacks}/status"]
    assert params["StatusCallbackEvent"] == ["initiated", "ringing", "answered", "completed"]
    assert params["StatusCallbackMethod"] == ["POST"]
    assert params["Timeout"] == ["17"]
    assert params["MachineDetection"] == ["DetectMessageEnd"]
    assert params["AsyncAmd"] == ["true"]
    assert params["AsyncAmdStatusCallback"] == [f"{callbacks}/amd"]
    url, parameters = parse_connect_stream(params["Twiml"][0])
    assert url == rig.app_url.replace("http://", "ws://") + "/telephony/twilio/media"
    assert parameters == {"call_id": "call-1", "token": media_token(SIGNING_KEY, "call-1")}


async def test_voicemail_detection_can_be_turned_off(rig: TwilioRig) -> None:
    sid = await rig.carrier.place_call(dial(rig, "+15551110001", detect_voicemail=False))

    assert "MachineDetection" not in rig.simulator.calls[sid].params


@pytest.mark.parametrize(
    ("to", "expected"),
    [
        ("+15551110001", [RINGING, BUSY]),
        ("+15551110002", [RINGING, NO_ANSWER]),
        ("+15551110003", [FAILED]),
    ],
)
async def test_unanswered_calls_map_to_their_status(
    rig: TwilioRig, to: str, expected: list[str]
) -> None:
    sid = await rig.carrier.place_call(dial(rig, to))

    await rig.simulator.wait_done(sid)
    await rig.events.wait_for(lambda: len(statuses(rig)) == len(expected))

    assert statuses(rig) == expected
    assert rig.events.media_calls == []
    assert rig.events.statuses[-1].end_reason is not None


async def test_answering_machine_is_reported_as_voicemail_and_hung_up(rig: TwilioRig) -> None:
    sid = await rig.carrier.place_call(dial(rig, "+15551110004"))

    await rig.events.wait_for(lambda: VOICEMAIL in statuses(rig))
    voicemail = next(u for u in rig.events.statuses if u.status == VOICEMAIL)
    assert voicemail.answered_by == "machine"
    await rig.carrier.hang_up(CallHandle("call-1", sid, rig.account))
    call = await rig.simulator.wait_done(sid)

    assert (sid, {"Status": "completed"}) in rig.simulator.updates
    assert call.callbacks[-1][0] == "completed"


async def test_callbacks_out_of_order_keep_their_sequence(rig: TwilioRig) -> None:
    sid = await rig.carrier.place_call(dial(rig, "+15551110007"))

    await rig.simulator.wait_done(sid)
    await rig.events.wait_for(lambda: COMPLETED in statuses(rig))

    # Delivered as Twilio sent them; the runtime orders them by sequence.
    assert [(u.status, u.sequence) for u in rig.events.statuses] == [
        (IN_PROGRESS, 2),
        (RINGING, 1),
        (COMPLETED, 3),
    ]


@pytest.mark.parametrize("to", ["+15551110008", "+15551110009"], ids=["token", "signature"])
async def test_unauthenticated_media_socket_is_closed(rig: TwilioRig, to: str) -> None:
    sid = await rig.carrier.place_call(dial(rig, to))

    call = await rig.simulator.wait_done(sid)

    assert call.stream_close_code == 1008
    assert rig.events.media_calls == []
    assert call.received_ulaw == b""


async def test_refused_dial_fails_with_twilios_reason(rig: TwilioRig) -> None:
    with pytest.raises(CarrierError) as refused:
        await rig.carrier.place_call(dial(rig, "+15551110005"))

    assert not refused.value.retryable
    assert "21211" in refused.value.reason


async def test_twilio_trouble_is_retryable(rig: TwilioRig) -> None:
    with pytest.raises(CarrierError) as trouble:
        await rig.carrier.place_call(dial(rig, "+15551110006"))

    assert trouble.value.retryable


async def test_unreachable_twilio_is_retryable(rig: TwilioRig) -> None:
    await rig.simulator.stop()

    with pytest.raises(CarrierError) as unreachable:
        await rig.carrier.place_call(dial(rig, "+15551110000"))

    assert unreachable.value.retryable


async def test_find_call_returns_a_call_placed_since(rig: TwilioRig) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    sid = await rig.carrier.place_call(dial(rig, "+15551110001"))

    assert await rig.carrier.find_call(dial(rig, "+15551110001"), before) == sid
    assert await rig.carrier.find_call(dial(rig, "+15551110002"), before) is None
    later = datetime.now(UTC) + timedelta(seconds=5)
    assert await rig.carrier.find_call(dial(rig, "+15551110001"), later) is None


async def test_hang_up_without_a_reference_does_nothing(rig: TwilioRig) -> None:
    await rig.carrier.hang_up(CallHandle("call-1", None, rig.account))

    assert rig.simulator.updates == []
