"""A stand-in for Twilio, written from its public documentation, for offline contract tests.

It implements the Calls REST resource (create / update / list, HTTP Basic auth, form bodies,
JSON answers and errors: https://www.twilio.com/docs/voice/api/call-resource), plays each call
out asynchronously with signed status callbacks (signed by the ``twilio`` SDK's own
``RequestValidator``, the oracle), runs the TwiML's ``<Connect><Stream>`` as a Media Streams
WebSocket *client* (https://www.twilio.com/docs/voice/media-streams/websocket-messages):
``connected``, ``start``, μ-law ``media`` every 20 ms, ``stop``; it records the ``media``,
``mark`` and ``clear`` messages it gets back. What each destination does is scripted.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree

import aiohttp
import numpy as np
from aiohttp import web
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from vozagent.telephony.codecs import pcm16_to_ulaw, ulaw_to_pcm16

FRAME_SECONDS = 0.02
FRAME_SAMPLES = 160  # 20 ms of 8 kHz μ-law


@dataclass(frozen=True)
class Script:
    """What the far end of a call to one destination does."""

    # answer | busy | no-answer | failed | machine | invalid (REST 400) | server-error (500)
    outcome: str = "answer"
    talk_seconds: float = 2.0  # the callee hangs up after this long, unless we hang up first
    tone_hz: float = 700.0
    out_of_order: bool = False  # deliver "ringing" after "in-progress"
    tamper_token: bool = False  # present a wrong media token in the stream's start message
    tamper_signature: bool = False  # sign the WebSocket upgrade with a wrong key


@dataclass
class SimulatedCall:
    sid: str
    to: str
    from_: str
    params: dict[str, list[str]]
    created: datetime
    status: str = "queued"
    received_ulaw: bytearray = field(default_factory=bytearray)
    marks: list[str] = field(default_factory=list)
    clears: int = 0
    callbacks: list[tuple[str, int]] = field(default_factory=list)  # (CallStatus, HTTP status)
    stream_close_code: int | None = None
    hangup_requested: asyncio.Event = field(default_factory=asyncio.Event)
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def first(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    @property
    def received_pcm(self) -> bytes:
        return ulaw_to_pcm16(bytes(self.received_ulaw))


class TwilioSimulator:
    def __init__(self, account_sid: str, auth_token: str, scripts: Mapping[str, Script]) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.scripts = dict(scripts)
        self.calls: dict[str, SimulatedCall] = {}
        self.updates: list[tuple[str, dict[str, str]]] = []
        self._validator = RequestValidator(auth_token)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.base_url = ""

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> str:
        app = web.Application()
        calls = f"/2010-04-01/Accounts/{self.account_sid}/Calls"
        app.router.add_post(f"{calls}.json", self._create)
        app.router.add_get(f"{calls}.json", self._list)
        app.router.add_post(calls + "/{sid}.json", self._update)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self._http = aiohttp.ClientSession()
        self.base_url = f"http://127.0.0.1:{port}"
        return self.base_url

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_done(self, sid: str) -> SimulatedCall:
        """The call once it is over (every scripted call ends within seconds)."""
        call = self.calls[sid]
        async with asyncio.timeout(15):
            await call.done.wait()
        return call

    # -- REST ----------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
        try:
            credentials = base64.b64decode(encoded, validate=True).decode()
        except (ValueError, UnicodeDecodeError):
            return False
        return scheme == "Basic" and credentials == f"{self.account_sid}:{self.auth_token}"

    async def _create(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        form = await request.post()
        params = {key: [str(v) for v in form.getall(key)] for key in set(form.keys())}
        to, from_ = params.get("To", [""])[0], params.get("From", [""])[0]
        if not to:
            return _error(400, 21201, "No 'To' number is specified")
        if not from_:
            return _error(400, 21213, "No 'From' number is specified")
        script = self.scripts.get(to, Script())
        if script.outcome == "invalid":
            return _error(400, 21211, f"Invalid 'To' Phone Number: {to}")
        if script.outcome == "server-error":
            return _error(500, 20500, "An internal server error has occurred")
        call = SimulatedCall("CA" + secrets.token_hex(16), to, from_, params, datetime.now(UTC))
        self.calls[call.sid] = call
        self._spawn(self._play_out(call, script))
        return web.json_response(self._resource(call), status=201)

    async def _update(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        call = self.calls.get(request.match_info["sid"])
        if call is None:
            return _error(404, 20404, "The requested resource was not found")
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.updates.append((call.sid, form))
        if form.get("Status") in ("completed", "canceled"):
            call.hangup_requested.set()
        return web.json_response(self._resource(call))

    async def _list(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        query = request.query
        after = query.get("StartTime>")
        matches = [
            self._resource(call)
            for call in sorted(self.calls.values(), key=lambda c: c.created, reverse=True)
            if query.get("To", call.to) == call.to
            and query.get("From", call.from_) == call.from_
            and (after is None or call.created.date().isoformat() >= after)
        ]
        return web.json_response({"calls": matches, "page": 0, "next_page_uri": None})

    def _resource(self, call: SimulatedCall) -> dict[str, Any]:
        created = format_datetime(call.created)
        return {
            "sid": call.sid,
            "account_sid": self.account_sid,
            "to": call.to,
            "from": call.from_,
            "status": call.status,
            "date_created": created,
            "start_time": created,
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- playing a call out ----------------------------------------------------------------

    async def _play_out(self, call: SimulatedCall, script: Script) -> None:
        try:
            await self._progress(call, script)
        finally:
            call.done.set()

    async def _progress(self, call: SimulatedCall, script: Script) -> None:
        await self._callback(call, "initiated", "queued", 0)
        if script.outcome == "failed":
            await self._callback(call, "completed", "failed", 1)
            return
        if script.out_of_order:
            await self._callback(call, "answered", "in-progress", 2)
            await self._callback(call, "ringing", "ringing", 1)
        else:
            await self._callback(call, "ringing", "ringing", 1)
            if script.outcome in ("busy", "no-answer"):
                await asyncio.sleep(0.05)
                await self._callback(call, "completed", script.outcome, 2)
                return
            await self._callback(call, "answered", "in-progress", 2)
        answered_at = time.monotonic()
        if script.outcome == "machine":
            self._spawn(self._amd(call, "machine_end_beep"))
        twiml = call.first("Twiml") or ""
        await self.run_stream(call, twiml, script)
        duration = round(time.monotonic() - answered_at)
        await self._callback(call, "completed", "completed", 3, CallDuration=str(duration))

    async def _callback(
        self, call: SimulatedCall, event: str, status: str, sequence: int, **extra: str
    ) -> None:
        call.status = status
        url = call.first("StatusCallback")
        if url is None or event not in call.params.get("StatusCallbackEvent", ["completed"]):
            return
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": call.sid,
            "CallStatus": status,
            "Called": call.to,
            "Caller": call.from_,
            "CallbackSource": "call-progress-events",
            "Direction": "outbound-api",
            "From": call.from_,
            "To": call.to,
            "SequenceNumber": str(sequence),
            "Timestamp": format_datetime(datetime.now(UTC)),
            **extra,
        }
        call.callbacks.append((status, await self._post_signed(url, params)))

    async def _amd(self, call: SimulatedCall, answered_by: str) -> None:
        await asyncio.sleep(0.3)  # detection takes a moment after the answer
        url = call.first("AsyncAmdStatusCallback")
        if url is not None and call.first("AsyncAmd") == "true":
            params = {
                "AccountSid": self.account_sid,
                "CallSid": call.sid,
                "AnsweredBy": answered_by,
                "MachineDetectionDuration": "2100",
            }
            call.callbacks.append((f"amd:{answered_by}", await self._post_signed(url, params)))

    async def _post_signed(self, url: str, params: dict[str, str]) -> int:
        assert self._http is not None
        signature = self._validator.compute_signature(url, params)
        async with self._http.post(
            url, data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            await response.read()
            return response.status

    async def post_webhook(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        """Call one of our webhooks the way Twilio does (the inbound Voice URL)."""
        assert self._http is not None
        signature = self._validator.compute_signature(url, params)
        async with self._http.post(
            url, data=params, headers={"X-Twilio-Signature": signature}
        ) as response:
            return response.status, await response.text()

    # -- Media Streams -------------------------------------------------------------------

    async def run_stream(self, call: SimulatedCall, twiml: str, script: Script) -> None:
        url, parameters = parse_connect_stream(twiml)
        if script.tamper_token:
            parameters["token"] = "0" * 64
        key = "not-the-auth-token" if script.tamper_signature else self.auth_token
        signature = RequestValidator(key).compute_signature(url, {})
        assert self._http is not None
        async with self._http.ws_connect(
            url, headers={"X-Twilio-Signature": signature}, autoclose=True
        ) as ws:
            stream_sid = "MZ" + secrets.token_hex(16)
            await ws.send_json({"event": "connected", "protocol": "Call", "version": "1.0.0"})
            await ws.send_json(self._start_message(call, stream_sid, parameters))
            receiver = asyncio.create_task(_receive(ws, call))
            try:
                await _send_audio(ws, call, script, stream_sid, receiver)
                if not ws.closed:
                    stop = {"accountSid": self.account_sid, "callSid": call.sid}
                    await ws.send_json({"event": "stop", "streamSid": stream_sid, "stop": stop})
                    await ws.close()
            finally:
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    async with asyncio.timeout(2):
                        await receiver
                receiver.cancel()
            call.stream_close_code = ws.close_code

    def _start_message(
        self, call: SimulatedCall, stream_sid: str, parameters: dict[str, str]
    ) -> dict[str, Any]:
        return {
            "event": "start",
            "sequenceNumber": "1",
            "streamSid": stream_sid,
            "start": {
                "streamSid": stream_sid,
                "accountSid": self.account_sid,
                "callSid": call.sid,
                "tracks": ["inbound"],
                "customParameters": parameters,
                "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            },
        }


async def _send_audio(
    ws: aiohttp.ClientWebSocketResponse,
    call: SimulatedCall,
    script: Script,
    stream_sid: str,
    receiver: asyncio.Task[None],
) -> None:
    """μ-law tone frames every 20 ms until the callee's time is up or the call ends."""
    tone = _tone_ulaw(script.tone_hz, script.talk_seconds)
    start = time.monotonic()
    for chunk_index in range(len(tone) // FRAME_SAMPLES):
        if ws.closed or receiver.done() or call.hangup_requested.is_set():
            return
        chunk = tone[chunk_index * FRAME_SAMPLES : (chunk_index + 1) * FRAME_SAMPLES]
        media = {
            "track": "inbound",
            "chunk": str(chunk_index + 1),
            "timestamp": str(chunk_index * 20),
            "payload": base64.b64encode(chunk).decode(),
        }
        with contextlib.suppress(ConnectionError):
            await ws.send_json({"event": "media", "streamSid": stream_sid, "media": media})
        next_at = start + (chunk_index + 1) * FRAME_SECONDS
        await asyncio.sleep(max(0.0, next_at - time.monotonic()))


async def _receive(ws: aiohttp.ClientWebSocketResponse, call: SimulatedCall) -> None:
    async for message in ws:
        if message.type != aiohttp.WSMsgType.TEXT:
            continue
        frame = json.loads(message.data)
        event = frame.get("event")
        if event == "media":
            call.received_ulaw.extend(base64.b64decode(frame["media"]["payload"]))
        elif event == "mark":
            call.marks.append(frame["mark"]["name"])
        elif event == "clear":
            call.clears += 1


def parse_connect_stream(twiml: str) -> tuple[str, dict[str, str]]:
    """The ``<Connect><Stream>`` URL and its ``<Parameter>`` nouns."""
    stream = ElementTree.fromstring(twiml).find("./Connect/Stream")
    if stream is None:
        raise ValueError(f"no <Connect><Stream> in {twiml!r}")
    parameters = {p.attrib["name"]: p.attrib["value"] for p in stream.findall("Parameter")}
    return stream.attrib["url"], parameters


def _tone_ulaw(hz: float, seconds: float) -> bytes:
    samples = np.arange(int(8000 * seconds))
    pcm = (0.3 * 32767 * np.sin(2 * np.pi * hz * samples / 8000)).astype(np.int16)
    return pcm16_to_ulaw(pcm.tobytes())


def _error(status: int, code: int, message: str) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status)
