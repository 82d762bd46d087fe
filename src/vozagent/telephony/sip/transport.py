"""SIP over UDP: the socket and the transaction layer (RFC 3261 §17), retransmissions included.

Client transactions resend their request on timers A/E (T1 doubling, capped at T2 for
non-INVITE) until a response comes or timer B/F (64*T1) expires. Server transactions keep
their last response, so a retransmitted request is answered again instead of reprocessed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Final, cast

from vozagent.telephony.sip.message import SipMessage, SipParseError, build_response, parse

log = logging.getLogger(__name__)
Address = tuple[str, int]
T1: Final = 0.5
T2: Final = 4.0
TIMEOUT: Final = 64 * T1
TxKey = tuple[str, str]  # (Via branch, CSeq method): a CANCEL shares its INVITE's branch
ResponseHandler = Callable[[SipMessage | None], None]  # None: the transaction timed out


class Retransmitter:
    """Sends a datagram now and again at T1, 2*T1, ... (capped), until stopped or timed out."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        data: bytes,
        address: Address,
        *,
        cap: float = T2,
        on_timeout: Callable[[], None] | None = None,
        resend_only: bool = False,
    ) -> None:
        self._endpoint = endpoint
        self._data = data
        self._address = address
        self._cap = cap
        self._on_timeout = on_timeout
        if not resend_only:
            endpoint.send(data, address)
        self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        interval, waited = T1, 0.0
        while waited + interval < TIMEOUT:
            await asyncio.sleep(interval)
            waited += interval
            self._endpoint.send(self._data, self._address)
            interval = min(interval * 2, self._cap)
        await asyncio.sleep(TIMEOUT - waited)
        if self._on_timeout is not None:
            self._on_timeout()

    def stop(self) -> None:
        self._task.cancel()


class ClientTransaction:
    """One request we sent, and the responses it gets."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        request: SipMessage,
        address: Address,
        on_response: ResponseHandler,
    ) -> None:
        self.request = request
        self.address = address
        self.key: TxKey = (request.branch, request.method)
        self._endpoint = endpoint
        self._on_response = on_response
        self._invite = request.method == "INVITE"
        self._final: SipMessage | None = None
        # The ACK to resend when the final response is retransmitted (ours for non-2xx,
        # the dialog's for 2xx; RFC 3261 §13.2.2.4 and §17.1.1.3).
        self.ack: bytes | None = None
        endpoint.client_transactions[self.key] = self
        self._retransmit: Retransmitter | None = Retransmitter(
            endpoint,
            request.encode(),
            address,
            # INVITE retransmissions keep doubling (timer A); non-INVITE cap at T2 (timer E).
            cap=TIMEOUT if self._invite else T2,
            on_timeout=self._timed_out,
        )

    def received(self, response: SipMessage) -> None:
        if self._final is not None:
            if self.ack is not None and response.status >= 200:
                self._endpoint.send(self.ack, self.address)
            return
        if response.status >= 200 or self._invite:
            self._stop_retransmitting()
        if response.status >= 200:
            self._final = response
            if self._invite and response.status >= 300:
                self.ack = build_ack(self.request, response).encode()
                self._endpoint.send(self.ack, self.address)
            # Linger to absorb retransmitted finals (timer D/K), then forget.
            asyncio.get_running_loop().call_later(TIMEOUT, self.forget)
        self._on_response(response)

    def _stop_retransmitting(self) -> None:
        if self._retransmit is not None:
            self._retransmit.stop()
            self._retransmit = None

    def _timed_out(self) -> None:
        self._retransmit = None
        self.forget()
        if self._final is None:
            self._on_response(None)

    def terminate(self) -> None:
        """Stop without waiting for more (the call gave up on this request)."""
        self._stop_retransmitting()
        self._final = self._final or SipMessage("SIP/2.0 000 abandoned")
        self.forget()

    def forget(self) -> None:
        if self._endpoint.client_transactions.get(self.key) is self:
            del self._endpoint.client_transactions[self.key]


def build_ack(invite: SipMessage, response: SipMessage) -> SipMessage:
    """The ACK of a non-2xx final response: same branch, Request-URI and From (§17.1.1.3)."""
    ack = SipMessage(f"ACK {invite.uri} SIP/2.0")
    ack.headers.append(("Via", invite.get_all("Via")[0]))
    for name in ("Route", "From", "Call-ID"):
        value = invite.get(name)
        if value is not None:
            ack.headers.append((name, value))
    ack.headers.append(("To", response.header("To")))
    ack.headers.append(("CSeq", f"{invite.cseq[0]} ACK"))
    ack.headers.append(("Max-Forwards", "70"))
    return ack


class SipEndpoint(asyncio.DatagramProtocol):
    """The SIP UDP socket: routes responses to transactions and new requests to ``on_request``."""

    def __init__(self, on_request: Callable[[SipMessage, Address], None]) -> None:
        self.on_request = on_request
        self.transport: asyncio.DatagramTransport | None = None
        self.client_transactions: dict[TxKey, ClientTransaction] = {}
        self._answered: dict[TxKey, tuple[bytes, Address]] = {}
        self._awaiting_ack: dict[tuple[str, int], Retransmitter] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: 3.11's selector transport does not subclass it.
        self.transport = cast(asyncio.DatagramTransport, transport)

    @property
    def address(self) -> Address:
        assert self.transport is not None
        host, port = self.transport.get_extra_info("sockname")[:2]
        return str(host), int(port)

    def send(self, data: bytes, address: Address) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.sendto(data, address)

    def error_received(self, exc: Exception) -> None:
        log.debug("sip socket error: %s", exc)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if not data.strip():
            return  # keep-alive (RFC 5626 CRLF)
        try:
            message = parse(data)
            key: TxKey = (message.branch, message.method)
        except (SipParseError, ValueError) as error:
            log.info("sip: dropped an unreadable datagram from %s: %s", addr, error)
            return
        if not message.is_request:
            transaction = self.client_transactions.get(key)
            if transaction is not None:
                transaction.received(message)
            return
        if message.method == "ACK":
            self._acknowledged(message)
        elif key in self._answered:
            data, address = self._answered[key]
            self.send(data, address)  # a retransmitted request: answer it again
            return
        self.on_request(message, addr)

    def respond(
        self,
        request: SipMessage,
        address: Address,
        status: int,
        reason: str,
        *,
        to_tag: str | None = None,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
    ) -> SipMessage:
        """Send a response and remember it for the request's retransmissions."""
        response = build_response(request, status, reason, to_tag=to_tag, extra=extra, body=body)
        data = response.encode()
        self.send(data, address)
        if status >= 200 or request.method == "INVITE":
            key: TxKey = (request.branch, request.method)
            self._answered[key] = (data, address)
            asyncio.get_running_loop().call_later(TIMEOUT, self._answered.pop, key, None)
        return response

    def respond_until_ack(
        self,
        invite: SipMessage,
        address: Address,
        status: int,
        reason: str,
        *,
        to_tag: str,
        extra: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        on_timeout: Callable[[], None] | None = None,
    ) -> SipMessage:
        """A final response to an INVITE, resent (timer G) until its ACK arrives (§13.3.1.4)."""
        response = self.respond(
            invite, address, status, reason, to_tag=to_tag, extra=extra, body=body
        )
        key = (invite.call_id, invite.cseq[0])
        previous = self._awaiting_ack.pop(key, None)
        if previous is not None:
            previous.stop()
        self._awaiting_ack[key] = Retransmitter(
            self, response.encode(), address, on_timeout=on_timeout, resend_only=True
        )
        return response

    def _acknowledged(self, ack: SipMessage) -> None:
        retransmitter = self._awaiting_ack.pop((ack.call_id, ack.cseq[0]), None)
        if retransmitter is not None:
            retransmitter.stop()

    def close(self) -> None:
        for retransmitter in self._awaiting_ack.values():
            retransmitter.stop()
        self._awaiting_ack.clear()
        if self.transport is not None:
            self.transport.close()
