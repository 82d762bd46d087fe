"""Whole calls through a live server: dialer, sandbox carrier, the Twilio-dialect media
socket, the scripted agent, recording, transcript and lifecycle (issue 4's "done means")."""

from __future__ import annotations

import asyncio
import io
import wave
from typing import Any

import httpx
import numpy as np
import pytest

from tests.e2e.conftest import LiveServer
from tests.support import unique_phone

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


async def _outbound_assistant(live: LiveServer) -> dict[str, Any]:
    number = await live.api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    return await live.api.create(
        "/v1/assistants",
        {
            "name": f"Ava {number['id'][-6:]}",
            "assistant_type": "outbound",
            "phone_number_id": number["id"],
            "first_message": "Hello, this is Ava from Sunny Dental.",
        },
    )


async def _call(live: LiveServer, assistant: dict[str, Any], to: str, **extra: Any) -> str:
    response = await live.api.post(
        "/v1/calls/outbound",
        json={"phone_number": to, "assistant_id": assistant["id"], **extra},
    )
    assert response.status_code == 201, response.text
    return str(response.json()["call_id"])


async def test_a_sandbox_call_converses_and_ends_with_transcript_cost_and_recording(
    live: LiveServer,
) -> None:
    assistant = await _outbound_assistant(live)
    call_id = await _call(live, assistant, "+12025550100", first_name="Maria")
    call = await live.wait_for_end(call_id)

    assert call["call_status"] == "completed", call
    assert call["duration_seconds"] > 0 and call["cost"] > 0
    assert call["call_started_at"] and call["call_ended_at"]
    lines = call["transcript"].splitlines()
    assert lines[0] == "Assistant: Hello, this is Ava from Sunny Dental."
    customer = [line.removeprefix("Customer: ") for line in lines if line.startswith("Customer:")]
    assert customer[:2] == ["Hi, who is this?", "Sure, I have a minute."]
    # The simulated callee understood the assistant through the same audio path.
    heard = live.sandbox.reports[call_id].heard
    assert heard and heard[0].startswith("Hello, this is Ava from Sunny")

    async with httpx.AsyncClient() as anonymous:
        recording = await anonymous.get(call["recording_url"])
    assert recording.status_code == 200 and recording.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(recording.content)) as wav:
        assert wav.getframerate() == 16_000
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16)
    assert len(samples) / 16_000 >= call["duration_seconds"] - 2
    assert np.sqrt(np.mean((samples / 32768.0) ** 2)) > 0.01

    events = await _status_history(live, call_id)
    assert events[:3] == ["ringing", "in-progress", "completed"]


async def _status_history(live: LiveServer, call_id: str) -> list[str]:
    from sqlalchemy import text

    from vozagent.storage.db import Database

    database: Database = live.app.state.container.database
    async with database.transaction() as session:
        rows = await session.execute(
            text(
                "SELECT data->>'status' FROM call_events WHERE call_id = :id "
                "AND kind = 'status' ORDER BY id"
            ),
            {"id": call_id},
        )
        return [r[0] for r in rows]


@pytest.mark.parametrize(
    ("line", "status", "reason"),
    [
        ("0150", "busy", "busy"),
        ("0151", "no-answer", "no-answer"),
        ("0152", "voicemail", "voicemail"),
        ("0153", "completed", "customer-hangup"),
        ("0154", "failed", "carrier-error: 503 sandbox trunk"),
    ],
)
async def test_special_sandbox_numbers_end_in_their_status(
    live: LiveServer, line: str, status: str, reason: str
) -> None:
    assistant = await _outbound_assistant(live)
    call = await live.wait_for_end(await _call(live, assistant, f"+1415555{line}"))
    assert call["call_status"] == status, call
    assert call["end_reason"] == reason


async def test_a_ringing_call_can_be_canceled(live: LiveServer) -> None:
    assistant = await _outbound_assistant(live)
    call_id = await _call(live, assistant, "+13125550151")
    for _ in range(100):
        status = (await live.api.get(f"/v1/calls/{call_id}")).json()["call_status"]
        if status == "ringing":
            break
        await asyncio.sleep(0.05)
    response = await live.api.post(f"/v1/calls/{call_id}/cancel")
    assert response.status_code == 200, response.text
    call = await live.wait_for_end(call_id)
    assert call["call_status"] == "canceled"
    again = await live.api.post(f"/v1/calls/{call_id}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "call_not_cancelable"


async def test_recording_links_need_a_valid_signature(live: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as anonymous:
        forged = await anonymous.get("/v1/calls/call-x/recording?expires=9999999999&signature=00")
        unsigned = await anonymous.get("/v1/calls/call-x/recording")
    assert forged.status_code == 401
    assert unsigned.status_code == 401
