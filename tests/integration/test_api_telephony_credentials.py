"""Carrier credentials: per-provider validation, write-only secrets, SSRF, tenancy, in-use."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import BASE_URL, make_settings
from tests.support import ApiClient, OrgFactory, unique_phone
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.models import TelephonyCredential

pytestmark = pytest.mark.integration

CREDS = "/v1/telephony-credentials"
AUTH_TOKEN = "twilio-auth-token-0123456789abcdef"
API_KEY = "KEY0123456789telnyx-secret"
SIP_PASSWORD = "sip-password-Zx9!"
SECRETS = (AUTH_TOKEN, API_KEY, SIP_PASSWORD)

TWILIO: dict[str, Any] = {
    "provider": "twilio",
    "label": "Main Twilio",
    "credentials": {"account_sid": "AC" + "0" * 32, "auth_token": AUTH_TOKEN},
}
TELNYX: dict[str, Any] = {
    "provider": "telnyx",
    "credentials": {
        "api_key": API_KEY,
        "connection_id": "1494404757140276705",
        "public_key": "ZmFrZS1wdWJsaWMta2V5LWJhc2U2NA==",
    },
}
SIP: dict[str, Any] = {
    "provider": "sip",
    "credentials": {"host": "sip.example.net", "username": "trunk1", "password": SIP_PASSWORD},
}


async def test_twilio_create_hides_the_token(api: ApiClient, db: Database) -> None:
    created = await api.create(CREDS, {**TWILIO, "api_base_url": "https://api.example.com"})
    assert created["id"].startswith("tc-")
    assert created["provider"] == "twilio" and created["label"] == "Main Twilio"
    assert created["credentials"] == {"account_sid": "AC" + "0" * 32}
    assert created["secret_fields"] == ["auth_token"]
    assert created["api_base_url"] == "https://api.example.com"
    assert (await api.get(f"{CREDS}/{created['id']}")).json() == created
    async with db.transaction() as session:
        row = (
            await session.execute(
                select(TelephonyCredential).where(TelephonyCredential.id == created["id"])
            )
        ).scalar_one()
    assert AUTH_TOKEN not in row.credentials_encrypted  # sealed at rest
    assert "account_sid" not in row.credentials_encrypted


async def test_telnyx_and_sip_defaults(api: ApiClient) -> None:
    telnyx = await api.create(CREDS, TELNYX)
    assert telnyx["credentials"] == {
        "connection_id": "1494404757140276705",
        "public_key": "ZmFrZS1wdWJsaWMta2V5LWJhc2U2NA==",
    }
    assert telnyx["secret_fields"] == ["api_key"]
    sip = await api.create(CREDS, SIP)
    assert sip["credentials"] == {
        "host": "sip.example.net",
        "port": 5060,
        "transport": "udp",
        "username": "trunk1",
    }
    assert sip["secret_fields"] == ["password"]
    bare = await api.create(
        CREDS,
        {"provider": "sip", "credentials": {"host": "10.0.0.5", "port": 5080, "transport": "tcp"}},
    )
    assert bare["secret_fields"] == [] and bare["credentials"]["port"] == 5080
    listed = (await api.get(CREDS)).json()
    assert [c["id"] for c in listed] == [bare["id"], sip["id"], telnyx["id"]]
    assert not any(secret in json.dumps(listed) for secret in SECRETS)


@pytest.mark.parametrize(
    ("body", "missing", "invalid"),
    [
        (
            {"provider": "twilio", "credentials": {"account_sid": "AC1"}},
            ["credentials.auth_token"],
            None,
        ),
        (
            {"provider": "telnyx", "credentials": {"api_key": "k"}},
            ["credentials.connection_id", "credentials.public_key"],
            None,
        ),
        ({"provider": "sip", "credentials": {}}, ["credentials.host"], None),
        (
            {"provider": "sip", "credentials": {"host": "h", "port": 70000}},
            None,
            ["credentials.port"],
        ),
        (
            {"provider": "sip", "credentials": {"host": "h", "port": "5060"}},
            None,
            ["credentials.port"],
        ),
        (
            {"provider": "sip", "credentials": {"host": "h", "transport": "tls"}},
            None,
            ["credentials.transport"],
        ),
        (
            {"provider": "twilio", "credentials": {**TWILIO["credentials"], "extra": "x"}},
            None,
            ["credentials.extra"],
        ),
        ({"provider": "carrier-pigeon", "credentials": {}}, None, ["provider"]),
        ({"provider": "twilio"}, ["credentials"], None),
        ({"provider": "twilio", "credentials": "AC:secret"}, None, ["credentials"]),
        (
            {
                "provider": "sip",
                "credentials": SIP["credentials"],
                "api_base_url": "https://x.example",
            },
            None,
            ["api_base_url"],
        ),
    ],
)
async def test_validation_names_the_fields(
    api: ApiClient, body: dict[str, Any], missing: list[str] | None, invalid: list[str] | None
) -> None:
    response = await api.post(CREDS, json=body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert error["details"].get("missing_fields") == missing
    assert error["details"].get("invalid_fields") == invalid
    assert (await api.get(CREDS)).json() == []


async def test_secrets_never_reach_errors_or_logs(
    api: ApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    created = await api.create(CREDS, TWILIO)
    await api.get(CREDS)
    await api.get(f"{CREDS}/{created['id']}")
    bad = await api.post(
        CREDS, json={"provider": "twilio", "credentials": {"auth_token": [AUTH_TOKEN]}}
    )
    assert bad.status_code == 400 and AUTH_TOKEN not in bad.text
    too_long = await api.post(
        CREDS,
        json={
            "provider": "telnyx",
            "credentials": {**TELNYX["credentials"], "api_key": API_KEY * 100},
        },
    )
    assert too_long.status_code == 400 and API_KEY not in too_long.text
    assert caplog.records, "the requests were logged"
    logged = "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records)
    assert not any(secret in logged for secret in SECRETS)


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "https://169.254.169.254/",
        "https://[fd00:ec2::254]/",
        "https://127.0.0.1:8443/",
        "https://2130706433/",
        "https://localhost/",
        "https://10.1.2.3/",
        "https://user:pass@api.example.com/",
        "ftp://api.example.com/",
        "http://api.example.com/",
    ],
)
async def test_api_base_url_ssrf_guard(api: ApiClient, url: str) -> None:
    response = await api.post(CREDS, json={**TWILIO, "api_base_url": url})
    assert response.status_code == 400, response.text
    assert response.json()["error"]["details"]["invalid_fields"] == ["api_base_url"]
    assert (await api.get(CREDS)).json() == []


@pytest.fixture
async def lenient_app(tmp_data_dir: Path, database_url: str) -> AsyncIterator[FastAPI]:
    settings = make_settings(tmp_data_dir, webhooks_allow_http=True, webhooks_allow_private=True)
    app = create_app(settings, database_url)
    yield app
    await app.state.container.database.dispose()


async def test_operator_settings_relax_http_and_private_but_never_metadata(
    lenient_app: FastAPI, api: ApiClient
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=lenient_app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {api.key}"},
    ) as client:
        for url in ("http://twilio-mock.internal:8080", "https://10.1.2.3/"):
            accepted = await client.post(CREDS, json={**TWILIO, "api_base_url": url})
            assert accepted.status_code == 201, accepted.text
        metadata = await client.post(
            CREDS, json={**TWILIO, "api_base_url": "http://169.254.169.254/"}
        )
        assert metadata.status_code == 400


async def test_delete_and_in_use_conflict(api: ApiClient) -> None:
    creds = await api.create(CREDS, TWILIO)
    number = await api.create(
        "/v1/phone-numbers",
        {"phone_number": unique_phone(), "provider": "twilio", "credentials_id": creds["id"]},
    )
    blocked = await api.delete(f"{CREDS}/{creds['id']}")
    assert blocked.status_code == 409
    error = blocked.json()["error"]
    assert error["code"] == "credentials_in_use"
    assert error["details"]["phone_number_ids"] == [number["id"]]
    await api.patch(f"/v1/phone-numbers/{number['id']}", json={"credentials_id": None})
    deleted = await api.delete(f"{CREDS}/{creds['id']}")
    assert deleted.status_code == 200 and deleted.json()["id"] == creds["id"]
    assert AUTH_TOKEN not in deleted.text
    assert (await api.get(f"{CREDS}/{creds['id']}")).status_code == 404


async def test_tenancy_and_injected_fields(api: ApiClient, new_org: OrgFactory) -> None:
    other = await new_org()
    creds = await api.create(
        CREDS,
        {**TWILIO, "id": "tc-injected", "org_id": other.org_id, "secret_fields": ["x"]},
    )
    assert creds["id"] != "tc-injected" and creds["secret_fields"] == ["auth_token"]
    assert (await other.get(CREDS)).json() == []
    for method in ("GET", "DELETE"):
        response = await other.request(method, f"{CREDS}/{creds['id']}")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "telephony_credential_not_found"
    assert (await api.get(f"{CREDS}/{creds['id']}")).json() == creds


async def test_scopes(new_org: OrgFactory) -> None:
    numbers_only = await new_org(scopes=["phone_numbers:read", "phone_numbers:write"])
    refused = await numbers_only.get(CREDS)
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["required_scope"] == "telephony:read"
    reader = await new_org(scopes=["telephony:read"])
    assert (await reader.get(CREDS)).status_code == 200
    assert (await reader.post(CREDS, json=TWILIO)).status_code == 403
