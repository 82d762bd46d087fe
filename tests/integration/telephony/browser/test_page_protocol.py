"""The browser carrier against a Python client speaking the page's protocol over a real socket."""

from __future__ import annotations

import secrets

import aiohttp
import pytest

from tests.integration.telephony.browser.conftest import (
    FakePage,
    OpenPage,
    PhoneServer,
    Script,
    poll_until,
    tone,
)
from vozagent.telephony.browser.page import parse_stats
from vozagent.telephony.carrier import (
    BUSY,
    CANCELED,
    COMPLETED,
    IN_PROGRESS,
    NO_ANSWER,
    RINGING,
    CallHandle,
    CarrierError,
    DialRequest,
)
from vozagent.voice.audio import FRAME_BYTES, rms

pytestmark = pytest.mark.integration
CALLER = "+15550001111"


def dial(to: str, *, ring_timeout: int = 30) -> DialRequest:
    return DialRequest(
        call_id=f"call-{secrets.token_hex(4)}",
        to=to,
        from_=CALLER,
        account=None,
        ring_timeout_seconds=ring_timeout,
    )


def unique(prefix: str) -> str:
    return f"{prefix}-{secrets.token_hex(3)}"


async def ring_and_answer(
    server: PhoneServer, open_page: OpenPage, name: str
) -> tuple[FakePage, DialRequest, CallHandle]:
    page = await open_page(name)
    request = dial(f"browser:{name}")
    reference = await server.carrier.place_call(request)
    ring = await page.expect("ring")
    await page.send(type="answer", call_id=ring["call_id"])
    await server.events.wait_status(request.call_id, IN_PROGRESS)
    return page, request, CallHandle(request.call_id, reference, None)


async def test_a_call_rings_the_page_and_carries_audio_both_ways(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("front-desk")
    page = await open_page(name)
    assert name in phone_server.carrier.registered()
    request = dial(f"browser:{name}")

    reference = await phone_server.carrier.place_call(request)

    ring = await page.expect("ring")
    assert ring == {"type": "ring", "call_id": request.call_id, "from": CALLER}
    assert phone_server.events.statuses(request.call_id) == [RINGING]
    await page.send(type="answer", call_id=request.call_id)
    await phone_server.events.wait_status(request.call_id, IN_PROGRESS)
    await page.send_audio(tone(1.0, frequency=300))
    heard = phone_server.events.heard
    await phone_server.events.wait_until(lambda: len(heard.get(request.call_id, b"")) >= 32000)
    assert rms(bytes(heard[request.call_id])) > 0.15
    await page.wait_audio(16000)  # half a second of the fake conversation's tone
    assert rms(bytes(page.audio)) > 0.15
    assert page.frame_sizes == {FRAME_BYTES}

    await phone_server.carrier.hang_up(CallHandle(request.call_id, reference, None))

    assert (await page.expect("hangup"))["call_id"] == request.call_id
    end = await phone_server.events.wait_status(request.call_id, COMPLETED)
    assert end.end_reason == "assistant-hangup"
    assert end.reference == reference
    assert phone_server.events.statuses(request.call_id) == [RINGING, IN_PROGRESS, COMPLETED]


async def test_a_plain_name_without_the_prefix_rings_too(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    page = await open_page("+15557654321")
    request = dial("+15557654321")
    await phone_server.carrier.place_call(request)
    assert (await page.expect("ring"))["call_id"] == request.call_id
    await phone_server.carrier.hang_up(CallHandle(request.call_id, None, None))
    assert phone_server.events.last(request.call_id).status == CANCELED


async def test_declining_is_busy(phone_server: PhoneServer, open_page: OpenPage) -> None:
    name = unique("desk")
    page = await open_page(name)
    request = dial(name)
    await phone_server.carrier.place_call(request)
    await page.expect("ring")

    await page.send(type="decline", call_id=request.call_id)

    end = await phone_server.events.wait_status(request.call_id, BUSY)
    assert end.end_reason == "declined"


async def test_not_answering_in_time_is_no_answer(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    page = await open_page(name)
    request = dial(name, ring_timeout=1)
    await phone_server.carrier.place_call(request)
    await page.expect("ring")

    end = await phone_server.events.wait_status(request.call_id, NO_ANSWER)

    assert end.end_reason == "no-answer"
    assert (await page.expect("hangup"))["call_id"] == request.call_id
    # A late answer changes nothing.
    await page.send(type="answer", call_id=request.call_id)
    assert phone_server.events.statuses(request.call_id) == [RINGING, NO_ANSWER]


async def test_the_page_hanging_up_ends_the_call_and_the_link(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    page, request, _ = await ring_and_answer(phone_server, open_page, unique("desk"))

    await page.send(type="hangup", call_id=request.call_id)

    end = await phone_server.events.wait_status(request.call_id, COMPLETED)
    assert end.end_reason == "customer-hangup"
    await phone_server.events.wait_until(lambda: request.call_id in phone_server.events.closed)
    assert phone_server.events.closed[request.call_id].reason == "remote"


async def test_the_page_going_away_mid_call_is_a_customer_hangup(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    page, request, _ = await ring_and_answer(phone_server, open_page, name)

    await page.close()

    end = await phone_server.events.wait_status(request.call_id, COMPLETED)
    assert end.end_reason == "customer-hangup"
    assert name not in phone_server.carrier.registered()


async def test_hanging_up_while_ringing_cancels(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    page = await open_page(name)
    request = dial(name)
    reference = await phone_server.carrier.place_call(request)
    await page.expect("ring")

    await phone_server.carrier.hang_up(CallHandle(request.call_id, reference, None))
    await phone_server.carrier.hang_up(CallHandle(request.call_id, reference, None))  # no-op

    assert (await page.expect("hangup"))["call_id"] == request.call_id
    assert phone_server.events.statuses(request.call_id) == [RINGING, CANCELED]
    assert phone_server.events.last(request.call_id).end_reason == "canceled"


async def test_the_conversation_ending_hangs_up_the_page(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    page = await open_page(name)
    request = dial(name)
    phone_server.events.scripts[request.call_id] = Script(tone_seconds=0.2, hold_seconds=0.5)
    await phone_server.carrier.place_call(request)
    await page.expect("ring")
    await page.send(type="answer", call_id=request.call_id)

    assert (await page.expect("hangup"))["call_id"] == request.call_id
    end = await phone_server.events.wait_status(request.call_id, COMPLETED)
    assert end.end_reason == "assistant-hangup"


async def test_an_unknown_destination_is_refused(phone_server: PhoneServer) -> None:
    with pytest.raises(CarrierError, match="no browser phone is registered as nobody-here"):
        await phone_server.carrier.place_call(dial("browser:nobody-here"))


async def test_a_page_on_a_call_is_busy_for_another(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    _, first, handle = await ring_and_answer(phone_server, open_page, name)
    second = dial(name)

    await phone_server.carrier.place_call(second)

    assert phone_server.events.statuses(second.call_id) == [BUSY]
    assert phone_server.events.last(second.call_id).end_reason == "busy"
    await phone_server.carrier.hang_up(handle)
    assert phone_server.events.last(first.call_id).status == COMPLETED


async def test_keypad_digits_reach_the_conversation(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    page, request, handle = await ring_and_answer(phone_server, open_page, unique("desk"))

    for digit in ("5", "#", "x"):  # "x" is no DTMF digit and is dropped
        await page.send(type="dtmf", call_id=request.call_id, digit=digit)
    await page.send(type="dtmf", call_id=request.call_id, digit="1")

    digits = phone_server.events.digits
    await phone_server.events.wait_until(lambda: len(digits.get(request.call_id, [])) >= 3)
    assert digits[request.call_id] == ["5", "#", "1"]
    await phone_server.carrier.hang_up(handle)


async def test_barge_in_tells_the_page_to_drop_its_buffer(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    page, request, handle = await ring_and_answer(phone_server, open_page, unique("desk"))
    await phone_server.events.wait_until(lambda: request.call_id in phone_server.events.links)

    await phone_server.events.links[request.call_id].clear()

    assert await page.expect("clear") == {"type": "clear", "call_id": request.call_id}
    await phone_server.carrier.hang_up(handle)


async def test_the_page_reports_what_it_heard(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    page = await open_page(name)
    assert phone_server.carrier.page_stats(name) is None

    await page.send(type="stats", frames_received="many", rms=0.5)  # ignored: not a number
    await page.send(type="stats", frames_received=13, rms=True)  # ignored too
    await page.send(type="stats", call_id="c1", frames_received=12, rms=0.25, played_rms=0.2)

    await poll_until(lambda: phone_server.carrier.page_stats(name) is not None)
    stats = phone_server.carrier.page_stats(name)
    assert stats is not None
    assert (stats.call_id, stats.frames_received, stats.rms) == ("c1", 12, 0.25)
    assert stats.played_rms == 0.2
    assert parse_stats({"frames_received": "many", "rms": 0.5}) is None


async def test_a_new_page_with_the_same_name_replaces_the_old_one(
    phone_server: PhoneServer, open_page: OpenPage
) -> None:
    name = unique("desk")
    old = await open_page(name)
    new = await open_page(name)

    await old.expect("replaced")
    request = dial(name)
    await phone_server.carrier.place_call(request)

    assert (await new.expect("ring"))["call_id"] == request.call_id
    assert phone_server.carrier.registered().count(name) == 1
    await phone_server.carrier.hang_up(CallHandle(request.call_id, None, None))


@pytest.mark.parametrize(
    ("name", "headers"),
    [
        ("bad name!", {}),
        ("", {}),
        ("desk", {"Origin": "http://evil.example"}),
    ],
)
async def test_bad_names_and_foreign_origins_are_refused(
    phone_server: PhoneServer, name: str, headers: dict[str, str]
) -> None:
    with pytest.raises(aiohttp.WSServerHandshakeError):
        await phone_server.http.ws_connect(
            phone_server.ws_url, params={"name": name}, headers=headers
        )
    assert name not in phone_server.carrier.registered()


async def test_the_page_and_its_scripts_are_served(phone_server: PhoneServer) -> None:
    base = f"{phone_server.base_url}/telephony/browser"
    async with phone_server.http.get(f"{base}/phone?name=x") as response:
        assert response.status == 200
        html = await response.text()
    assert 'src="static/phone.js"' in html
    for script, marker in (("phone.js", "getUserMedia"), ("worklets.js", "registerProcessor")):
        async with phone_server.http.get(f"{base}/static/{script}") as response:
            assert response.status == 200
            assert marker in await response.text()
