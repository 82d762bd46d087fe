"""The Media Streams WebSocket: authenticate Twilio's connection, then run the conversation.

The stream URL carries no call id (Twilio forbids a query string on it), so the socket is
accepted first and authenticated from its ``start`` message: the ``call_id`` and ``token``
``<Parameter>`` we put in the TwiML, and the upgrade's ``X-Twilio-Signature`` checked with
the auth token of that call's account.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from vozagent.telephony.carrier import CarrierContext, media_token_valid
from vozagent.telephony.streams import (
    MulawStreamLink,
    StreamProtocolError,
    StreamStart,
    pump,
    read_start,
)
from vozagent.telephony.twilio.signature import SIGNATURE_HEADER, signature_valid
from vozagent.voice.media import MediaLink

log = logging.getLogger(__name__)

# Twilio sends ``connected`` and ``start`` right after the upgrade; a peer that does not is
# not Twilio and must not hold a socket open.
START_TIMEOUT_SECONDS = 10
POLICY_VIOLATION = 1008


async def serve_media_socket(
    websocket: WebSocket, context: CarrierContext, stream_url: str
) -> None:
    signature = websocket.headers.get(SIGNATURE_HEADER)
    await websocket.accept()
    start = await _read_start(websocket)
    if start is None:
        await _close(websocket, POLICY_VIOLATION)
        return
    call_id = start.custom_parameters.get("call_id", "")
    if not await _authentic(context, start, stream_url, signature):
        log.warning("twilio media socket rejected for call %r", call_id)
        await _close(websocket, POLICY_VIOLATION)
        return
    link = MulawStreamLink(call_id, websocket, start.stream_sid)
    await pump(link, websocket.receive_text, _conversation(context, call_id))


async def _read_start(websocket: WebSocket) -> StreamStart | None:
    try:
        async with asyncio.timeout(START_TIMEOUT_SECONDS):
            return await read_start(websocket.receive_text)
    except (StreamProtocolError, TimeoutError, WebSocketDisconnect, KeyError, RuntimeError):
        # KeyError: a binary frame where text was expected (Starlette's receive_text).
        return None


async def _authentic(
    context: CarrierContext, start: StreamStart, stream_url: str, signature: str | None
) -> bool:
    call_id = start.custom_parameters.get("call_id", "")
    token = start.custom_parameters.get("token", "")
    if not call_id or not media_token_valid(context.signing_key, call_id, token):
        return False
    account = await context.events.account_for_call(call_id)
    auth_token = str(account.credentials.get("auth_token", "")) if account else ""
    # A WebSocket upgrade has no form parameters: only the URL is signed.
    return signature_valid(auth_token, stream_url, (), signature)


def _conversation(context: CarrierContext, call_id: str) -> Callable[[MediaLink], Awaitable[None]]:
    async def converse(link: MediaLink) -> None:
        await context.events.media(call_id, link)

    return converse


async def _close(websocket: WebSocket, code: int) -> None:
    with contextlib.suppress(RuntimeError, WebSocketDisconnect):
        await websocket.close(code=code)
