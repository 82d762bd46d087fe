"""Opt-in smoke test against the real Telnyx API (places a real, billed call).

Runs only when all of these are set: ``TELNYX_API_KEY``, ``TELNYX_CONNECTION_ID`` (a Call
Control application), ``TELNYX_PUBLIC_KEY``, ``TELNYX_FROM`` (one of the account's numbers)
and ``TELNYX_TO`` (a phone that may ring). ``TELNYX_PUBLIC_URL`` is where webhooks and media
would go (default: an unroutable address, so Telnyx's webhooks fail and only REST is checked).
It dials, finds the call among the connection's active calls, and hangs up twice.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime

import aiohttp
import pytest

from tests.integration.telephony.telnyx.conftest import FakeEvents
from vozagent.telephony.carrier import CallHandle, CarrierAccount, CarrierContext, DialRequest
from vozagent.telephony.telnyx.carrier import TelnyxCarrier

REQUIRED = (
    "TELNYX_API_KEY",
    "TELNYX_CONNECTION_ID",
    "TELNYX_PUBLIC_KEY",
    "TELNYX_FROM",
    "TELNYX_TO",
)
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not all(os.environ.get(name) for name in REQUIRED),
        reason="live Telnyx smoke test: set " + ", ".join(REQUIRED) + " to run it",
    ),
]


async def test_live_dial_find_and_hang_up() -> None:
    account = CarrierAccount(
        "telnyx",
        {
            "api_key": os.environ["TELNYX_API_KEY"],
            "connection_id": os.environ["TELNYX_CONNECTION_ID"],
            "public_key": os.environ["TELNYX_PUBLIC_KEY"],
        },
    )
    public_url = os.environ.get("TELNYX_PUBLIC_URL", "https://vozagent-smoke.invalid")
    request = DialRequest(
        f"call-live-{int(datetime.now(UTC).timestamp())}",
        to=os.environ["TELNYX_TO"],
        from_=os.environ["TELNYX_FROM"],
        account=account,
        ring_timeout_seconds=20,
        detect_voicemail=False,
    )
    async with aiohttp.ClientSession() as http:
        carrier = TelnyxCarrier(
            CarrierContext(FakeEvents(account), public_url, http, signing_key=b"live-smoke")
        )
        reference = await carrier.place_call(request)
        assert reference
        try:
            found = None
            for _ in range(10):  # the call shows up among active calls within a few seconds
                found = await carrier.find_call(request, datetime.now(UTC))
                if found:
                    break
                await asyncio.sleep(0.5)
            assert found == reference
        finally:
            handle = CallHandle(request.call_id, reference, account)
            await carrier.hang_up(handle)
            await carrier.hang_up(handle)  # already over: still no error
