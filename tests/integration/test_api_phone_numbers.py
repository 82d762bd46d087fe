from __future__ import annotations

from typing import Any

import pytest

from tests.support import ApiClient, OrgFactory, unique_phone

pytestmark = pytest.mark.integration


async def test_create_list_filter(api: ApiClient) -> None:
    a = await api.create(
        "/v1/phone-numbers",
        {
            "phone_number": unique_phone(),
            "label": "Main Line",
            "provider": "twilio",
        },
    )
    b = await api.create(
        "/v1/phone-numbers",
        {"phone_number": unique_phone(), "provider": "sandbox", "status": "inactive"},
    )
    assert a["monthly_cost_cents"] == 0 and a["sms_enabled"] is False
    assert a["assistant_id"] is None and a["outbound_assistant_id"] is None
    listed = (await api.get("/v1/phone-numbers")).json()
    assert [n["id"] for n in listed] == [b["id"], a["id"]]
    by_status = (await api.get("/v1/phone-numbers", params={"status": "inactive"})).json()
    assert [n["id"] for n in by_status] == [b["id"]]
    by_provider = (await api.get("/v1/phone-numbers", params={"provider": "twilio"})).json()
    assert [n["id"] for n in by_provider] == [a["id"]]
    assert (await api.get("/v1/phone-numbers", params={"provider": "vapi"})).json() == []


async def test_provider_must_be_known(api: ApiClient) -> None:
    response = await api.post(
        "/v1/phone-numbers", json={"phone_number": unique_phone(), "provider": "carrier-pigeon"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["invalid_fields"] == ["provider"]


async def test_number_is_unique_across_organizations(api: ApiClient, new_org) -> None:  # type: ignore[no-untyped-def]
    phone = unique_phone()
    await api.create("/v1/phone-numbers", {"phone_number": phone, "provider": "sandbox"})
    other = await new_org()
    clash = await other.post("/v1/phone-numbers", json={"phone_number": phone, "provider": "sip"})
    assert clash.status_code == 409
    assert clash.json()["error"]["code"] == "phone_number_in_use"
    assert "org" not in str(clash.json()["error"]["details"])


async def test_slots_fallback_and_caller_id(api: ApiClient) -> None:
    assistant = await api.create("/v1/assistants", {"name": "Out", "assistant_type": "outbound"})
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    response = await api.patch(
        f"/v1/phone-numbers/{number['id']}",
        json={
            "outbound_assistant_id": assistant["id"],
            "fallback_number": "555-010-9999",
            "caller_id_override": "+15550108888",
            "label": "Sales line",
        },
    )
    assert response.status_code == 200
    body = response.json()
    assert body["outbound_assistant_id"] == assistant["id"]
    assert body["fallback_number"] == "+15550109999"
    assert body["caller_id_override"] == "+15550108888"
    unknown = await api.patch(
        f"/v1/phone-numbers/{number['id']}", json={"assistant_id": "does-not-exist"}
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["details"]["field"] == "assistant_id"


async def test_delete(api: ApiClient) -> None:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "browser"}
    )
    assert (await api.delete(f"/v1/phone-numbers/{number['id']}")).status_code == 200
    assert (await api.get(f"/v1/phone-numbers/{number['id']}")).status_code == 404


async def _twilio_credentials(api: ApiClient) -> dict[str, Any]:
    return await api.create(
        "/v1/telephony-credentials",
        {"provider": "twilio", "credentials": {"account_sid": "AC1", "auth_token": "t0ken"}},
    )


async def test_credentials_id_and_max_concurrent_calls(api: ApiClient) -> None:
    creds = await _twilio_credentials(api)
    number = await api.create(
        "/v1/phone-numbers",
        {
            "phone_number": unique_phone(),
            "provider": "twilio",
            "credentials_id": creds["id"],
            "max_concurrent_calls": 3,
        },
    )
    assert number["credentials_id"] == creds["id"]
    assert number["max_concurrent_calls"] == 3
    assert "credentials_ref" not in number
    plain = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    assert plain["credentials_id"] is None and plain["max_concurrent_calls"] is None
    cleared = await api.patch(
        f"/v1/phone-numbers/{number['id']}",
        json={"credentials_id": None, "max_concurrent_calls": None},
    )
    assert cleared.status_code == 200
    assert cleared.json()["credentials_id"] is None
    assert cleared.json()["max_concurrent_calls"] is None
    again = await api.patch(
        f"/v1/phone-numbers/{number['id']}",
        json={"credentials_id": creds["id"], "max_concurrent_calls": 7.0},
    )
    assert again.json()["credentials_id"] == creds["id"]
    assert again.json()["max_concurrent_calls"] == 7


@pytest.mark.parametrize("value", [0, -1, 1.5, "3", 10_001])
async def test_max_concurrent_calls_must_be_a_positive_integer(api: ApiClient, value: Any) -> None:
    response = await api.post(
        "/v1/phone-numbers",
        json={"phone_number": unique_phone(), "provider": "sandbox", "max_concurrent_calls": value},
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"]["invalid_fields"] == ["max_concurrent_calls"]


async def test_credentials_must_exist_in_org_and_match_provider(
    api: ApiClient, new_org: OrgFactory
) -> None:
    creds = await _twilio_credentials(api)
    mismatch = await api.post(
        "/v1/phone-numbers",
        json={"phone_number": unique_phone(), "provider": "telnyx", "credentials_id": creds["id"]},
    )
    assert mismatch.status_code == 400
    error = mismatch.json()["error"]
    assert error["code"] == "credentials_provider_mismatch"
    assert error["details"]["invalid_fields"] == ["credentials_id"]
    sandbox = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    patched = await api.patch(
        f"/v1/phone-numbers/{sandbox['id']}", json={"credentials_id": creds["id"]}
    )
    assert patched.json()["error"]["code"] == "credentials_provider_mismatch"
    other = await new_org()
    foreign = await other.post(
        "/v1/phone-numbers",
        json={"phone_number": unique_phone(), "provider": "twilio", "credentials_id": creds["id"]},
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["code"] == "telephony_credential_not_found"
    assert foreign.json()["error"]["details"]["field"] == "credentials_id"
    assert (await other.get("/v1/phone-numbers")).json() == []
