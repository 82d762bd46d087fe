"""The sandbox carrier: simulated callees that speak through the real media path.

Dialling ``+1 NPA 555-01XX`` rings a simulated phone inside this process. When it answers,
it opens a WebSocket to our own media edge (``/telephony/sandbox/media``) in the Twilio Media
Streams dialect, so the conversation crosses the same μ-law codec, resampling and pacing
as a Twilio call. The callee speaks its persona's lines with the voice module's
synthesizer and transcribes what it hears, which tests read back from :attr:`reports`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import numpy as np
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from vozagent.telephony import carrier as status
from vozagent.telephony.carrier import (
    CallHandle,
    Carrier,
    CarrierContext,
    CarrierError,
    DialRequest,
    StatusUpdate,
    media_token,
    media_token_valid,
)
from vozagent.telephony.sandbox.callee_link import CalleeLink
from vozagent.telephony.sandbox.numbers import (
    HANG_UP_AFTER_SECONDS,
    Behaviour,
    behaviour_for,
    built_in_persona,
)
from vozagent.telephony.streams import MulawStreamLink, StreamProtocolError, pump, read_start
from vozagent.voice.audio import PIPELINE_RATE
from vozagent.voice.testing.callee import CalleeReport, ScriptedCallee
from vozagent.voice.testing.modem import ToneSynthesizer, ToneTranscriber
from vozagent.voice.testing.persona import Persona

log = logging.getLogger(__name__)
VOICEMAIL_GREETING = "Hi, you have reached Sam. Please leave a message after the beep."
# The longest a simulated callee stays on a call (a safety net, not a behaviour).
MAX_CALL_SECONDS = 600.0
_KEEP_REPORTS = 1000


@dataclass
class _SandboxCall:
    request: DialRequest
    task: asyncio.Task[None] | None = None
    link: CalleeLink | None = None
    ended_by_us: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


class SandboxCarrier(Carrier):
    name = "sandbox"

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        self.answer_delay = float(context.settings.get("sandbox_answer_delay_seconds", 1.0))
        self.synthesizer = ToneSynthesizer()
        self.transcriber = ToneTranscriber()
        # What each simulated callee heard and said, by call id (newest kept).
        self.reports: OrderedDict[str, CalleeReport] = OrderedDict()
        self._calls: dict[str, _SandboxCall] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        for call in list(self._calls.values()):
            if call.task is not None:
                call.task.cancel()
        tasks = [c.task for c in self._calls.values() if c.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    async def place_call(self, request: DialRequest) -> str:
        behaviour = behaviour_for(request.to)
        if behaviour is None:
            raise CarrierError("the sandbox carrier only dials the fictional range +1 NPA 555-01XX")
        reference = f"SB{uuid.uuid4().hex}"
        call = _SandboxCall(request)
        self._calls[reference] = call
        call.task = asyncio.create_task(
            self._play_out(reference, call, behaviour), name=f"sandbox-{request.call_id}"
        )
        return reference

    async def hang_up(self, handle: CallHandle) -> None:
        call = self._calls.get(handle.reference or "")
        if call is None:
            return
        call.ended_by_us = True
        if call.link is not None:
            await call.link.close()
        elif call.task is not None:
            call.task.cancel()

    def routes(self) -> Sequence[BaseRoute]:
        return [WebSocketRoute("/media", self._media_endpoint)]

    # -- the simulated network -------------------------------------------------------------

    async def _report(self, request: DialRequest, reference: str, state: str, **extra: Any) -> None:
        await self.context.events.status(
            StatusUpdate(call_id=request.call_id, status=state, reference=reference, **extra)
        )

    async def _play_out(self, reference: str, call: _SandboxCall, behaviour: Behaviour) -> None:
        request = call.request
        try:
            await asyncio.sleep(0.05)
            await self._report(request, reference, status.RINGING)
            if await self._ends_before_answer(reference, request, behaviour):
                return
            await asyncio.sleep(self.answer_delay)
            await self._connected_call(reference, call, behaviour)
        except asyncio.CancelledError:
            await asyncio.shield(
                self._report(request, reference, status.CANCELED, end_reason="canceled")
            )
            raise
        except (aiohttp.ClientError, OSError) as error:
            log.warning("sandbox call %s: media edge unreachable: %s", request.call_id, error)
            await self._report(
                request, reference, status.FAILED, end_reason="carrier-error: media unreachable"
            )
        finally:
            self._calls.pop(reference, None)

    async def _ends_before_answer(
        self, reference: str, request: DialRequest, behaviour: Behaviour
    ) -> bool:
        if behaviour is Behaviour.CARRIER_ERROR:
            await asyncio.sleep(0.2)
            await self._report(
                request, reference, status.FAILED, end_reason="carrier-error: 503 sandbox trunk"
            )
        elif behaviour is Behaviour.BUSY:
            await asyncio.sleep(0.5)
            await self._report(request, reference, status.BUSY, end_reason="busy")
        elif behaviour is Behaviour.NO_ANSWER:
            await asyncio.sleep(request.ring_timeout_seconds)
            await self._report(request, reference, status.NO_ANSWER, end_reason="no-answer")
        else:
            return False
        return True

    async def _connected_call(
        self, reference: str, call: _SandboxCall, behaviour: Behaviour
    ) -> None:
        request = call.request
        answered_by = "unknown" if behaviour is Behaviour.VOICEMAIL else "human"
        await self._report(request, reference, status.IN_PROGRESS, answered_by=answered_by)
        assert self._session is not None, "start() the carrier first"
        url = f"{_ws_base(self.base_url)}/media"
        async with self._session.ws_connect(url, heartbeat=None) as socket:
            link = CalleeLink(request.call_id, socket, stream_sid=f"MZ{uuid.uuid4().hex}")
            call.link = link
            token = media_token(self.context.signing_key, request.call_id)
            await link.open_stream(reference, {"call_id": request.call_id, "token": token})
            link.start()
            reader = asyncio.create_task(link.read_until_closed())
            earpiece = asyncio.create_task(link.play_out())
            try:
                await asyncio.wait_for(
                    self._behave(reference, link, call, behaviour), MAX_CALL_SECONDS
                )
            except TimeoutError:
                log.warning("sandbox call %s hit the safety limit", request.call_id)
            finally:
                remote = link.close_reason == "remote"
                await link.close()
                for task in (reader, earpiece):
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
        ended_by_assistant = call.ended_by_us or remote
        reason = "assistant-hangup" if ended_by_assistant else "customer-hangup"
        await self._report(request, reference, status.COMPLETED, end_reason=reason)

    async def _behave(
        self, reference: str, link: CalleeLink, call: _SandboxCall, behaviour: Behaviour
    ) -> None:
        if behaviour is Behaviour.HANGS_UP:
            await _closed_within(link, HANG_UP_AFTER_SECONDS)
        elif behaviour is Behaviour.VOICEMAIL:
            await self._voicemail(reference, link, call.request)
        else:
            persona = Persona.from_json(
                call.request.options.get("sandbox_persona") or built_in_persona(call.request.to)
            )
            callee = ScriptedCallee(self.synthesizer, self.transcriber)
            report = await callee.run(link, persona)
            self._keep_report(call.request.call_id, report)

    async def _voicemail(self, reference: str, link: CalleeLink, request: DialRequest) -> None:
        """A greeting and a beep, then answering-machine detection reports ``voicemail``
        (like Twilio's DetectMessageEnd) and the machine records until hung up."""
        link.play(await self.synthesizer.synthesize(VOICEMAIL_GREETING))
        link.play(_beep())
        link.mark("beep")
        while not link.closed and link.playing:  # noqa: ASYNC110 - the pacer has no event
            await asyncio.sleep(0.05)
        await self._report(
            request, reference, status.VOICEMAIL, answered_by="machine", end_reason="voicemail"
        )
        await _closed_within(link, 30.0)

    def _keep_report(self, call_id: str, report: CalleeReport) -> None:
        self.reports[call_id] = report
        while len(self.reports) > _KEEP_REPORTS:
            self.reports.popitem(last=False)

    # -- our media edge ----------------------------------------------------------------------

    async def _media_endpoint(self, websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            start = await asyncio.wait_for(read_start(websocket.receive_text), 10)
        except (StreamProtocolError, TimeoutError, WebSocketDisconnect):
            await websocket.close(code=1008)
            return
        call_id = start.custom_parameters.get("call_id", "")
        token = start.custom_parameters.get("token", "")
        if not media_token_valid(self.context.signing_key, call_id, token):
            await websocket.close(code=1008)
            return
        link = MulawStreamLink(call_id, websocket, start.stream_sid)
        await pump(
            link, websocket.receive_text, lambda live: self.context.events.media(call_id, live)
        )


async def _closed_within(link: CalleeLink, seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not link.closed and asyncio.get_running_loop().time() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)


def _beep(seconds: float = 0.5, hz: float = 1000.0) -> bytes:
    t = np.arange(int(PIPELINE_RATE * seconds)) / PIPELINE_RATE
    return (np.sin(2 * np.pi * hz * t) * 12000).astype(np.int16).tobytes()


def _ws_base(http_url: str) -> str:
    if http_url.startswith("https://"):
        return "wss://" + http_url.removeprefix("https://")
    return "ws://" + http_url.removeprefix("http://")
