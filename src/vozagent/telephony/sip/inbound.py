"""A call we answer (UAS): ask the runtime, then ring and answer, or refuse."""

from __future__ import annotations

import asyncio
import logging

from vozagent.telephony.carrier import CANCELED, RINGING, InboundCall
from vozagent.telephony.sip.call import CallEnvironment, SipCall
from vozagent.telephony.sip.dialog import ALLOW, uas_dialog
from vozagent.telephony.sip.message import SipMessage, new_tag, uri_user
from vozagent.telephony.sip.rtp import RtpSocket
from vozagent.telephony.sip.sdp import MediaParams, SdpError, answer_sdp, negotiate, parse_sdp
from vozagent.telephony.sip.transport import Address

log = logging.getLogger(__name__)
PROVIDER = "sip"


def refusal_response(refusal: str | None) -> tuple[int, str]:
    """404 when the number is not ours, 486 for every other refusal."""
    text = (refusal or "").lower()
    if "unknown" in text or "not found" in text:
        return 404, "Not Found"
    return 486, "Busy Here"


class IncomingSipCall(SipCall):
    def __init__(
        self, env: CallEnvironment, rtp: RtpSocket, invite: SipMessage, address: Address
    ) -> None:
        dialog = uas_dialog(invite, address, env.via_host, new_tag())
        # The runtime names the call; until it does, the SIP Call-ID stands in for logs.
        super().__init__(env, invite.call_id, rtp, dialog)
        self.invite = invite
        self.address = address
        self._settled = False  # a final response to the INVITE has gone out
        self._canceled = False

    async def run(self) -> None:
        try:
            await self._set_up()
        finally:
            self.close()

    async def _set_up(self) -> None:
        try:
            params = negotiate(parse_sdp(self.invite.body))
        except SdpError as error:
            log.info("sip: refused an INVITE from %s: %s", self.address, error)
            self._final(488, "Not Acceptable Here")
            return
        answer = await self.env.events.inbound(
            InboundCall(
                provider=PROVIDER,
                to=uri_user(self.invite.uri),
                from_=uri_user(self.invite.header("From")),
                reference=self.reference,
            )
        )
        if answer.call_id is None:
            if not self._settled:
                self._final(*refusal_response(answer.refusal))
            return
        self.call_id = answer.call_id
        if self._canceled or self.hang_up_requested:
            if not self._settled:
                self._final(480, "Temporarily Unavailable")
            await self.report(CANCELED, "canceled")
            return
        await self._answer(params)

    async def _answer(self, params: MediaParams) -> None:
        endpoint = self.env.endpoint
        endpoint.respond(
            self.invite,
            self.address,
            180,
            "Ringing",
            to_tag=self.local_tag,
            extra=[("Contact", self.dialog.contact)],
        )
        await self.report(RINGING)
        self.local_sdp = answer_sdp(self.env.via_host.rsplit(":", 1)[0], self.rtp.port, params)
        self._settled = True
        endpoint.respond_until_ack(
            self.invite,
            self.address,
            200,
            "OK",
            to_tag=self.local_tag,
            extra=[
                ("Contact", self.dialog.contact),
                ("Allow", ALLOW),
                ("Content-Type", "application/sdp"),
            ],
            body=self.local_sdp,
            on_timeout=self._never_acknowledged,
        )
        await self.converse(params)

    def _final(self, status: int, reason: str) -> None:
        self._settled = True
        self.env.endpoint.respond_until_ack(
            self.invite, self.address, status, reason, to_tag=self.local_tag
        )

    def _never_acknowledged(self) -> None:
        """RFC 3261 §13.3.1.4: a 2xx never ACKed ends the session with a BYE."""
        log.info("sip call %s: our 200 OK was never acknowledged", self.call_id)
        self.send_bye()
        if self.link is not None and self._closing is None:
            self._closing = asyncio.create_task(self.link._remote_closed("error"))

    def on_request(self, request: SipMessage, address: Address) -> None:
        if request.method == "CANCEL":
            self._cancel(request, address)
        else:
            super().on_request(request, address)

    def _cancel(self, cancel: SipMessage, address: Address) -> None:
        if self._settled:
            # Too late: the INVITE has its final response (a BYE will follow if they want).
            self.env.endpoint.respond(cancel, address, 200, "OK")
            return
        self.env.endpoint.respond(cancel, address, 200, "OK")
        self._canceled = True
        self._final(487, "Request Terminated")
