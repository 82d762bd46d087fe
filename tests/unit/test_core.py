from __future__ import annotations

import base64

import pytest

from vozagent.core.errors import InvalidRequest
from vozagent.core.phone import to_e164
from vozagent.core.scopes import ALL_SCOPES, parse_scopes
from vozagent.core.secrets_box import SecretBox
from vozagent.webhooks.secrets import generate_secret
from vozagent.webhooks.urls import url_problem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+15551234567", "US", "+15551234567"),
        ("(555) 123-4567", "US", "+15551234567"),
        ("555.123.4567", "US", "+15551234567"),
        ("1 555 123 4567", "US", "+15551234567"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+34 612 34 56 78", "US", "+34612345678"),
    ],
)
def test_phone_numbers_normalise_to_e164(raw: str, region: str, expected: str) -> None:
    assert to_e164(raw, default_region=region) == expected


@pytest.mark.parametrize("raw", ["", "abc", "123", "+1 555", "555-CALL-NOW-PLEASE-12345"])
def test_impossible_numbers_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        to_e164(raw, default_region="US")
    assert caught.value.details == {"invalid_fields": ["phone_number"]}


def test_scopes() -> None:
    assert parse_scopes(None) == list(ALL_SCOPES)
    assert parse_scopes("calls:write, calls:read") == ["calls:read", "calls:write"]
    with pytest.raises(ValueError, match="unknown scopes"):
        parse_scopes("calls:delete")


def test_webhook_secrets_are_standard_webhooks_format() -> None:
    secrets = {generate_secret() for _ in range(1000)}
    assert len(secrets) == 1000
    for secret in secrets:
        assert secret.startswith("whsec_")
        assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 64


def test_secret_box_round_trip_and_wrong_key() -> None:
    box = SecretBox(SecretBox.generate_master_key())
    token = box.encrypt("whsec_abc")
    assert "whsec_abc" not in token
    assert box.decrypt(token) == "whsec_abc"
    with pytest.raises(ValueError, match="cannot be decrypted"):
        SecretBox(SecretBox.generate_master_key()).decrypt(token)


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "https://0x7f.1/",
        "https://017700000001/",
        "https://127.1/",
        "https://[::ffff:127.0.0.1]/",
        "https://[::1]/",
        "https://user@127.0.0.1/",
        "https://localhost./",
        "https://10.0.0.8/",
        "https://172.16.3.4/",
        "https://192.168.1.1/",
        "https://100.64.0.1/",
        "https://169.254.169.254/latest/meta-data",
        "https://[fd00:ec2::254]/",
        "https://[fe80::1]/",
        "https://[2002:7f00:1::]/",
        "https://0.0.0.0/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "ftp://example.com/",
        "dict://example.com/",
        "https://printer.local/",
        "https://example.com:0/",
        "https:///nohost",
    ],
)
def test_ssrf_vectors_are_refused_at_save(url: str) -> None:
    assert url_problem(url, allow_http=True, allow_private=False) is not None


def test_public_https_is_accepted_and_http_only_when_allowed() -> None:
    assert (
        url_problem("https://yourapp.com/webhooks", allow_http=False, allow_private=False) is None
    )
    assert url_problem("https://8.8.8.8/hook", allow_http=False, allow_private=False) is None
    assert url_problem("http://yourapp.com/", allow_http=False, allow_private=False)
    assert url_problem("http://yourapp.com/", allow_http=True, allow_private=False) is None
    assert url_problem("http://127.0.0.1:9/", allow_http=True, allow_private=True) is None
