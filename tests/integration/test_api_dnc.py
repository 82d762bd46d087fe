"""The do-not-call list extension, and outbound calls refusing listed numbers."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support import ApiClient, OrgFactory, unique_phone

pytestmark = pytest.mark.integration

DNC = "/v1/dnc"


async def caller(api: ApiClient) -> dict[str, Any]:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    return await api.create(
        "/v1/assistants",
        {"name": "Dialer", "assistant_type": "outbound", "phone_number_id": number["id"]},
    )


async def test_create_get_list_filter_delete(api: ApiClient) -> None:
    first = await api.create(DNC, {"phone_number": "(555) 010-1234", "reason": "asked"})
    assert first["id"].startswith("dnc-")
    assert first["phone_number"] == "+15550101234"  # national format, default region
    assert first["reason"] == "asked"
    second = await api.create(DNC, {"phone_number": unique_phone()})
    assert second["reason"] is None
    assert (await api.get(f"{DNC}/{first['id']}")).json() == first
    listed = (await api.get(DNC)).json()
    assert [e["id"] for e in listed] == [second["id"], first["id"]]
    assert [e["id"] for e in (await api.get(DNC, params={"limit": 1})).json()] == [second["id"]]
    found = (await api.get(DNC, params={"phone_number": "555-010-1234"})).json()
    assert [e["id"] for e in found] == [first["id"]]
    assert (await api.get(DNC, params={"phone_number": "not a number"})).json() == []
    deleted = await api.delete(f"{DNC}/{first['id']}")
    assert deleted.status_code == 200 and deleted.json() == first
    missing = await api.get(f"{DNC}/{first['id']}")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "dnc_entry_not_found"


async def test_duplicate_in_any_format_is_409_with_existing_id(api: ApiClient) -> None:
    phone = unique_phone()
    entry = await api.create(DNC, {"phone_number": phone})
    again = await api.post(DNC, json={"phone_number": f"1 {phone[2:5]} {phone[5:]}"})
    assert again.status_code == 409
    error = again.json()["error"]
    assert error["code"] == "dnc_exists"
    assert error["details"]["existing_id"] == entry["id"]
    assert len((await api.get(DNC, params={"phone_number": phone})).json()) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "missing:phone_number"),
        ({"phone_number": "12"}, "phone_number"),
        ({"phone_number": 15551234567}, "phone_number"),
        ({"phone_number": unique_phone(), "reason": "x" * 201}, "reason"),
    ],
)
async def test_validation(api: ApiClient, body: dict[str, Any], field: str) -> None:
    response = await api.post(DNC, json=body)
    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    if field.startswith("missing:"):
        assert details["missing_fields"] == [field.split(":")[1]]
    else:
        assert details["invalid_fields"] == [field]


async def test_server_owned_fields_are_not_bound(api: ApiClient, new_org: OrgFactory) -> None:
    other = await new_org()
    entry = await api.create(
        DNC,
        {
            "phone_number": unique_phone(),
            "id": "dnc-injected",
            "org_id": other.org_id,
            "created_at": "2001-01-01T00:00:00Z",
        },
    )
    assert entry["id"] != "dnc-injected" and not entry["created_at"].startswith("2001")
    assert (await other.get(DNC)).json() == []
    assert (await api.get(f"{DNC}/{entry['id']}")).status_code == 200


async def test_other_organizations_cannot_see_or_delete(
    api: ApiClient, new_org: OrgFactory
) -> None:
    entry = await api.create(DNC, {"phone_number": unique_phone()})
    other = await new_org()
    assert (await other.get(f"{DNC}/{entry['id']}")).status_code == 404
    assert (await other.delete(f"{DNC}/{entry['id']}")).status_code == 404
    assert (await other.get(DNC, params={"phone_number": entry["phone_number"]})).json() == []
    # The same number may be on both lists: each organization keeps its own.
    assert (await other.post(DNC, json={"phone_number": entry["phone_number"]})).status_code == 201
    assert (await api.get(f"{DNC}/{entry['id']}")).json() == entry


async def test_scopes(new_org: OrgFactory) -> None:
    reader = await new_org(scopes=["dnc:read"])
    assert (await reader.get(DNC)).status_code == 200
    refused = await reader.post(DNC, json={"phone_number": unique_phone()})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"]["required_scope"] == "dnc:write"
    calls_only = await new_org(scopes=["calls:read", "calls:write"])
    assert (await calls_only.get(DNC)).status_code == 403


async def test_outbound_call_to_listed_number_is_refused_and_writes_nothing(
    api: ApiClient,
) -> None:
    assistant = await caller(api)
    phone = unique_phone()
    entry = await api.create(DNC, {"phone_number": phone, "reason": "complaint"})
    response = await api.post(
        "/v1/calls/outbound",
        json={
            "phone_number": f"({phone[2:5]}) {phone[5:8]}-{phone[8:]}",
            "assistant_id": assistant["id"],
        },
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "number_on_dnc_list"
    assert error["details"] == {"phone_number": phone, "dnc_id": entry["id"]}
    assert (await api.get("/v1/calls")).json() == []
    assert (await api.get("/v1/contacts")).json() == []
    await api.delete(f"{DNC}/{entry['id']}")
    allowed = await api.post(
        "/v1/calls/outbound", json={"phone_number": phone, "assistant_id": assistant["id"]}
    )
    assert allowed.status_code == 201, allowed.text


async def test_another_organizations_list_does_not_block(
    api: ApiClient, new_org: OrgFactory
) -> None:
    assistant = await caller(api)
    phone = unique_phone()
    other = await new_org()
    await other.create(DNC, {"phone_number": phone})
    response = await api.post(
        "/v1/calls/outbound", json={"phone_number": phone, "assistant_id": assistant["id"]}
    )
    assert response.status_code == 201, response.text
