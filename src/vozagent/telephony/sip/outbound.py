"""A call we place (UAC): INVITE, digest authentication, ringing, answer or refusal, CANCEL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Final

from vozagent.telephony.carrier import BUSY, CANCELED, FAILED, NO_ANSWER, RINGING
from vozagent.telephony.sip.call import CallEnvironment, SipCall
from vozagent.telephony.sip.dialog import ALLOW, Dialog
from vozagent.telephony.sip.digest import DigestError, authorization, parse_challenge
from vozagent.telephony.sip.message import SipMessage, new_tag
from vozagent.telephony.sip.rtp import RtpSocket
from vozagent.telephony.sip.sdp import SdpError, build_sdp, negotiate, parse_sdp
from vozagent.telephony.sip.transport import TIMEOUT, ClientTransaction

log = logging.getLogger(__name__)
_HANGUP: Final = "hangup"
# Final responses that are not failures: (status, end_reason) by SIP code.
OUTCOMES: Final = {
    486: (BUSY, "busy"),
    600: (BUSY, "busy"),
    603: (BUSY, "declined"),
    408: (NO_ANSWER, "no-answer"),
    480: (NO_ANSWER, "no-answer"),
    487: (NO_ANSWER, "no-answer"),
}


def outcome_of(response: SipMessage) -> tuple[str, str]:
    """The call status and end reason a final failure response means."""
    return OUTCOMES.get(
        response.status, (FAILED, f"carrier-error: {response.status} {response.reason}")
    )


@dataclass(frozen=True, slots=True)
class Trunk:
    host: str
    port: int
    address: tuple[str, int]  # resolved
    username: str | None
    password: str | None


class OutboundCall(SipCall):
    def __init__(
        self,
        env: CallEnvironment,
        call_id: str,
        rtp: RtpSocket,
        trunk: Trunk,
        *,
        to: str,
        from_: str,
        ring_timeout: float,
        call_ref: str,
    ) -> None:
        request_uri = f"sip:{to}@{trunk.host}:{trunk.port}"
        dialog = Dialog(
            call_id=call_ref,
            local=f"<sip:{from_}@{trunk.host}>;tag={new_tag()}",
            remote=f"<{request_uri}>",
            remote_target=request_uri,
            peer=trunk.address,
            via_host=env.via_host,
        )
        super().__init__(env, call_id, rtp, dialog)
        self.trunk = trunk
        self.ring_timeout = ring_timeout
        self.local_sdp = build_sdp(env.via_host.rsplit(":", 1)[0], rtp.port)
        self._inbox: asyncio.Queue[SipMessage | str | None] = asyncio.Queue()
        self._invite: ClientTransaction | None = None
        self._provisional = False
        self._rung = False

    # -- the pieces place_call and hang_up use -------------------------------------------

    def send_invite(self, authorization_header: tuple[str, str] | None = None) -> None:
        invite = self.dialog.request("INVITE", cseq=self.dialog.local_cseq)
        self.dialog.local_cseq += 1
        invite.headers += [
            ("Contact", self.dialog.contact),
            ("Allow", ALLOW),
            ("Content-Type", "application/sdp"),
            *([authorization_header] if authorization_header else []),
        ]
        invite.body = self.local_sdp
        self._invite = ClientTransaction(
            self.env.endpoint, invite, self.dialog.peer, self._inbox.put_nowait
        )

    async def hang_up(self) -> None:
        if self.link is None and not self.hang_up_requested:
            self._inbox.put_nowait(_HANGUP)
        await super().hang_up()

    async def run(self) -> None:
        try:
            answer = await self._ring()
            if answer is not None:
                await self._answered(answer)
        finally:
            self.close()

    # -- ringing -------------------------------------------------------------------------

    async def _ring(self) -> SipMessage | None:
        """Wait for the answer; report every other outcome. Returns the 2xx, if any."""
        deadline = asyncio.get_running_loop().time() + self.ring_timeout
        authenticated = False
        while True:
            try:
                async with asyncio.timeout_at(deadline):
                    item = await self._inbox.get()
            except TimeoutError:
                await self._give_up(NO_ANSWER, "no-answer")
                return None
            if item == _HANGUP:
                await self._give_up(CANCELED, "canceled")
                return None
            if not isinstance(item, SipMessage):
                await self.report(FAILED, f"carrier-error: no response from {self.trunk.host}")
                return None
            if item.status < 200:
                await self._progress(item)
            elif item.status < 300:
                return item
            elif item.status in (401, 407) and not authenticated and self._authenticate(item):
                authenticated = True
            else:
                await self.report(*outcome_of(item))
                return None

    async def _progress(self, response: SipMessage) -> None:
        self._provisional = True
        if response.status in (180, 183) and not self._rung:
            self._rung = True
            await self.report(RINGING)

    def _authenticate(self, challenge_response: SipMessage) -> bool:
        """Resend the INVITE with digest credentials; False when we cannot answer."""
        proxy = challenge_response.status == 407
        header = challenge_response.get("Proxy-Authenticate" if proxy else "WWW-Authenticate")
        if header is None or self.trunk.username is None or self._invite is None:
            return False
        try:
            value = authorization(
                parse_challenge(header),
                username=self.trunk.username,
                password=self.trunk.password or "",
                method="INVITE",
                uri=self._invite.request.uri,
            )
        except DigestError as error:
            log.info("sip call %s: cannot authenticate: %s", self.call_id, error)
            return False
        self._provisional = False
        self.send_invite(("Proxy-Authorization" if proxy else "Authorization", value))
        return True

    async def _give_up(self, status: str, end_reason: str) -> None:
        """Ring timeout or hang-up before the answer: CANCEL if we may, else just stop."""
        await self.report(status, end_reason)
        invite = self._invite
        if invite is None:
            return
        if not self._provisional:
            # RFC 3261 §9.1: no CANCEL before a provisional response; nothing rang yet.
            invite.terminate()
            return
        cancel = SipMessage(f"CANCEL {invite.request.uri} SIP/2.0")
        cancel.headers += [
            ("Via", invite.request.get_all("Via")[0]),
            ("Max-Forwards", "70"),
            ("From", invite.request.header("From")),
            ("To", invite.request.header("To")),
            ("Call-ID", invite.request.call_id),
            ("CSeq", f"{invite.request.cseq[0]} CANCEL"),
        ]
        ClientTransaction(self.env.endpoint, cancel, self.dialog.peer, lambda _: None)
        await self._await_final_after_cancel()

    async def _await_final_after_cancel(self) -> None:
        """The INVITE still ends with 487 (ACKed by its transaction), or a racing 200."""
        try:
            async with asyncio.timeout(TIMEOUT):
                while True:
                    item = await self._inbox.get()
                    if not isinstance(item, SipMessage) or item.status >= 300:
                        return
                    if item.status >= 200:
                        self._acknowledge(item)
                        await self._bye_transaction()
                        return
        except TimeoutError:
            log.info("sip call %s: no final response after CANCEL", self.call_id)

    # -- answered ------------------------------------------------------------------------

    def _acknowledge(self, response: SipMessage) -> None:
        self.dialog.confirm(response)
        ack = self.dialog.request("ACK", cseq=response.cseq[0]).encode()
        self.env.endpoint.send(ack, self.dialog.peer)
        if self._invite is not None:
            self._invite.ack = ack  # re-ACK retransmitted 200s

    async def _answered(self, response: SipMessage) -> None:
        self._acknowledge(response)
        try:
            params = negotiate(parse_sdp(response.body))
        except SdpError as error:
            await self._bye_transaction()
            await self.report(FAILED, f"carrier-error: {error}")
            return
        await self.converse(params)
