"""A Telnyx stand-in on loopback, written from Telnyx's public docs.

It serves the Call Control REST commands we use (``POST /v2/calls``, ``actions/hangup``,
``actions/answer``, ``actions/reject``, ``GET /v2/connections/{id}/active_calls``) behind a
Bearer key, then plays each call out as Telnyx would: Ed25519-signed webhooks to the
``webhook_url`` (``call.initiated``, ``call.answered``, ``call.machine.detection.ended``,
``call.hangup``) and, once answered, a media-streaming WebSocket *client* to ``stream_url``
that sends ``connected``/``start``/``media`` (a 20 ms PCMU tone)/``stop`` and records what
comes back. How a call goes is scripted per destination number.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
import numpy as np
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from vozagent.telephony.codecs import pcm16_to_ulaw, ulaw_to_pcm16

WAIT = 5.0  # upper bound for any single wait inside the simulator


@dataclass(frozen=True)
class Script:
    """How a dialled call goes: a hangup cause before answer, or answer then talk."""

    hangup_cause: str | None = None  # e.g. "user_busy"; None: the callee answers
    amd_result: str | None = None  # "human" | "machine" | "not_sure" (when AMD was asked)
    talk_seconds: float = 1.0  # then the callee hangs up (normal_clearing, callee)
    tone_hz: float = 440.0


@dataclass
class SimCall:
    call_control_id: str
    to: str
    from_: str
    webhook_url: str
    client_state: str | None
    direction: str
    body: Mapping[str, Any]
    alive: bool = True
    received_pcm: bytearray = field(default_factory=bytearray)
    sent_pcm: bytearray = field(default_factory=bytearray)
    received_events: list[str] = field(default_factory=list)
    ws_close_code: int | None = None
    ws_refused_status: int | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)
    hung_up_by_api: asyncio.Event = field(default_factory=asyncio.Event)


def signed_headers(key: Ed25519PrivateKey, body: bytes, timestamp: int) -> dict[str, str]:
    signature = key.sign(f"{timestamp}|".encode() + body)
    return {
        "Content-Type": "application/json",
        "telnyx-signature-ed25519": base64.b64encode(signature).decode(),
        "telnyx-timestamp": str(timestamp),
    }


def tone(hz: float, seconds: float, amplitude: float = 0.3, rate: int = 8000) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    return (np.sin(2 * math.pi * hz * t) * amplitude * 32767).astype(np.int16).tobytes()


def webhook_document(event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "data": {
            "event_type": event_type,
            "id": f"evt-{time.monotonic_ns()}",
            "occurred_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "payload": dict(payload),
            "record_type": "event",
        },
        "meta": {"attempt": 1, "delivered_to": "simulator"},
    }


class TelnyxSimulator:
    def __init__(self, api_key: str = "KEY_test", connection_id: str = "conn-1") -> None:
        self.api_key = api_key
        self.connection_id = connection_id
        self.signing_key = Ed25519PrivateKey.generate()
        self.scripts: dict[str, Script] = {}
        self.calls: dict[str, SimCall] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.webhook_statuses: list[int] = []
        self._ids = itertools.count(1)
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self.url = ""

    @property
    def public_key(self) -> str:
        raw = self.signing_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        return base64.b64encode(raw).decode()

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/v2/calls", self._dial)
        app.router.add_post("/v2/calls/{id}/actions/{verb}", self._action)
        app.router.add_get("/v2/connections/{id}/active_calls", self._active_calls)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._http = aiohttp.ClientSession()

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def settle(self, seconds: float) -> None:
        """Wait for calls still playing out to end; cancel any left after ``seconds``."""
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=seconds)
            for task in pending:
                task.cancel()

    def reset(self) -> None:
        self.scripts.clear()
        self.calls.clear()
        self.requests.clear()
        self.webhook_statuses.clear()

    # -- REST ----------------------------------------------------------------------------

    def _authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.api_key}"

    @staticmethod
    def _error(status: int, code: str, detail: str) -> web.Response:
        return web.json_response(
            {"errors": [{"code": code, "title": "error", "detail": detail}]}, status=status
        )

    async def _dial(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, "10009", "Authentication failed")
        body = await request.json()
        self.requests.append(("POST", request.path, body))
        if body.get("connection_id") != self.connection_id:
            return self._error(422, "10015", "Invalid connection_id")
        if body["to"] == "+15559990500":
            return self._error(500, "10007", "Unexpected error")
        if not str(body["to"]).startswith("+"):
            return self._error(422, "90034", "The destination number is invalid")
        call = self._new_call(body, direction="outgoing")
        self._spawn(self._play_outgoing(call, self.scripts.get(call.to, Script())))
        return web.json_response(
            {"data": {"call_control_id": call.call_control_id, "record_type": "call"}}
        )

    def _new_call(self, body: Mapping[str, Any], *, direction: str) -> SimCall:
        call = SimCall(
            call_control_id=f"v3:sim-{next(self._ids)}",
            to=body["to"],
            from_=body["from"],
            webhook_url=body.get("webhook_url", ""),
            client_state=body.get("client_state"),
            direction=direction,
            body=body,
        )
        self.calls[call.call_control_id] = call
        return call

    async def _action(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, "10009", "Authentication failed")
        body = await request.json() if request.can_read_body else {}
        self.requests.append(("POST", request.path, body))
        call = self.calls.get(request.match_info["id"])
        if call is None:
            return self._error(404, "90015", "Call not found")
        if not call.alive:
            return self._error(422, "90018", "Call has already ended")
        verb = request.match_info["verb"]
        if verb == "hangup":
            call.hung_up_by_api.set()
        elif verb == "answer":
            call.client_state = body.get("client_state")
            call.webhook_url = body.get("webhook_url") or call.webhook_url
            call.body = {**call.body, **body}
            self._spawn(self._play_answered_inbound(call))
        elif verb == "reject":
            self._spawn(self._finish(call, "call_rejected", "callee"))
        return web.json_response({"data": {"result": "ok"}})

    async def _active_calls(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return self._error(401, "10009", "Authentication failed")
        self.requests.append(("GET", request.path_qs, None))
        page = int(request.query.get("page[number]", "1"))
        live = [c for c in self.calls.values() if c.alive] if page == 1 else []
        data = [
            {
                "call_control_id": c.call_control_id,
                "client_state": c.client_state or "",
                "record_type": "call",
            }
            for c in live
        ]
        return web.json_response({"data": data, "meta": {"page_number": page}})

    # -- playing calls out ---------------------------------------------------------------

    def _spawn(self, coroutine: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _payload(self, call: SimCall, **extra: Any) -> dict[str, Any]:
        return {
            "call_control_id": call.call_control_id,
            "call_leg_id": f"leg-{call.call_control_id}",
            "call_session_id": f"session-{call.call_control_id}",
            "connection_id": self.connection_id,
            "client_state": call.client_state,
            "from": call.from_,
            "to": call.to,
            **extra,
        }

    async def post_webhook(self, call: SimCall, event_type: str, **extra: Any) -> int:
        body = json.dumps(webhook_document(event_type, self._payload(call, **extra))).encode()
        headers = signed_headers(self.signing_key, body, int(time.time()))
        assert self._http is not None
        async with self._http.post(
            call.webhook_url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(WAIT)
        ) as response:
            self.webhook_statuses.append(response.status)
            return response.status

    async def _play_outgoing(self, call: SimCall, script: Script) -> None:
        await self.post_webhook(call, "call.initiated", direction="outgoing", state="bridging")
        if script.hangup_cause is not None:
            await self._finish(call, script.hangup_cause, "callee")
            return
        await self.post_webhook(call, "call.answered")
        if call.body.get("answering_machine_detection") and script.amd_result:
            await self.post_webhook(call, "call.machine.detection.ended", result=script.amd_result)
        await self._talk(call, script)

    async def _play_answered_inbound(self, call: SimCall) -> None:
        await self.post_webhook(call, "call.answered")
        await self._talk(call, self.scripts.get(call.from_, Script()))

    async def _talk(self, call: SimCall, script: Script) -> None:
        source = "callee" if call.direction == "outgoing" else "caller"
        try:
            await self._stream(call, script)
        finally:
            if call.hung_up_by_api.is_set():
                source = "caller" if call.direction == "outgoing" else "callee"
            await self._finish(call, "normal_clearing", source)

    async def _finish(self, call: SimCall, cause: str, source: str) -> None:
        call.alive = False
        with contextlib.suppress(aiohttp.ClientError, TimeoutError):
            await self.post_webhook(call, "call.hangup", hangup_cause=cause, hangup_source=source)
        call.done.set()

    async def incoming_call(self, to: str, from_: str, webhook_url: str) -> SimCall:
        """Someone calls one of the account's numbers: Telnyx posts ``call.initiated``."""
        call = self._new_call(
            {"to": to, "from": from_, "webhook_url": webhook_url}, direction="incoming"
        )
        await self.post_webhook(call, "call.initiated", direction="incoming", state="parked")
        return call

    # -- the media-streaming WebSocket client --------------------------------------------

    async def _stream(self, call: SimCall, script: Script) -> None:
        assert self._http is not None
        try:
            ws = await self._http.ws_connect(
                call.body["stream_url"], timeout=aiohttp.ClientWSTimeout(ws_close=WAIT)
            )
        except aiohttp.WSServerHandshakeError as error:
            call.ws_refused_status = error.status
            return
        async with ws:
            reader = asyncio.create_task(self._read(call, ws))
            try:
                await self._send_media(call, ws, script)
            finally:
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await ws.send_str(json.dumps({"event": "stop", "stop": {}}))
                await ws.close()
                call.ws_close_code = ws.close_code
                reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await reader

    async def _send_media(
        self, call: SimCall, ws: aiohttp.ClientWebSocketResponse, script: Script
    ) -> None:
        stream_id = f"stream-{call.call_control_id}"
        await ws.send_str(json.dumps({"event": "connected", "version": "1.0.0"}))
        start = {
            "call_control_id": call.call_control_id,
            "client_state": call.client_state,
            "from": call.from_,
            "to": call.to,
            "media_format": {"encoding": "PCMU", "sample_rate": 8000, "channels": 1},
        }
        await ws.send_str(
            json.dumps(
                {"event": "start", "sequence_number": "1", "stream_id": stream_id, "start": start}
            )
        )
        pcm = tone(script.tone_hz, script.talk_seconds)
        for chunk, offset in enumerate(range(0, len(pcm), 320)):
            if call.hung_up_by_api.is_set() or ws.closed:
                return
            frame = pcm[offset : offset + 320]
            call.sent_pcm.extend(frame)
            media = {
                "track": "inbound",
                "chunk": str(chunk + 1),
                "timestamp": str(chunk * 20),
                "payload": base64.b64encode(pcm16_to_ulaw(frame)).decode(),
            }
            await ws.send_str(
                json.dumps(
                    {
                        "event": "media",
                        "sequence_number": str(chunk + 2),
                        "stream_id": stream_id,
                        "media": media,
                    }
                )
            )
            await asyncio.sleep(0.02)

    async def _read(self, call: SimCall, ws: aiohttp.ClientWebSocketResponse) -> None:
        async for message in ws:
            if message.type != aiohttp.WSMsgType.TEXT:
                continue
            frame = json.loads(message.data)
            call.received_events.append(frame.get("event"))
            if frame.get("event") == "media":
                call.received_pcm.extend(ulaw_to_pcm16(base64.b64decode(frame["media"]["payload"])))
