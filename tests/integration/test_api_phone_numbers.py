from __future__ import annotations

import pytest

from tests.support import ApiClient, unique_phone

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
