"""The generic SIP trunk carrier: places calls through a trunk and answers INVITEs sent to us.

An in-house RFC 3261 subset over UDP (see the sibling modules): INVITE/ACK/BYE/CANCEL/OPTIONS,
401/407 digest authentication, SDP with G.711 and RFC 4733 DTMF, symmetric RTP. Settings
(``context.settings``): ``sip_bind_host`` (127.0.0.1), ``sip_bind_port`` (5060; 0 picks a free
one), ``sip_rtp_ports`` ((20000, 20999); (0, 0) picks free ones) and ``sip_public_host`` (the
address peers reach us at, when it is not the bind address). Trunk credentials:
``{"host", "port", "transport": "udp", "username", "password"}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Coroutine
from typing import Any, Final

from vozagent.telephony.carrier import (
    CallHandle,
    Carrier,
    CarrierAccount,
    CarrierContext,
    CarrierError,
    DialRequest,
)
from vozagent.telephony.sip.call import CallEnvironment, SipCall
from vozagent.telephony.sip.dialog import ALLOW
from vozagent.telephony.sip.inbound import IncomingSipCall
from vozagent.telephony.sip.message import SipMessage, new_call_id, param
from vozagent.telephony.sip.outbound import OutboundCall, Trunk
from vozagent.telephony.sip.rtp import RtpSocket, open_rtp_socket
from vozagent.telephony.sip.transport import Address, SipEndpoint

log = logging.getLogger(__name__)
DEFAULT_SIP_PORT: Final = 5060
# How long stop() lets hang-ups finish before cutting the calls off.
STOP_GRACE_SECONDS: Final = 2.0


class SipCarrier(Carrier):
    name = "sip"

    def __init__(self, context: CarrierContext) -> None:
        super().__init__(context)
        self._endpoint: SipEndpoint | None = None
        self._calls: dict[str, SipCall] = {}  # by SIP Call-ID
        self._tasks: set[asyncio.Task[None]] = set()

    # -- settings ------------------------------------------------------------------------

    @property
    def bind_host(self) -> str:
        return str(self.context.settings.get("sip_bind_host", "127.0.0.1"))

    @property
    def rtp_ports(self) -> tuple[int, int]:
        ports = self.context.settings.get("sip_rtp_ports", (20000, 20999))
        if isinstance(ports, int):
            return (ports, ports)
        low, high = ports
        return int(low), int(high)

    @property
    def port(self) -> int:
        """The SIP port we listen on (the real one when ``sip_bind_port`` is 0)."""
        if self._endpoint is None:
            raise RuntimeError("the SIP carrier is not started")
        return self._endpoint.address[1]

    # -- lifecycle -----------------------------------------------------------------------

    async def start(self) -> None:
        if self._endpoint is not None:
            return
        port = int(self.context.settings.get("sip_bind_port", DEFAULT_SIP_PORT))
        loop = asyncio.get_running_loop()
        _, self._endpoint = await loop.create_datagram_endpoint(
            lambda: SipEndpoint(self._on_request), local_addr=(self.bind_host, port)
        )
        log.info("sip: listening on %s:%d/udp", self.bind_host, self.port)

    async def stop(self) -> None:
        for call in list(self._calls.values()):
            await call.hang_up()
        tasks = list(self._tasks)
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_SECONDS)
            for task in pending:
                task.cancel()
            for task in pending:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint = None

    # -- outbound ------------------------------------------------------------------------

    async def place_call(self, request: DialRequest) -> str:
        await self.start()
        trunk = await self._trunk(request.account)
        endpoint = self._require_endpoint()
        rtp = await self._open_rtp()
        reference = new_call_id(self._advertised_host(trunk.address[0]))
        call = OutboundCall(
            self._environment(endpoint, trunk.address[0]),
            request.call_id,
            rtp,
            trunk,
            to=request.to.replace(" ", ""),
            from_=request.from_.replace(" ", ""),
            ring_timeout=request.ring_timeout_seconds,
            call_ref=reference,
        )
        call.send_invite()
        self._run(call, call.run())
        return reference

    async def hang_up(self, handle: CallHandle) -> None:
        call = self._calls.get(handle.reference or "")
        if call is None:
            call = next((c for c in self._calls.values() if c.call_id == handle.call_id), None)
        if call is not None:
            await call.hang_up()

    async def _trunk(self, account: CarrierAccount | None) -> Trunk:
        credentials = account.credentials if account is not None else {}
        host = credentials.get("host")
        if not isinstance(host, str) or not host:
            raise CarrierError("sip: the trunk account has no host")
        transport = str(credentials.get("transport", "udp")).lower()
        if transport != "udp":
            raise CarrierError(f"sip: transport {transport!r} is not supported (udp only)")
        port = int(credentials.get("port") or DEFAULT_SIP_PORT)
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, family=socket.AF_INET, type=socket.SOCK_DGRAM
            )
        except OSError as error:
            raise CarrierError(f"sip: cannot resolve {host}: {error}", retryable=True) from error
        address = infos[0][4]
        username, password = credentials.get("username"), credentials.get("password")
        return Trunk(
            host=host,
            port=port,
            address=(str(address[0]), int(address[1])),
            username=str(username) if username else None,
            password=str(password) if password is not None else None,
        )

    # -- inbound -------------------------------------------------------------------------

    def _on_request(self, request: SipMessage, address: Address) -> None:
        endpoint = self._require_endpoint()
        call = self._calls.get(request.call_id)
        if call is not None:
            call.on_request(request, address)
        elif request.method == "INVITE" and param(request.header("To"), "tag") is None:
            # Answered at once so that retransmissions of the INVITE are absorbed while the
            # call is being set up (the endpoint replays the cached 100).
            endpoint.respond(request, address, 100, "Trying")
            self._run_detached(self._accept(request, address))
        elif request.method == "OPTIONS":
            endpoint.respond(request, address, 200, "OK", extra=[("Allow", ALLOW)])
        elif request.method != "ACK":
            endpoint.respond(request, address, 481, "Call/Transaction Does Not Exist")

    async def _accept(self, invite: SipMessage, address: Address) -> None:
        endpoint = self._require_endpoint()
        try:
            rtp = await self._open_rtp()
        except OSError:
            log.warning("sip: no RTP port free for an inbound call")
            endpoint.respond(invite, address, 503, "Service Unavailable")
            return
        call = IncomingSipCall(self._environment(endpoint, address[0]), rtp, invite, address)
        self._run(call, call.run())

    # -- plumbing ------------------------------------------------------------------------

    def _require_endpoint(self) -> SipEndpoint:
        if self._endpoint is None:
            raise CarrierError("sip: the carrier is not started", retryable=True)
        return self._endpoint

    def _environment(self, endpoint: SipEndpoint, peer_host: str) -> CallEnvironment:
        via_host = f"{self._advertised_host(peer_host)}:{self.port}"
        return CallEnvironment(endpoint=endpoint, events=self.context.events, via_host=via_host)

    def _advertised_host(self, peer_host: str) -> str:
        """The address to put in Via, Contact and SDP: the one the peer can reach."""
        public = self.context.settings.get("sip_public_host")
        if public:
            return str(public)
        if self.bind_host not in ("0.0.0.0", ""):
            return self.bind_host
        # Bound to every interface: ask the routing table which one faces the peer
        # (connecting a UDP socket sends nothing).
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((peer_host, DEFAULT_SIP_PORT))
            return str(probe.getsockname()[0])

    async def _open_rtp(self) -> RtpSocket:
        return await open_rtp_socket(self.bind_host, self.rtp_ports)

    def _run(self, call: SipCall, work: Coroutine[Any, Any, None]) -> None:
        self._calls[call.reference] = call
        task = self._run_detached(work)
        task.add_done_callback(lambda _: self._calls.pop(call.reference, None))

    def _run_detached(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("sip: a call task failed", exc_info=task.exception())
