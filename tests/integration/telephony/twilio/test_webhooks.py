"""Twilio's webhooks into us: signature checks, inbound calls, the number's status callback."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime

import pytest
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from tests.integration.telephony.twilio.conftest import (
    AUTH_TOKEN,
    OUR_NUMBER,
    SIGNING_KEY,
    TwilioRig,
)
from tests.integration.telephony.twilio.simulator import (
    Script,
    SimulatedCall,
    parse_connect_stream,
)
from vozagent.telephony.carrier import COMPLETED, IN_PROGRESS, media_token
from vozagent.voice.audio import rms

pytestmark = pytest.mark.integration

CALLER = "+15557654321"


def progress(call_sid: str, status: str, sequence: int = 1, **extra: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": call_sid,
        "CallStatus": status,
        "From": CALLER,
        "To": OUR_NUMBER,
        "SequenceNumber": str(sequence),
        "Timestamp": format_datetime(datetime.now(UTC)),
        **extra,
    }


async def post(rig: TwilioRig, path: str, form: dict[str, str], signature: str | None) -> int:
    headers = {} if signature is None else {"X-Twilio-Signature": signature}
    url = f"{rig.app_url}/telephony/twilio{path}"
    async with rig.http.post(url, data=form, headers=headers) as response:
        return response.status


@pytest.mark.parametrize(
    "signer",
    [
        None,
        RequestValidator("some-other-token"),
    ],
    ids=["missing", "wrong-token"],
)
async def test_unsigned_status_callback_is_refused(
    rig: TwilioRig, signer: RequestValidator | None
) -> None:
    form = progress("CA1", "in-progress")
    url = f"{rig.app_url}/telephony/twilio/calls/call-1/status"
    signature = signer.compute_signature(url, form) if signer else None

    assert await post(rig, "/calls/call-1/status", form, signature) == 403
    assert rig.events.statuses == []


async def test_signature_covers_every_parameter(rig: TwilioRig) -> None:
    url = f"{rig.app_url}/telephony/twilio/calls/call-1/status"
    signed = progress("CA1", "ringing")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, signed)
    tampered = {**signed, "CallStatus": "completed"}

    assert await post(rig, "/calls/call-1/status", tampered, signature) == 403
    assert await post(rig, "/calls/call-1/status", signed, signature) == 204
    assert [u.status for u in rig.events.statuses] == ["ringing"]


async def test_signature_is_checked_against_the_public_url_not_the_host(rig: TwilioRig) -> None:
    # Signed for the URL an attacker might route through; we only trust our public URL.
    form = progress("CA1", "in-progress")
    signature = RequestValidator(AUTH_TOKEN).compute_signature(
        "http://attacker.example/telephony/twilio/calls/call-1/status", form
    )

    assert await post(rig, "/calls/call-1/status", form, signature) == 403


async def test_amd_human_keeps_the_call_going(rig: TwilioRig) -> None:
    url = f"{rig.app_url}/telephony/twilio/calls/call-1/amd"
    form = {"CallSid": "CA1", "AnsweredBy": "human", "AccountSid": "AC1"}
    signature = RequestValidator(AUTH_TOKEN).compute_signature(url, form)

    assert await post(rig, "/calls/call-1/amd", form, signature) == 204
    assert [(u.status, u.answered_by) for u in rig.events.statuses] == [(IN_PROGRESS, "human")]


async def test_inbound_call_is_connected_to_a_stream_and_talks(rig: TwilioRig) -> None:
    form = {"CallSid": "CA" + "7" * 32, "To": OUR_NUMBER, "From": CALLER, "CallStatus": "ringing"}
    status, twiml = await rig.simulator.post_webhook(
        f"{rig.app_url}/telephony/twilio/inbound", form
    )

    assert status == 200
    url, parameters = parse_connect_stream(twiml)
    assert parameters == {"call_id": "call-in-1", "token": media_token(SIGNING_KEY, "call-in-1")}
    assert [(c.to, c.from_, c.reference) for c in rig.events.inbound_calls] == [
        (OUR_NUMBER, CALLER, form["CallSid"])
    ]
    call = SimulatedCall(form["CallSid"], OUR_NUMBER, CALLER, {}, datetime.now(UTC))
    await rig.simulator.run_stream(call, twiml, Script(talk_seconds=2.0))
    assert rms(bytes(rig.events.heard["call-in-1"])) > 0.1
    assert rms(call.received_pcm) > 0.1

    # The number's "call status changes" webhook reports the end of the inbound call.
    done = progress(form["CallSid"], "completed", 3, CallDuration="2")
    status, _ = await rig.simulator.post_webhook(f"{rig.app_url}/telephony/twilio/status", done)
    assert status == 204
    assert [(u.call_id, u.status, u.duration_seconds) for u in rig.events.statuses] == [
        ("call-in-1", COMPLETED, 2)
    ]


async def test_refused_inbound_call_is_rejected_busy(rig: TwilioRig) -> None:
    rig.events.refuse_inbound = True
    form = {"CallSid": "CA" + "8" * 32, "To": OUR_NUMBER, "From": CALLER}

    status, twiml = await rig.simulator.post_webhook(
        f"{rig.app_url}/telephony/twilio/inbound", form
    )

    assert status == 200
    assert twiml == '<Response><Reject reason="busy" /></Response>'


async def test_inbound_for_an_unknown_number_is_refused(rig: TwilioRig) -> None:
    form = {"CallSid": "CA" + "9" * 32, "To": "+15550009999", "From": CALLER}

    status, _ = await rig.simulator.post_webhook(f"{rig.app_url}/telephony/twilio/inbound", form)

    assert status == 403
    assert rig.events.inbound_calls == []
