"""The Telnyx carrier: Call Control v2 for call control, media streaming for audio.

Outgoing: ``POST /v2/calls`` with our ``stream_url`` (bidirectional RTP, PCMU) and our id in
``client_state``; Telnyx posts signed webhooks (``call.initiated``, ``call.answered``,
``call.machine.detection.ended``, ``call.hangup``) to ``/telephony/telnyx/webhooks`` and
opens the media WebSocket on ``/telephony/telnyx/media`` once the callee answers.
Incoming: ``call.initiated`` with ``direction: incoming`` is offered to the runtime, then
answered with the same stream parameters or rejected as busy.

Credentials: ``{"api_key", "connection_id", "public_key"}`` (``public_key``: the account's
base64 Ed25519 webhook key); ``api_base_url`` overrides ``https://api.telnyx.com``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Coroutine, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from vozagent.telephony.carrier import (
    CallHandle,
    Carrier,
    CarrierAccount,
    CarrierContext,
    DialRequest,
    InboundCall,
    media_token,
    media_token_valid,
)
from vozagent.telephony.streams import StreamProtocolError, pump
from vozagent.telephony.telnyx.api import ACTIVE_CALL_PAGES, TelnyxApi, TelnyxApiError, credential
from vozagent.telephony.telnyx.events import (
    ClientState,
    MalformedWebhook,
    Webhook,
    parse_webhook,
    status_update,
)
from vozagent.telephony.telnyx.signature import SignatureError, verify_webhook
from vozagent.telephony.telnyx.stream import TelnyxStreamLink, read_start
from vozagent.voice.media import MediaLink

log = logging.getLogger(__name__)

# How long Telnyx may take between opening the media socket and sending ``start``.
START_TIMEOUT_SECONDS = 10.0
# WebSocket close code for a policy violation (RFC 6455): a bad token, a second stream.
POLICY_VIOLATION = 1008
CONNECTED = WebSocketState.CONNECTED


class TelnyxCarrier(Carrier):
    name = "telnyx"

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        # Inbound answers run after the webhook's 200 (Telnyx wants a quick reply).
        self._tasks: set[asyncio.Task[None]] = set()
        # Calls with a media stream open: a leaked media URL cannot open a second one.
        self._streaming: set[str] = set()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- call control --------------------------------------------------------------------

    async def place_call(self, request: DialRequest) -> str:
        api = TelnyxApi(self.context.http, request.account)
        body: dict[str, Any] = {
            "connection_id": credential(request.account, "connection_id"),
            "to": request.to,
            "from": request.from_,
            "client_state": ClientState(request.call_id).encode(),
            "timeout_secs": request.ring_timeout_seconds,
            **self._webhook_params(),
            **self._stream_params(request.call_id),
        }
        if request.detect_voicemail:
            body["answering_machine_detection"] = "detect"
        return await api.dial(body)

    async def hang_up(self, handle: CallHandle) -> None:
        if handle.reference is None:
            return
        try:
            await TelnyxApi(self.context.http, handle.account).action(
                handle.reference, "hangup", {}
            )
        except TelnyxApiError as error:
            # 422 (code 90018) is "call has already ended"; 404 a call Telnyx forgot.
            if error.status not in (404, 422):
                raise
            log.debug("telnyx hangup of %s: already over (%s)", handle.call_id, error.reason)

    async def find_call(self, request: DialRequest, since: datetime) -> str | None:
        """Find the call among the connection's active calls by our ``client_state``.

        Telnyx documents ``GET /v2/connections/{connection_id}/active_calls``, which lists
        each live call's ``call_control_id`` with the ``client_state`` we dialled with, so a
        call placed just before a crash is found while it rings or talks. A call that has
        already ended is no longer listed (Telnyx offers no lookup of past calls by our
        state); its webhooks carry our id and will have reported its outcome instead.
        """
        api = TelnyxApi(self.context.http, request.account)
        connection_id = credential(request.account, "connection_id")
        wanted = ClientState(request.call_id).encode()
        for page in range(1, ACTIVE_CALL_PAGES + 1):
            calls = await api.active_calls(connection_id, page)
            for call in calls:
                if call.get("client_state") == wanted and isinstance(
                    call.get("call_control_id"), str
                ):
                    return str(call["call_control_id"])
            if len(calls) == 0:
                break
        return None

    def _webhook_params(self) -> dict[str, str]:
        return {"webhook_url": f"{self.base_url}/webhooks", "webhook_url_method": "POST"}

    def _stream_params(self, call_id: str) -> dict[str, str]:
        return {
            "stream_url": self.media_url(call_id),
            "stream_track": "inbound_track",
            "stream_codec": "PCMU",
            "stream_bidirectional_mode": "rtp",
            "stream_bidirectional_codec": "PCMU",
        }

    def media_url(self, call_id: str) -> str:
        scheme, _, rest = self.base_url.partition("://")
        ws_scheme = "wss" if scheme == "https" else "ws"
        query = urlencode(
            {"call_id": call_id, "token": media_token(self.context.signing_key, call_id)}
        )
        return f"{ws_scheme}://{rest}/media?{query}"

    # -- webhooks ------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return (
            Route("/webhooks", self.webhook, methods=["POST"]),
            WebSocketRoute("/media", self.media),
        )

    async def webhook(self, request: Request) -> Response:
        body = await request.body()
        try:
            webhook = parse_webhook(json.loads(body))
        except (ValueError, MalformedWebhook):
            return Response("malformed webhook", status_code=400)
        incoming = webhook.event_type == "call.initiated" and (
            webhook.payload.get("direction") == "incoming"
        )
        state = webhook.client_state
        if not incoming and state is None:
            # Not one of ours (no client_state, e.g. a leg we never answered): nothing to do.
            return Response(status_code=200)
        account = await self._account(webhook, state)
        if not _signed(account, request, body):
            return Response("bad signature", status_code=403)
        if incoming:
            self._spawn(self._take_inbound(webhook, account))
        elif state is not None:
            update = status_update(state, webhook)
            if update is not None:
                await self.context.events.status(update)
        return Response(status_code=200)

    async def _account(self, webhook: Webhook, state: ClientState | None) -> CarrierAccount | None:
        if state is not None:
            return await self.context.events.account_for_call(state.call_id)
        number = webhook.field("to")
        return await self.context.events.account_for_number(self.name, number) if number else None

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _take_inbound(self, webhook: Webhook, account: CarrierAccount | None) -> None:
        reference, to, from_ = webhook.call_control_id, webhook.field("to"), webhook.field("from")
        if reference is None or to is None:
            return
        try:
            answer = await self.context.events.inbound(
                InboundCall(provider=self.name, to=to, from_=from_ or "", reference=reference)
            )
            api = TelnyxApi(self.context.http, account)
            if answer.call_id is None:
                log.info("telnyx inbound call to %s refused: %s", to, answer.refusal)
                await api.action(reference, "reject", {"cause": "USER_BUSY"})
                return
            body = {
                "client_state": ClientState(answer.call_id, incoming=True).encode(),
                **self._webhook_params(),
                **self._stream_params(answer.call_id),
            }
            await api.action(reference, "answer", body)
        except Exception:  # a background task: nothing above it would see the error
            log.exception("telnyx inbound call %s could not be answered", reference)

    # -- media ---------------------------------------------------------------------------

    async def media(self, websocket: WebSocket) -> None:
        call_id = websocket.query_params.get("call_id", "")
        token = websocket.query_params.get("token", "")
        if not media_token_valid(self.context.signing_key, call_id, token) or (
            call_id in self._streaming
        ):
            # Before accept: the handshake is refused and nothing is read from the peer.
            await websocket.close(code=POLICY_VIOLATION)
            return
        self._streaming.add(call_id)
        try:
            await websocket.accept()
            await self._stream(call_id, websocket)
        finally:
            self._streaming.discard(call_id)

    async def _stream(self, call_id: str, websocket: WebSocket) -> None:
        try:
            start = await asyncio.wait_for(
                read_start(websocket.receive_text), timeout=START_TIMEOUT_SECONDS
            )
        except (StreamProtocolError, TimeoutError, WebSocketDisconnect) as error:
            log.info("telnyx stream %s did not start: %s", call_id, error)
            with contextlib.suppress(RuntimeError):
                await websocket.close(code=POLICY_VIOLATION)
            return
        link = TelnyxStreamLink(call_id, websocket, start)

        async def converse(media_link: MediaLink) -> None:
            await self.context.events.media(call_id, media_link)

        await pump(link, websocket.receive_text, converse)
        # After Telnyx's ``stop`` the link is closed from the far side and sends no close
        # frame itself; end the socket cleanly rather than dropping the connection.
        if websocket.client_state == websocket.application_state == CONNECTED:
            with contextlib.suppress(RuntimeError, ConnectionError):
                await websocket.close()


def _signed(account: CarrierAccount | None, request: Request, body: bytes) -> bool:
    public_key = account.credentials.get("public_key") if account is not None else None
    if not isinstance(public_key, str):
        return False
    try:
        verify_webhook(public_key, request.headers, body)
    except SignatureError as error:
        log.info("telnyx webhook refused: %s", error)
        return False
    return True
