"""What every SIP call does once it is answered, whichever side placed it: run the
conversation over RTP, answer in-dialog requests, and end with a BYE (ours or theirs)."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from vozagent.telephony.carrier import COMPLETED, IN_PROGRESS, CarrierEvents, StatusUpdate
from vozagent.telephony.sip.dialog import ALLOW, Dialog
from vozagent.telephony.sip.message import SipMessage, new_tag, param
from vozagent.telephony.sip.rtp import RtpLink, RtpSocket
from vozagent.telephony.sip.sdp import MediaParams
from vozagent.telephony.sip.transport import Address, ClientTransaction, SipEndpoint

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CallEnvironment:
    """What a call needs from its carrier."""

    endpoint: SipEndpoint
    events: CarrierEvents
    via_host: str  # the "host:port" peers reach us at


class SipCall:
    """One call (one dialog). Subclasses run the set-up; this class runs the rest."""

    def __init__(self, env: CallEnvironment, call_id: str, rtp: RtpSocket, dialog: Dialog) -> None:
        self.env = env
        self.call_id = call_id
        self.rtp = rtp
        self.dialog = dialog
        self.local_tag = param(dialog.local, "tag") or new_tag()
        self.link: RtpLink | None = None
        self.local_sdp = b""
        self._answered_at: float | None = None
        self._remote_bye = False
        self._bye: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self.hang_up_requested = False

    @property
    def reference(self) -> str:
        return self.dialog.call_id

    async def report(self, status: str, end_reason: str | None = None) -> None:
        duration = None
        if status == COMPLETED and self._answered_at is not None:
            duration = round(time.monotonic() - self._answered_at)
        update = StatusUpdate(
            call_id=self.call_id,
            status=status,
            reference=self.reference,
            end_reason=end_reason,
            duration_seconds=duration,
        )
        try:
            await self.env.events.status(update)
        except Exception:  # the runtime's trouble must not kill the call's signalling
            log.exception("sip call %s: status %s was not recorded", self.call_id, status)

    # -- the answered call ---------------------------------------------------------------

    async def converse(self, params: MediaParams) -> None:
        """Hand the media to the conversation; when it is over, make sure the call is too."""
        link = RtpLink(self.call_id, self.rtp, params, on_local_close=self.send_bye)
        self.link = link
        self._answered_at = time.monotonic()
        link.start()
        await self.report(IN_PROGRESS)
        if self._remote_bye:
            await link._remote_closed("remote")
        elif self.hang_up_requested:
            await self.hang_up_answered()
        try:
            await self.env.events.media(self.call_id, link)
        except Exception:
            log.exception("sip call %s: the conversation failed", self.call_id)
        finally:
            await link.close("local")  # no-op when already closed; otherwise hangs up
        if self._bye is not None:
            await self._bye
        reason = "customer-hangup" if self._remote_bye else "assistant-hangup"
        await self.report(COMPLETED, reason)

    def send_bye(self) -> None:
        """Hang up an answered call (once; not when they already hung up)."""
        if self._bye is None and not self._remote_bye:
            self._bye = asyncio.create_task(self._bye_transaction())

    async def _bye_transaction(self) -> None:
        done: asyncio.Future[SipMessage | None] = asyncio.get_running_loop().create_future()

        def finished(response: SipMessage | None) -> None:
            if response is None or response.status >= 200:
                if not done.done():
                    done.set_result(response)

        bye = self.dialog.request("BYE")
        ClientTransaction(self.env.endpoint, bye, self.dialog.peer, finished)
        response = await done
        if response is None:
            log.info("sip call %s: BYE got no answer", self.call_id)

    async def hang_up(self) -> None:
        """Our side ends the call: BYE once answered (set-up phases override the rest)."""
        self.hang_up_requested = True
        if self.link is not None:
            await self.hang_up_answered()

    async def hang_up_answered(self) -> None:
        self.send_bye()
        if self.link is not None:
            await self.link._remote_closed("local")

    # -- requests within the dialog ------------------------------------------------------

    def on_request(self, request: SipMessage, address: Address) -> None:
        endpoint = self.env.endpoint
        if request.method == "BYE":
            endpoint.respond(request, address, 200, "OK")
            self._remote_hung_up()
        elif request.method == "INVITE":
            self._reinvite(request, address)
        elif request.method in ("OPTIONS", "INFO"):
            endpoint.respond(request, address, 200, "OK", extra=[("Allow", ALLOW)])
        elif request.method != "ACK":
            endpoint.respond(request, address, 501, "Not Implemented", extra=[("Allow", ALLOW)])

    def _remote_hung_up(self) -> None:
        if self._remote_bye:
            return
        self._remote_bye = True
        if self.link is not None:
            self._closing = asyncio.create_task(self.link._remote_closed("remote"))

    def _reinvite(self, request: SipMessage, address: Address) -> None:
        """A session refresh or hold: keep our media as it is and say so (same SDP)."""
        self.env.endpoint.respond_until_ack(
            request,
            address,
            200,
            "OK",
            to_tag=self.local_tag,
            extra=[("Contact", self.dialog.contact), ("Content-Type", "application/sdp")],
            body=self.local_sdp,
        )

    def close(self) -> None:
        self.rtp.close()
        if self._bye is not None and not self._bye.done():
            self._bye.cancel()
