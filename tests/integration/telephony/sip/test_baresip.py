"""Calls between the SIP carrier and a real softphone (Debian's baresip) on loopback."""

from __future__ import annotations

import numpy as np
import pytest

from tests.integration.telephony.sip.peers import TONE_HZ, Baresip, RecordingEvents, dial, read_wav
from vozagent.telephony.sip.carrier import SipCarrier
from vozagent.voice.audio import rms

pytestmark = pytest.mark.integration
SILENCE_RMS = 0.005


def dominant_hz(pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(pcm, dtype=np.int16).astype(np.float64)
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


async def test_outbound_call_we_hang_up(
    carrier: SipCarrier, events: RecordingEvents, baresip: Baresip
) -> None:
    events.listen_seconds = 2.5  # shorter than baresip's prompt: we end the call
    reference = await carrier.place_call(dial(baresip.sip_port, to="agent"))

    final = await events.wait_for_end()
    await baresip.wait_event("CALL_CLOSED")

    assert events.status_names == ["ringing", "in-progress", "completed"]
    assert {u.reference for u in events.statuses} == {reference}
    assert final.end_reason == "assistant-hangup"
    assert events.closed_by is None  # the link was still up when we hung up
    # What baresip heard is our tone.
    pcm, rate = read_wav(baresip.recording("-dec"))
    loud = [pcm[i : i + 320] for i in range(0, len(pcm), 320) if rms(pcm[i : i + 320]) > 0.1]
    assert len(loud) * 0.02 >= 1.2, baresip.log()
    assert abs(dominant_hz(b"".join(loud), rate) - TONE_HZ) < 10
    # And we heard baresip's 1 kHz prompt.
    assert rms(bytes(events.heard)) > SILENCE_RMS
    assert abs(dominant_hz(bytes(events.heard[: 16000 * 2]), 16000) - 1000) < 20


async def test_outbound_call_they_hang_up(
    carrier: SipCarrier, events: RecordingEvents, baresip: Baresip
) -> None:
    events.listen_seconds = 8.0  # longer than baresip's prompt, which ends in its BYE
    await carrier.place_call(dial(baresip.sip_port, to="agent"))

    final = await events.wait_for_end()

    assert final.status == "completed"
    assert final.end_reason == "customer-hangup"
    assert events.closed_by == "remote"
    assert final.duration_seconds is not None and 2 <= final.duration_seconds <= 6
    await baresip.wait_event("CALL_CLOSED")


async def test_inbound_call_from_baresip(
    carrier: SipCarrier, events: RecordingEvents, baresip: Baresip
) -> None:
    events.listen_seconds = 2.5
    await baresip.command("dial", f"sip:+15551230000@127.0.0.1:{carrier.port}")

    final = await events.wait_for_end()
    await baresip.wait_event("CALL_CLOSED")

    [call] = events.inbound_calls
    assert call.provider == "sip"
    assert call.to == "+15551230000"
    assert call.from_ == "agent"
    assert events.status_names == ["ringing", "in-progress", "completed"]
    assert final.call_id == "in-1"
    assert final.reference == call.reference
    assert rms(bytes(events.heard)) > SILENCE_RMS
    pcm, _ = read_wav(baresip.recording("-dec"))
    assert rms(pcm) > 0.05, baresip.log()
