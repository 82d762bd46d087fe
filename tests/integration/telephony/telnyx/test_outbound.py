"""Outgoing Telnyx calls against the simulator: REST, signed webhooks, media both ways."""

from __future__ import annotations

import asyncio
import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.integration.telephony.telnyx.conftest import SIGNING_KEY, WAIT, Harness
from tests.integration.telephony.telnyx.simulator import Script, tone
from vozagent.telephony.carrier import (
    BUSY,
    CANCELED,
    COMPLETED,
    FAILED,
    IN_PROGRESS,
    NO_ANSWER,
    RINGING,
    VOICEMAIL,
    CallHandle,
    CarrierAccount,
    CarrierError,
    DialRequest,
    media_token,
)
from vozagent.voice.audio import rms
from vozagent.voice.media import AudioReceived, LinkClosed, MarkPlayed, MediaLink

pytestmark = pytest.mark.integration
CUSTOMER = "+15557770100"


def dial(
    h: Harness,
    call_id: str,
    to: str = CUSTOMER,
    *,
    ring_timeout_seconds: int = 30,
    detect_voicemail: bool = True,
) -> DialRequest:
    return DialRequest(
        call_id=call_id,
        to=to,
        from_="+15550001000",
        account=h.events.account,
        ring_timeout_seconds=ring_timeout_seconds,
        detect_voicemail=detect_voicemail,
    )


async def wait_done(h: Harness, reference: str) -> None:
    await asyncio.wait_for(h.sim.calls[reference].done.wait(), WAIT)


async def talk_and_clear(link: MediaLink) -> bytes:
    """Hear 0.3 s of the callee, answer with a tone, then barge in on a long one."""
    heard = bytearray()
    while len(heard) < 16_000 * 2 * 3 // 10:
        event = await asyncio.wait_for(link.receive(), WAIT)
        if isinstance(event, AudioReceived):
            heard.extend(event.pcm)
    link.play(tone(1000, 0.4, rate=16_000))
    link.mark("greeting")
    while not isinstance(event, MarkPlayed):
        event = await asyncio.wait_for(link.receive(), WAIT)
    link.play(tone(1000, 5.0, rate=16_000))
    await asyncio.sleep(0.2)
    await link.clear()
    while not isinstance(event, LinkClosed):
        event = await asyncio.wait_for(link.receive(), WAIT)
    return bytes(heard)


async def test_answered_call_streams_audio_both_ways_and_reports_statuses(
    telnyx: Harness,
) -> None:
    h = telnyx
    h.sim.scripts[CUSTOMER] = Script(talk_seconds=2.0, amd_result="human")
    heard: list[bytes] = []

    async def converse(link: MediaLink) -> None:
        heard.append(await talk_and_clear(link))

    h.events.converse = converse
    reference = await h.carrier.place_call(dial(h, "call-answered", ring_timeout_seconds=25))
    await wait_done(h, reference)
    completed = await h.events.wait_for_status("call-answered", COMPLETED)

    statuses = [u.status for u in h.events.statuses]
    assert statuses == [RINGING, IN_PROGRESS, IN_PROGRESS, COMPLETED]
    assert h.events.statuses[2].answered_by == "human"
    assert completed.end_reason == "customer-hangup"
    assert all(u.reference == reference for u in h.events.statuses)
    assert completed.occurred_at is not None
    assert abs((datetime.now(UTC) - completed.occurred_at).total_seconds()) < 60
    assert h.events.media_calls == ["call-answered"]

    call = h.sim.calls[reference]
    assert rms(heard[0]) > 0.15  # the callee's tone, through μ-law and resampling
    assert "clear" in call.received_events
    received_seconds = len(call.received_pcm) / 2 / 8000
    assert 0.4 <= received_seconds < 1.5  # the greeting, and the long tone cut by clear
    assert rms(bytes(call.received_pcm[: 8000 * 2 * 4 // 10])) > 0.15


async def test_dial_request_follows_telnyx_call_control(telnyx: Harness) -> None:
    h = telnyx
    h.sim.scripts[CUSTOMER] = Script(hangup_cause="user_busy")
    await h.carrier.place_call(dial(h, "call-body", ring_timeout_seconds=25))
    _, path, body = h.sim.requests[0]
    assert path == "/v2/calls"
    assert body["connection_id"] == h.sim.connection_id
    assert (body["to"], body["from"]) == (CUSTOMER, "+15550001000")
    assert body["webhook_url"] == f"{h.app_url}/telephony/telnyx/webhooks"
    assert body["webhook_url_method"] == "POST"
    assert base64.b64decode(body["client_state"]).decode() == "call-body"
    assert body["timeout_secs"] == 25
    assert body["answering_machine_detection"] == "detect"
    assert body["stream_track"] == "inbound_track"
    assert body["stream_bidirectional_mode"] == "rtp"
    assert body["stream_bidirectional_codec"] == "PCMU"
    stream = urlsplit(body["stream_url"])
    assert (stream.scheme, stream.netloc) == ("ws", h.app_url.removeprefix("http://"))
    assert stream.path == "/telephony/telnyx/media"
    query = parse_qs(stream.query)
    assert query == {"call_id": ["call-body"], "token": [media_token(SIGNING_KEY, "call-body")]}


async def test_no_voicemail_detection_asked_when_not_wanted(telnyx: Harness) -> None:
    h = telnyx
    h.sim.scripts[CUSTOMER] = Script(talk_seconds=0.2, amd_result="machine")
    reference = await h.carrier.place_call(dial(h, "call-noamd", detect_voicemail=False))
    await wait_done(h, reference)
    await h.events.wait_for_status("call-noamd", COMPLETED)
    assert "answering_machine_detection" not in h.sim.requests[0][2]
    assert VOICEMAIL not in [u.status for u in h.events.statuses]


@pytest.mark.parametrize(
    ("cause", "status", "end_reason"),
    [
        ("user_busy", BUSY, "busy"),
        ("timeout", NO_ANSWER, "no-answer"),
        ("no_answer", NO_ANSWER, "no-answer"),
        ("call_rejected", BUSY, "declined"),
        ("originator_cancel", CANCELED, "canceled"),
        ("not_found", FAILED, "carrier-error: not_found"),
        ("unspecified", FAILED, "carrier-error: unspecified"),
    ],
)
async def test_hangup_cause_maps_to_status(
    telnyx: Harness, cause: str, status: str, end_reason: str
) -> None:
    h = telnyx
    h.sim.scripts[CUSTOMER] = Script(hangup_cause=cause)
    reference = await h.carrier.place_call(dial(h, "call-cause"))
    await wait_done(h, reference)
    update = await h.events.wait_for_status("call-cause", status)
    assert update.end_reason == end_reason
    assert update.reference == reference
    assert [u.status for u in h.events.statuses] == [RINGING, status]
    assert h.events.media_calls == []


async def test_machine_detection_reports_voicemail(telnyx: Harness) -> None:
    h = telnyx
    h.sim.scripts[CUSTOMER] = Script(amd_result="machine", talk_seconds=0.2)
    reference = await h.carrier.place_call(dial(h, "call-machine"))
    await wait_done(h, reference)
    update = await h.events.wait_for_status("call-machine", VOICEMAIL)
    assert (update.answered_by, update.end_reason) == ("machine", "voicemail")


async def test_hang_up_ends_a_live_call_and_is_idempotent(telnyx: Harness) -> None:
    h = telnyx
    h.sim.scripts[CUSTOMER] = Script(talk_seconds=4.0)
    streaming = asyncio.Event()

    async def converse(link: MediaLink) -> None:
        streaming.set()
        while not isinstance(await asyncio.wait_for(link.receive(), WAIT), LinkClosed):
            pass

    h.events.converse = converse
    reference = await h.carrier.place_call(dial(h, "call-hangup"))
    await asyncio.wait_for(streaming.wait(), WAIT)
    assert await h.carrier.find_call(dial(h, "call-hangup"), datetime.now(UTC)) == reference
    assert await h.carrier.find_call(dial(h, "call-other"), datetime.now(UTC)) is None

    handle = CallHandle(call_id="call-hangup", reference=reference, account=h.events.account)
    await h.carrier.hang_up(handle)
    await wait_done(h, reference)
    update = await h.events.wait_for_status("call-hangup", COMPLETED)
    assert update.end_reason == "assistant-hangup"
    assert ("POST", f"/v2/calls/{reference}/actions/hangup", {}) in h.sim.requests

    await h.carrier.hang_up(handle)  # Telnyx answers 422 "call has already ended"
    await h.carrier.hang_up(CallHandle("call-x", None, h.events.account))  # never dialled
    hangups = [r for r in h.sim.requests if r[1].endswith("/actions/hangup")]
    assert len(hangups) == 2


@pytest.mark.parametrize(
    ("to", "retryable", "reason"),
    [
        ("5557770100", False, "The destination number is invalid"),
        ("+15559990500", True, "Unexpected error"),
    ],
)
async def test_dial_errors(telnyx: Harness, to: str, retryable: bool, reason: str) -> None:
    with pytest.raises(CarrierError) as caught:
        await telnyx.carrier.place_call(dial(telnyx, "call-err", to=to))
    assert (caught.value.retryable, caught.value.reason) == (retryable, reason)


async def test_wrong_api_key_is_not_retried(telnyx: Harness) -> None:
    account = CarrierAccount(
        "telnyx",
        {**telnyx.events.account.credentials, "api_key": "KEY_wrong"},
        telnyx.sim.url,
    )
    request = DialRequest("call-key", CUSTOMER, "+15550001000", account)
    with pytest.raises(CarrierError) as caught:
        await telnyx.carrier.place_call(request)
    assert (caught.value.retryable, caught.value.reason) == (False, "Authentication failed")
    assert telnyx.sim.calls == {}


async def test_unreachable_api_is_retryable(telnyx: Harness) -> None:
    account = CarrierAccount("telnyx", telnyx.events.account.credentials, "http://127.0.0.1:9")
    with pytest.raises(CarrierError) as caught:
        await telnyx.carrier.place_call(DialRequest("call-x", CUSTOMER, "+15550001000", account))
    assert caught.value.retryable


async def test_missing_credentials_fail_the_dial(telnyx: Harness) -> None:
    account = CarrierAccount("telnyx", {"api_key": "KEY_test"}, telnyx.sim.url)
    with pytest.raises(CarrierError, match="connection_id"):
        await telnyx.carrier.place_call(DialRequest("call-x", CUSTOMER, "+15550001000", account))
    assert telnyx.sim.requests == []
