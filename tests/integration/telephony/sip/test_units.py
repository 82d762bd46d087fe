"""Pure tests of the SIP pieces: message parsing, digest, SDP negotiation, RTP packets."""

from __future__ import annotations

import pytest

from vozagent.telephony.sip.digest import (
    DigestError,
    authorization,
    digest_response,
    parse_challenge,
)
from vozagent.telephony.sip.message import SipParseError, build_response, param, parse, uri_user
from vozagent.telephony.sip.rtp import build_rtp, parse_rtp
from vozagent.telephony.sip.sdp import PCMA, PCMU, SdpError, build_sdp, negotiate, parse_sdp

pytestmark = pytest.mark.unit

INVITE = (
    b"INVITE sip:+15550001111@trunk.example:5060 SIP/2.0\r\n"
    b"v: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bKabc;rport,"
    b" SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKx\r\n"
    b'f: "Ann" <sip:+15559998888@trunk.example>;tag=a1\r\n'
    b"To: <sip:+15550001111@trunk.example:5060>\r\n"
    b"i: call-1@10.0.0.1\r\n"
    b"CSeq: 7 INVITE\r\n"
    b"Subject: a folded\r\n  header\r\n"
    b"l: 4\r\n\r\n"
    b"abcdTRAILING"
)


def test_parse_request_with_compact_headers() -> None:
    message = parse(INVITE)
    assert message.is_request and message.method == "INVITE"
    assert message.call_id == "call-1@10.0.0.1"
    assert message.cseq == (7, "INVITE")
    assert message.branch == "z9hG4bKabc"
    assert len(message.get_all("Via")) == 2
    assert message.get("subject") == "a folded header"
    assert message.body == b"abcd"  # Content-Length bounds the body
    assert uri_user(message.header("From")) == "+15559998888"
    assert param(message.header("From"), "tag") == "a1"
    assert uri_user(message.uri) == "+15550001111"


def test_response_copies_the_dialog_headers() -> None:
    request = parse(INVITE)
    response = parse(build_response(request, 486, "Busy Here", to_tag="b2").encode())
    assert (response.status, response.reason, response.method) == (486, "Busy Here", "INVITE")
    assert response.get_all("Via") == request.get_all("Via")
    assert param(response.header("To"), "tag") == "b2"
    assert response.get("Content-Length") == "0"


@pytest.mark.parametrize("data", [b"", b"hello\r\n\r\n", b"SIP/2.0 OK\r\n\r\n", b"A B\r\n\r\n"])
def test_garbage_is_rejected(data: bytes) -> None:
    with pytest.raises(SipParseError):
        parse(data)


def test_digest_matches_rfc2617_example() -> None:
    # RFC 2617 §3.5: the example request and its expected response value.
    assert (
        digest_response(
            username="Mufasa",
            password="Circle Of Life",
            realm="testrealm@host.com",
            nonce="dcd98b7102dd2f0e8b11d0f600bfb0c093",
            method="GET",
            uri="/dir/index.html",
            qop="auth",
            nc="00000001",
            cnonce="0a4f113b",
        )
        == "6629fae49393a05397450978507c4ef1"
    )


def test_digest_without_qop_uses_rfc2069_form() -> None:
    header = authorization(
        parse_challenge('Digest realm="r", nonce="n"'),
        username="u",
        password="p",
        method="INVITE",
        uri="sip:x@h",
    )
    expected = digest_response(
        username="u", password="p", realm="r", nonce="n", method="INVITE", uri="sip:x@h"
    )
    assert f'response="{expected}"' in header
    assert "qop" not in header and "cnonce" not in header


def test_challenge_parsing_and_refusals() -> None:
    challenge = parse_challenge(
        'Digest realm="a, b", nonce="xyz", opaque="o", qop="auth,auth-int", algorithm=MD5'
    )
    assert (challenge.realm, challenge.nonce, challenge.opaque) == ("a, b", "xyz", "o")
    assert challenge.qop == ("auth", "auth-int")
    with pytest.raises(DigestError):
        parse_challenge('Digest realm="r", nonce="n", algorithm=SHA-256')
    with pytest.raises(DigestError):
        parse_challenge('Basic realm="r"')


def test_sdp_negotiation_follows_the_peers_preference() -> None:
    offer = parse_sdp(
        b"v=0\r\no=- 1 1 IN IP4 10.0.0.2\r\ns=-\r\nc=IN IP4 10.0.0.2\r\nt=0 0\r\n"
        b"m=audio 4000 RTP/AVP 9 8 0 96\r\na=rtpmap:9 G722/8000\r\n"
        b"a=rtpmap:96 telephone-event/8000\r\n"
    )
    params = negotiate(offer)
    assert (params.host, params.port, params.payload_type) == ("10.0.0.2", 4000, PCMA)
    assert params.dtmf_payload_type == 96


def test_sdp_without_g711_is_refused() -> None:
    offer = parse_sdp(b"v=0\r\nc=IN IP4 10.0.0.2\r\nm=audio 4000 RTP/AVP 9 18\r\n")
    with pytest.raises(SdpError):
        negotiate(offer)


def test_our_offer_round_trips() -> None:
    params = negotiate(parse_sdp(build_sdp("127.0.0.1", 20000)))
    assert (params.port, params.payload_type, params.dtmf_payload_type) == (20000, PCMU, 101)


def test_rtp_packets_round_trip() -> None:
    packet = build_rtp(0, 65535, 160, 0x1234, b"\xff" * 160, marker=True)
    assert parse_rtp(packet) == (0, 65535, 160, b"\xff" * 160)
    assert parse_rtp(b"\x00" * 12) is None  # not version 2
