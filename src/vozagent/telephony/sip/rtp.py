"""RTP (RFC 3550) for one call: G.711 at 8 kHz on the wire, PCM16 at 16 kHz to the pipeline,
and RFC 4733 telephone-events in.

Symmetric RTP (RFC 4961): we send from the socket we receive on, and once the peer's packets
arrive we answer to the address they come from, which is what gets media through NATs.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import struct
from collections.abc import Callable
from typing import Final, cast

from vozagent.telephony.codecs import alaw_to_pcm16, pcm16_to_alaw, pcm16_to_ulaw, ulaw_to_pcm16
from vozagent.telephony.sip.sdp import PCMA, MediaParams
from vozagent.voice.audio import PIPELINE_RATE, TELEPHONE_RATE, Resampler
from vozagent.voice.media import MediaLink

log = logging.getLogger(__name__)
Address = tuple[str, int]
_HEADER = struct.Struct("!BBHII")
SAMPLES_PER_PACKET: Final = 160  # 20 ms at 8 kHz
_PACKET_PCM_BYTES: Final = SAMPLES_PER_PACKET * 2
_CUSHION_BYTES: Final = 3 * _PACKET_PCM_BYTES
_MAX_FIFO_BYTES: Final = 25 * _PACKET_PCM_BYTES
DTMF_DIGITS: Final = "0123456789*#ABCD"
# How many bind attempts to make in the configured range before giving up.
_BIND_ATTEMPTS: Final = 50


class RtpSocket(asyncio.DatagramProtocol):
    """A bound UDP socket that hands packets to whoever listens (the link, once it exists)."""

    def __init__(self) -> None:
        self.transport: asyncio.DatagramTransport | None = None
        self.listener: Callable[[bytes, Address], None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Not an isinstance check: 3.11's selector transport does not subclass it.
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        if self.listener is not None:
            self.listener(data, addr)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable while the peer sets up its socket: not fatal for RTP.
        log.debug("rtp socket error: %s", exc)

    @property
    def port(self) -> int:
        assert self.transport is not None
        return int(self.transport.get_extra_info("sockname")[1])

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


async def open_rtp_socket(host: str, ports: tuple[int, int]) -> RtpSocket:
    """Bind an even port in ``ports`` (inclusive), or an ephemeral one when it is (0, 0)."""
    loop = asyncio.get_running_loop()
    low, high = ports
    candidates = [0] if low == 0 else _even_ports(low, high)
    for port in candidates[:_BIND_ATTEMPTS]:
        try:
            _, protocol = await loop.create_datagram_endpoint(RtpSocket, local_addr=(host, port))
        except OSError:
            continue
        return protocol
    raise OSError(f"no free RTP port in {low}-{high}")


def _even_ports(low: int, high: int) -> list[int]:
    """Even ports from a random start, so concurrent calls rarely collide (RFC 3550 §11)."""
    evens = list(range(low + low % 2, high + 1, 2))
    if not evens:
        return []
    start = secrets.randbelow(len(evens))
    return evens[start:] + evens[:start]


def parse_rtp(packet: bytes) -> tuple[int, int, int, bytes] | None:
    """(payload type, sequence, timestamp, payload), or None for what is not RTP v2."""
    if len(packet) < _HEADER.size or packet[0] >> 6 != 2:
        return None
    first, second, sequence, timestamp, _ssrc = _HEADER.unpack_from(packet)
    offset = _HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:  # header extension: 4 bytes, then its length in 32-bit words
        if len(packet) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", packet, offset + 2)[0]
    end = len(packet)
    if first & 0x20 and end > offset:  # padding: its length is the last byte
        end -= packet[-1]
    if end < offset:
        return None
    return second & 0x7F, sequence, timestamp, packet[offset:end]


def build_rtp(
    payload_type: int, sequence: int, timestamp: int, ssrc: int, payload: bytes, marker: bool
) -> bytes:
    second = (0x80 if marker else 0) | payload_type
    return _HEADER.pack(0x80, second, sequence, timestamp, ssrc) + payload


class RtpLink(MediaLink):
    """A call's media over RTP. Closing it from the pipeline's side hangs the call up."""

    send_silence_when_idle = True

    def __init__(
        self,
        call_id: str,
        socket: RtpSocket,
        params: MediaParams,
        on_local_close: Callable[[], None],
    ) -> None:
        super().__init__(call_id)
        self._socket = socket
        self._params = params
        self._remote: Address = (params.host, params.port)
        self._latched = False
        self._on_local_close = on_local_close
        self._decode = alaw_to_pcm16 if params.payload_type == PCMA else ulaw_to_pcm16
        self._encode = pcm16_to_alaw if params.payload_type == PCMA else pcm16_to_ulaw
        self._up = Resampler(TELEPHONE_RATE, PIPELINE_RATE)
        self._down = Resampler(PIPELINE_RATE, TELEPHONE_RATE)
        self._fifo = bytearray()
        self._primed = False
        self._sequence = secrets.randbelow(0x10000)
        self._timestamp = secrets.randbelow(0x100000000)
        self._ssrc = secrets.randbelow(0x100000000)
        self._sent = 0
        self._last_dtmf_timestamp: int | None = None
        self.packets_received = 0
        socket.listener = self._datagram

    # -- in ------------------------------------------------------------------------------

    def _datagram(self, data: bytes, addr: Address) -> None:
        packet = parse_rtp(data)
        if packet is None:
            return  # RTCP on the same port, or noise
        payload_type, _sequence, timestamp, payload = packet
        if not self._latched:
            self._latched, self._remote = True, addr
        self.packets_received += 1
        if payload_type == self._params.payload_type and payload:
            pcm = self._up.convert(self._decode(payload))
            if pcm:  # the resampler releases its output in blocks
                self._audio_in(pcm)
        elif payload_type == self._params.dtmf_payload_type:
            self._telephone_event(timestamp, payload)

    def _telephone_event(self, timestamp: int, payload: bytes) -> None:
        """Report a digit once, on its first end packet (RFC 4733 §2.5.1.4 sends it 3 times)."""
        if len(payload) < 4 or not payload[1] & 0x80 or payload[0] >= len(DTMF_DIGITS):
            return
        if timestamp == self._last_dtmf_timestamp:
            return
        self._last_dtmf_timestamp = timestamp
        self._dtmf_in(DTMF_DIGITS[payload[0]])

    # -- out -----------------------------------------------------------------------------

    async def _transmit(self, frame: bytes) -> None:
        transport = self._socket.transport
        if transport is None or transport.is_closing():
            return
        transport.sendto(self._packet(self._next_payload(frame)), self._remote)

    def _next_payload(self, frame: bytes) -> bytes:
        """Exactly 20 ms of G.711 per packet.

        The streaming resampler hands out its output in blocks of about 100 ms, so samples
        wait in a FIFO; playback starts (and restarts after an underrun) with a small
        cushion of silence, which keeps the stream continuous between blocks.
        """
        converted = self._down.convert(frame)
        if not self._primed and converted:
            self._fifo.extend(bytes(_CUSHION_BYTES))
            self._primed = True
        self._fifo.extend(converted)
        if len(self._fifo) > _MAX_FIFO_BYTES:  # never let latency build up
            del self._fifo[: len(self._fifo) - _MAX_FIFO_BYTES]
        if not self._primed or len(self._fifo) < _PACKET_PCM_BYTES:
            self._primed = False
            return self._encode(bytes(_PACKET_PCM_BYTES))
        chunk = bytes(self._fifo[:_PACKET_PCM_BYTES])
        del self._fifo[:_PACKET_PCM_BYTES]
        return self._encode(chunk)

    def _packet(self, payload: bytes) -> bytes:
        packet = build_rtp(
            self._params.payload_type,
            self._sequence,
            self._timestamp,
            self._ssrc,
            payload,
            marker=self._sent == 0,
        )
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + SAMPLES_PER_PACKET) & 0xFFFFFFFF
        self._sent += 1
        return packet

    async def _shutdown(self) -> None:
        self._on_local_close()
