"""Our X-Twilio-Signature code against the twilio SDK's RequestValidator, both directions."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st
from multidict import MultiDict
from twilio.request_validator import RequestValidator  # type: ignore[import-untyped]

from vozagent.telephony.twilio.signature import compute_signature, signature_valid

pytestmark = pytest.mark.unit

TOKEN = "12345678901234567890123456789012"
URLS = [
    "https://mycompany.com/myapp.php?foo=1&bar=2",
    "https://mycompany.com:443/myapp.php?foo=1&bar=2",
    "http://127.0.0.1:8000/telephony/twilio/calls/c1/status",
    "https://Voz.Example.com/telephony/twilio/inbound",
    "https://user:pass@voz.example.com/telephony/twilio/inbound?x=%20y",
]
FORM = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+12349013030",
    "Digits": "1234",
    "From": "+12349013030",
    "To": "+18005551212",
}


@pytest.mark.parametrize("url", URLS)
def test_our_signature_is_the_sdks(url: str) -> None:
    sdk = RequestValidator(TOKEN)

    ours = compute_signature(TOKEN, url, FORM.items())

    assert ours == sdk.compute_signature(url, FORM)
    assert sdk.validate(url, FORM, ours)


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize("signed_port", [False, True], ids=["no-port", "port"])
def test_sdk_signatures_validate_with_or_without_the_default_port(
    url: str, signed_port: bool
) -> None:
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    netloc = parts.netloc if parts.port else f"{parts.netloc}:{default}"
    signed_url = parts._replace(netloc=netloc).geturl() if signed_port else url
    signature = RequestValidator(TOKEN).compute_signature(signed_url, FORM)

    assert signature_valid(TOKEN, url, FORM.items(), signature)
    assert not signature_valid(TOKEN, url, {**FORM, "To": "+1"}.items(), signature)
    assert not signature_valid("another-token", url, FORM.items(), signature)
    assert not signature_valid(TOKEN, url + "x", FORM.items(), signature)


def test_repeated_parameters_are_signed_like_the_sdk_signs_them() -> None:
    pairs = [("StatusCallbackEvent", e) for e in ("ringing", "initiated", "completed")]
    pairs.append(("To", "+18005551212"))
    url = "https://voz.example.com/x"

    expected = RequestValidator(TOKEN).compute_signature(url, MultiDict(pairs))

    assert compute_signature(TOKEN, url, pairs) == expected


def test_websocket_upgrade_is_signed_over_the_bare_url() -> None:
    url = "wss://voz.example.com/telephony/twilio/media"
    signature = RequestValidator(TOKEN).compute_signature(url, {})

    assert signature_valid(TOKEN, url, (), signature)
    assert not signature_valid(TOKEN, url, (), None)
    assert not signature_valid("", url, (), signature)


@given(
    token=st.text(min_size=1, max_size=40),
    path=st.text(st.characters(codec="ascii", categories=["L", "N"]), max_size=20),
    form=st.dictionaries(st.text(max_size=10), st.text(max_size=20), max_size=6),
)
def test_any_form_signs_like_the_sdk(token: str, path: str, form: dict[str, str]) -> None:
    url = f"https://voz.example.com/{path}"

    ours = compute_signature(token, url, form.items())

    assert ours == RequestValidator(token).compute_signature(url, form)
    assert signature_valid(token, url, form.items(), ours)
