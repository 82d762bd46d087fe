"""SDP offer/answer (RFC 4566, RFC 3264) for one audio stream: G.711 plus RFC 4733 DTMF.

We offer PCMU (0), PCMA (8) and telephone-event (101) at ptime 20, and accept the first of
those the peer lists, in its order of preference.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

PCMU = 0
PCMA = 8
DEFAULT_DTMF_PT = 101
CODEC_NAMES = {PCMU: "PCMU", PCMA: "PCMA"}
_OUR_CODECS = (PCMU, PCMA)


class SdpError(ValueError):
    """An SDP we cannot use (no audio, no common codec)."""


@dataclass(frozen=True, slots=True)
class MediaOffer:
    """What the peer's SDP says about its audio stream."""

    host: str
    port: int
    payload_types: tuple[int, ...]
    rtpmap: dict[int, str]  # payload type -> "name/rate", lower-cased


@dataclass(frozen=True, slots=True)
class MediaParams:
    """The negotiated stream: where to send, and how."""

    host: str
    port: int
    payload_type: int  # PCMU or PCMA
    dtmf_payload_type: int | None


def parse_sdp(body: bytes) -> MediaOffer:
    session_host = ""
    media_host = ""
    port = -1
    formats: tuple[int, ...] = ()
    rtpmap: dict[int, str] = {}
    in_audio = False
    for raw in body.decode("utf-8", "replace").splitlines():
        kind, _, value = raw.strip().partition("=")
        if kind == "m":
            in_audio, port, formats = _media_line(value, in_audio, port, formats)
        elif kind == "c":
            host = value.split()[-1].split("/")[0]
            if port < 0:
                session_host = host
            elif in_audio:
                media_host = host
        elif kind == "a" and in_audio and value.startswith("rtpmap:"):
            pt, _, encoding = value[len("rtpmap:") :].partition(" ")
            if pt.isdigit():
                rtpmap[int(pt)] = encoding.strip().lower()
    host = media_host or session_host
    if port < 0 or not host:
        raise SdpError("no audio stream with an address")
    return MediaOffer(host=host, port=port, payload_types=formats, rtpmap=rtpmap)


def _media_line(
    value: str, in_audio: bool, port: int, formats: tuple[int, ...]
) -> tuple[bool, int, tuple[int, ...]]:
    """Take the first ``m=audio`` line; later media sections end the audio section."""
    fields = value.split()
    if fields and fields[0] == "audio" and port < 0 and len(fields) >= 4:
        return True, int(fields[1].split("/")[0]), tuple(int(f) for f in fields[3:] if f.isdigit())
    return False, port, formats


def negotiate(offer: MediaOffer) -> MediaParams:
    """Pick the peer's first G.711 codec and its telephone-event payload type, if any."""
    codec = next((pt for pt in offer.payload_types if _codec_of(offer, pt) is not None), None)
    if codec is None or offer.port == 0:
        raise SdpError("no common audio codec (PCMU/PCMA)")
    events = (pt for pt in offer.payload_types if offer.rtpmap.get(pt) == "telephone-event/8000")
    dtmf = next(events, None)
    return MediaParams(
        host=offer.host,
        port=offer.port,
        payload_type=codec,
        dtmf_payload_type=dtmf,
    )


def _codec_of(offer: MediaOffer, pt: int) -> int | None:
    """Our codec number for the peer's payload type (static, or named in an rtpmap)."""
    name = offer.rtpmap.get(pt)
    if name is None:
        return pt if pt in _OUR_CODECS else None
    for ours, codec_name in CODEC_NAMES.items():
        if name == f"{codec_name.lower()}/8000" and pt == ours:
            return ours
    return None


def build_sdp(
    host: str,
    port: int,
    payload_types: tuple[int, ...] = _OUR_CODECS,
    dtmf_payload_type: int | None = DEFAULT_DTMF_PT,
    session_id: int | None = None,
) -> bytes:
    """An offer (all our codecs) or an answer (the negotiated one)."""
    session = session_id if session_id is not None else secrets.randbelow(2**31)
    formats = [*payload_types, *([dtmf_payload_type] if dtmf_payload_type is not None else [])]
    lines = [
        "v=0",
        f"o=vozagent {session} {session} IN IP4 {host}",
        "s=vozagent",
        f"c=IN IP4 {host}",
        "t=0 0",
        f"m=audio {port} RTP/AVP {' '.join(str(f) for f in formats)}",
    ]
    lines += [f"a=rtpmap:{pt} {CODEC_NAMES[pt]}/8000" for pt in payload_types]
    if dtmf_payload_type is not None:
        lines += [
            f"a=rtpmap:{dtmf_payload_type} telephone-event/8000",
            f"a=fmtp:{dtmf_payload_type} 0-16",
        ]
    lines += ["a=ptime:20", "a=sendrecv"]
    return ("\r\n".join(lines) + "\r\n").encode()


def answer_sdp(host: str, port: int, params: MediaParams) -> bytes:
    return build_sdp(host, port, (params.payload_type,), params.dtmf_payload_type)
