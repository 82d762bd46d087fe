"""Twilio: calls placed over REST, progress from signed callbacks, audio over Media Streams.

Routes, mounted under ``/telephony/twilio``:

* ``POST /calls/{call_id}/status`` and ``POST /calls/{call_id}/amd``: the call-progress and
  answering-machine callbacks we ask for when placing a call.
* ``WebSocket /media``: the ``<Connect><Stream>`` every call's TwiML opens.
* ``POST /inbound``: set it as the number's Voice URL ("A call comes in", HTTP POST).
* ``POST /status``: optionally, the number's "Call status changes" URL, so an inbound call's
  end (with its duration) is reported too; without it the end of the media stream ends it.

Every request is authenticated with ``X-Twilio-Signature`` against the URL built from our
public URL (never the Host header, which a proxy or an attacker chooses).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from vozagent.telephony.carrier import (
    CallHandle,
    Carrier,
    CarrierAccount,
    CarrierContext,
    CarrierError,
    DialRequest,
    InboundCall,
    StatusUpdate,
    media_token,
)
from vozagent.telephony.twilio import twiml
from vozagent.telephony.twilio.callbacks import amd_update, status_update
from vozagent.telephony.twilio.media import serve_media_socket
from vozagent.telephony.twilio.rest import TwilioRest, rfc2822
from vozagent.telephony.twilio.signature import SIGNATURE_HEADER, signature_valid

log = logging.getLogger(__name__)

STATUS_EVENTS = ("initiated", "ringing", "answered", "completed")
# Inbound calls whose status the number-level callback may report; bounded, oldest dropped.
MAX_TRACKED_INBOUND = 10_000
_TERMINAL = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})
XML = "text/xml"


class TwilioCarrier(Carrier):
    name = "twilio"

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        self._inbound_calls: OrderedDict[str, str] = OrderedDict()  # CallSid -> call_id

    @property
    def stream_url(self) -> str:
        """The Media Streams URL: wss:// behind https, ws:// for a plain-http development URL."""
        scheme, _, rest = self.base_url.partition("://")
        return f"{'wss' if scheme == 'https' else 'ws'}://{rest}/media"

    # -- call control --------------------------------------------------------------------

    async def place_call(self, request: DialRequest) -> str:
        rest = TwilioRest(self.context.http, request.account)
        return await rest.create_call(self._dial_fields(request))

    def _dial_fields(self, request: DialRequest) -> list[tuple[str, str]]:
        callbacks = f"{self.base_url}/calls/{request.call_id}"
        fields = [
            ("To", request.to),
            ("From", request.from_),
            ("Twiml", self._stream_twiml(request.call_id)),
            ("StatusCallback", f"{callbacks}/status"),
            ("StatusCallbackMethod", "POST"),
            *(("StatusCallbackEvent", event) for event in STATUS_EVENTS),
            ("Timeout", str(request.ring_timeout_seconds)),
        ]
        if request.detect_voicemail:
            # Asynchronous AMD: the stream starts at once and the verdict arrives later, so
            # a person is not kept waiting in silence while detection runs. DetectMessageEnd
            # reports a machine after its greeting, when a message can be left.
            fields += [
                ("MachineDetection", "DetectMessageEnd"),
                ("AsyncAmd", "true"),
                ("AsyncAmdStatusCallback", f"{callbacks}/amd"),
                ("AsyncAmdStatusCallbackMethod", "POST"),
            ]
        return fields

    def _stream_twiml(self, call_id: str) -> str:
        token = media_token(self.context.signing_key, call_id)
        return twiml.connect_stream(self.stream_url, {"call_id": call_id, "token": token})

    async def hang_up(self, handle: CallHandle) -> None:
        if handle.reference is None:
            return
        rest = TwilioRest(self.context.http, handle.account)
        # "completed" ends a call in any state, cancelling it while queued or ringing
        # ("canceled" only works before answer): one request whatever the state.
        try:
            await rest.update_call(handle.reference, [("Status", "completed")])
        except CarrierError as error:
            if error.retryable:
                raise
            # Twilio refuses to update a call that has already ended: nothing left to do.
            log.info("twilio hang-up of %s refused: %s", handle.call_id, error.reason)

    async def find_call(self, request: DialRequest, since: datetime) -> str | None:
        rest = TwilioRest(self.context.http, request.account)
        since_utc = (since if since.tzinfo else since.replace(tzinfo=UTC)).astimezone(UTC)
        # The API filters by day only; the exact cut-off is applied to date_created below,
        # at the one-second precision Twilio's RFC 2822 timestamps have.
        calls = await rest.list_calls(
            {"To": request.to, "From": request.from_, "StartTime>": since_utc.date().isoformat()}
        )
        cutoff = since_utc.replace(microsecond=0)
        for call in calls:
            created = rfc2822(call.get("date_created"))
            sid = call.get("sid")
            if created is not None and created >= cutoff and isinstance(sid, str):
                return sid
        return None

    # -- routes --------------------------------------------------------------------------

    def routes(self) -> Sequence[BaseRoute]:
        return (
            Route("/calls/{call_id}/status", self._call_status, methods=["POST"]),
            Route("/calls/{call_id}/amd", self._call_amd, methods=["POST"]),
            Route("/inbound", self._inbound, methods=["POST"]),
            Route("/status", self._inbound_status, methods=["POST"]),
            WebSocketRoute("/media", self._media),
        )

    async def _call_status(self, request: Request) -> Response:
        call_id = request.path_params["call_id"]
        form = await self._verified_call_form(request, call_id, "status")
        if form is None:
            return Response(status_code=403)
        await self._report(status_update(call_id, form))
        return Response(status_code=204)

    async def _call_amd(self, request: Request) -> Response:
        call_id = request.path_params["call_id"]
        form = await self._verified_call_form(request, call_id, "amd")
        if form is None:
            return Response(status_code=403)
        await self._report(amd_update(call_id, form))
        return Response(status_code=204)

    async def _verified_call_form(
        self, request: Request, call_id: str, callback: str
    ) -> dict[str, str] | None:
        pairs = await _form_pairs(request)
        account = await self.context.events.account_for_call(call_id)
        url = f"{self.base_url}/calls/{call_id}/{callback}"
        return dict(pairs) if _signed(account, url, pairs, request) else None

    async def _inbound(self, request: Request) -> Response:
        pairs = await _form_pairs(request)
        form = dict(pairs)
        account = await self.context.events.account_for_number(self.name, form.get("To", ""))
        if not _signed(account, f"{self.base_url}/inbound", pairs, request):
            return Response(status_code=403)
        call_sid = form.get("CallSid", "")
        answer = await self.context.events.inbound(
            InboundCall(self.name, form.get("To", ""), form.get("From", ""), call_sid)
        )
        if answer.call_id is None:
            log.info("twilio inbound call %s refused: %s", call_sid, answer.refusal)
            return Response(twiml.reject("busy"), media_type=XML)
        self._track_inbound(call_sid, answer.call_id)
        return Response(self._stream_twiml(answer.call_id), media_type=XML)

    async def _inbound_status(self, request: Request) -> Response:
        pairs = await _form_pairs(request)
        form = dict(pairs)
        account = await self.context.events.account_for_number(self.name, form.get("To", ""))
        if not _signed(account, f"{self.base_url}/status", pairs, request):
            return Response(status_code=403)
        call_sid = form.get("CallSid", "")
        call_id = self._inbound_calls.get(call_sid)
        if call_id is not None:
            if form.get("CallStatus") in _TERMINAL:
                self._inbound_calls.pop(call_sid, None)
            await self._report(status_update(call_id, form))
        return Response(status_code=204)

    def _track_inbound(self, call_sid: str, call_id: str) -> None:
        self._inbound_calls[call_sid] = call_id
        while len(self._inbound_calls) > MAX_TRACKED_INBOUND:
            self._inbound_calls.popitem(last=False)

    async def _media(self, websocket: WebSocket) -> None:
        await serve_media_socket(websocket, self.context, self.stream_url)

    async def _report(self, update: StatusUpdate | None) -> None:
        if update is not None:
            await self.context.events.status(update)


async def _form_pairs(request: Request) -> list[tuple[str, str]]:
    """The form body as (name, value) pairs; repeated names are kept, as Twilio signs them."""
    body = await request.body()
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def _signed(
    account: CarrierAccount | None,
    url: str,
    pairs: Sequence[tuple[str, str]],
    request: Request,
) -> bool:
    auth_token = str(_credentials(account).get("auth_token", ""))
    return signature_valid(auth_token, url, pairs, request.headers.get(SIGNATURE_HEADER))


def _credentials(account: CarrierAccount | None) -> Mapping[str, object]:
    return account.credentials if account is not None else {}
