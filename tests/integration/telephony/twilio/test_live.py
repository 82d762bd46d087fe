"""Opt-in smoke test against the real Twilio API (costs a call; needs a real account).

Set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, TWILIO_FROM (a number on the account) and
TWILIO_TO (a phone you own). It places a real call, finds it again, and hangs it up; the
callbacks go to VOZAGENT_PUBLIC_URL when set (otherwise to an unreachable placeholder, which
Twilio tolerates). Never runs in CI: it needs the internet and secrets.
"""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.integration.telephony.twilio.conftest import FakeEvents
from vozagent.telephony.carrier import CallHandle, CarrierAccount, CarrierContext, DialRequest
from vozagent.telephony.twilio.carrier import TwilioCarrier

REQUIRED = ("TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM", "TWILIO_TO")

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        not all(os.environ.get(name) for name in REQUIRED),
        reason="live Twilio smoke test: set " + ", ".join(REQUIRED) + " to run it",
    ),
]


async def test_live_call_is_placed_found_and_hung_up() -> None:
    account = CarrierAccount(
        "twilio",
        {
            "account_sid": os.environ["TWILIO_ACCOUNT_SID"],
            "auth_token": os.environ["TWILIO_AUTH_TOKEN"],
        },
    )
    public_url = os.environ.get("VOZAGENT_PUBLIC_URL", "https://vozagent.invalid")
    request = DialRequest(
        "live-smoke",
        os.environ["TWILIO_TO"],
        os.environ["TWILIO_FROM"],
        account,
        ring_timeout_seconds=15,
        detect_voicemail=False,
    )
    since = datetime.now(UTC) - timedelta(seconds=2)
    async with aiohttp.ClientSession() as http:
        carrier = TwilioCarrier(
            CarrierContext(FakeEvents(account), public_url, http, signing_key=b"live-smoke")
        )
        sid = await carrier.place_call(request)
        try:
            assert sid.startswith("CA")
            found = None
            for _ in range(10):  # the Calls list can lag the create by a moment
                found = await carrier.find_call(request, since)
                if found:
                    break
                await asyncio.sleep(1)
            assert found == sid
        finally:
            await carrier.hang_up(CallHandle("live-smoke", sid, account))
