from __future__ import annotations

from typing import Any

import pytest

from tests.support import ApiClient, unique_phone

pytestmark = pytest.mark.integration

OUTBOUND_FIELDS = {
    "call_id",
    "status",
    "direction",
    "to_phone",
    "assistant_name",
    "contact_id",
    "is_new_contact",
    "created_at",
}


async def outbound_setup(api: ApiClient, name: str = "Voz") -> dict[str, Any]:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    return await api.create(
        "/v1/assistants",
        {"name": name, "assistant_type": "outbound", "phone_number_id": number["id"]},
    )


async def test_spec_example_creates_queued_call_and_contact(api: ApiClient) -> None:
    await outbound_setup(api)
    phone = unique_phone()
    response = await api.post(
        "/v1/calls/outbound",
        json={
            "phone_number": phone,
            "assistant_name": "Voz",
            "first_name": "John",
            "last_name": "Smith",
            "notes": "Interested in a kitchen remodel quote",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == OUTBOUND_FIELDS
    assert body["status"] == "queued" and body["direction"] == "outbound"
    assert body["to_phone"] == phone and body["assistant_name"] == "Voz"
    assert body["is_new_contact"] is True
    call = (await api.get(f"/v1/calls/{body['call_id']}")).json()
    assert call["call_status"] == "queued" and call["call_type"] == "outbound"
    assert call["customer_phone_number"] == phone
    assert call["notes"] == "Interested in a kitchen remodel quote"
    assert call["duration_seconds"] is None and call["cost"] is None
    contact = (await api.get(f"/v1/contacts/{body['contact_id']}")).json()
    assert (contact["first_name"], contact["last_name"]) == ("John", "Smith")


async def test_existing_contact_is_reused_and_merged(api: ApiClient) -> None:
    assistant = await outbound_setup(api)
    phone = unique_phone()
    contact = await api.create(
        "/v1/contacts", {"phone_number": phone, "first_name": "Jane", "tags": ["lead"]}
    )
    response = await api.post(
        "/v1/calls/outbound",
        json={
            "phone_number": phone,
            "assistant_id": assistant["id"],
            "first_name": "Janet",
            "last_name": "Roe",
            "tags": "priority",
            "source": "website",
        },
    )
    body = response.json()
    assert body["is_new_contact"] is False
    assert body["contact_id"] == contact["id"]
    merged = (await api.get(f"/v1/contacts/{contact['id']}")).json()
    assert merged["first_name"] == "Jane"  # existing names are kept
    assert merged["last_name"] == "Roe"  # blanks are filled
    assert merged["tags"] == ["lead", "priority"]
    assert merged["source"] == "website"


async def test_missing_fields(api: ApiClient) -> None:
    response = await api.post("/v1/calls/outbound", json={"assistant_name": "Voz"})
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid_request",
        "message": "The request is missing required fields",
        "details": {"missing_fields": ["phone_number"]},
    }
    neither = await api.post("/v1/calls/outbound", json={"phone_number": unique_phone()})
    assert neither.status_code == 400
    assert neither.json()["error"]["details"]["missing_fields"] == ["assistant_id"]


@pytest.mark.parametrize(
    ("make", "status", "code"),
    [
        ("unknown_name", 404, "assistant_not_found"),
        ("unknown_id", 404, "assistant_not_found"),
        ("inactive", 409, "assistant_inactive"),
        ("inbound", 409, "assistant_wrong_type"),
        ("no_number", 409, "no_caller_id"),
        ("ambiguous", 409, "assistant_ambiguous"),
        ("mismatch", 400, "invalid_request"),
    ],
)
async def test_assistant_problems(api: ApiClient, make: str, status: int, code: str) -> None:
    assistant = await outbound_setup(api, name="Voz")
    body: dict[str, Any] = {"phone_number": unique_phone(), "assistant_id": assistant["id"]}
    if make == "unknown_name":
        body = {"phone_number": unique_phone(), "assistant_name": "Nobody"}
    elif make == "unknown_id":
        body["assistant_id"] = "nope"
    elif make == "inactive":
        await api.patch(f"/v1/assistants/{assistant['id']}", json={"is_active": False})
    elif make == "inbound":
        await api.patch(f"/v1/assistants/{assistant['id']}", json={"assistant_type": "inbound"})
    elif make == "no_number":
        await api.patch(f"/v1/assistants/{assistant['id']}", json={"phone_number_id": None})
    elif make == "ambiguous":
        await outbound_setup(api, name="voz")
        body = {"phone_number": unique_phone(), "assistant_name": "Voz"}
    elif make == "mismatch":
        body["assistant_name"] = "Someone else"
    response = await api.post("/v1/calls/outbound", json=body)
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert (await api.get("/v1/calls")).json() == []


async def test_inactive_subscription_is_402(api: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import update

    from vozagent.storage.models import Organization

    await outbound_setup(api)
    async with db.transaction() as session:
        await session.execute(
            update(Organization)
            .where(Organization.id == api.org_id)
            .values(subscription_status="inactive")
        )
    response = await api.post(
        "/v1/calls/outbound", json={"phone_number": unique_phone(), "assistant_name": "Voz"}
    )
    assert response.status_code == 402
    assert response.json()["error"]["code"] == "subscription_inactive"


async def test_list_filters(api: ApiClient) -> None:
    assistant = await outbound_setup(api)
    first = (
        await api.post(
            "/v1/calls/outbound", json={"phone_number": unique_phone(), "assistant_name": "Voz"}
        )
    ).json()
    second = (
        await api.post(
            "/v1/calls/outbound", json={"phone_number": unique_phone(), "assistant_name": "Voz"}
        )
    ).json()
    listed = (await api.get("/v1/calls")).json()
    assert [c["id"] for c in listed] == [second["call_id"], first["call_id"]]
    by_contact = (await api.get("/v1/calls", params={"contact_id": first["contact_id"]})).json()
    assert [c["id"] for c in by_contact] == [first["call_id"]]
    by_assistant = (await api.get("/v1/calls", params={"assistant_id": assistant["id"]})).json()
    assert len(by_assistant) == 2
    assert len((await api.get("/v1/calls", params={"status": "queued"})).json()) == 2
    assert (await api.get("/v1/calls", params={"status": "completed"})).json() == []
    assert (await api.get("/v1/calls", params={"call_type": "inbound"})).json() == []
    bad = await api.get("/v1/calls", params={"status": "exploded"})
    assert bad.status_code == 400
    assert bad.json()["error"]["details"]["invalid_fields"] == ["status"]
    assert (await api.get("/v1/calls/call-nope")).status_code == 404
