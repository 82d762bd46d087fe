from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.conftest import BASE_URL, make_settings
from tests.support import ApiClient, unique_phone
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.models import Call

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


EXTENSION_FIELDS = {"end_reason", "answered_by", "attempts", "carrier"}
PERSONA = {
    "lines": ["Hello?", "Yes, this is Ana.", "Not interested, bye."],
    "voice": "lucia",
    "pauses_ms": [200, 800],
    "barge_in": {"line": 1, "after_ms": 350},
    "hang_up_after_line": 2,
}


async def _stored_call(db: Database, call_id: str) -> Call:
    async with db.transaction() as session:
        return (await session.execute(select(Call).where(Call.id == call_id))).scalar_one()


async def test_extension_fields_and_carrier(api: ApiClient) -> None:
    await outbound_setup(api)
    created = await api.create(
        "/v1/calls/outbound", {"phone_number": unique_phone(), "assistant_name": "Voz"}
    )
    assert set(created) == OUTBOUND_FIELDS  # the documented response is unchanged
    call = (await api.get(f"/v1/calls/{created['call_id']}")).json()
    assert EXTENSION_FIELDS <= set(call)
    assert call["carrier"] == "sandbox" and call["attempts"] == 0
    assert call["end_reason"] is None and call["answered_by"] is None
    assert (await api.get("/v1/calls", params={"status": "voicemail"})).json() == []


async def test_sandbox_persona_is_validated_and_stored(api: ApiClient, db: Database) -> None:
    assistant = await outbound_setup(api)
    created = await api.create(
        "/v1/calls/outbound",
        {
            "phone_number": unique_phone(),
            "assistant_id": assistant["id"],
            "sandbox_persona": PERSONA,
        },
    )
    assert (await _stored_call(db, created["call_id"])).sandbox_persona == PERSONA
    minimal = await api.create(
        "/v1/calls/outbound",
        {
            "phone_number": unique_phone(),
            "assistant_id": assistant["id"],
            "sandbox_persona": {"lines": ["Hi"]},
        },
    )
    assert (await _stored_call(db, minimal["call_id"])).sandbox_persona == {"lines": ["Hi"]}


@pytest.mark.parametrize(
    ("persona", "field"),
    [
        ({}, "sandbox_persona.lines"),
        ({"lines": []}, "sandbox_persona.lines"),
        ({"lines": ["x"] * 51}, "sandbox_persona.lines"),
        ({"lines": ["x" * 501]}, "sandbox_persona.lines.0"),
        ({"lines": ["ok", 7]}, "sandbox_persona.lines.1"),
        ({"lines": ["ok"], "pauses_ms": ["100"]}, "sandbox_persona.pauses_ms.0"),
        ({"lines": ["ok"], "pauses_ms": [-1]}, "sandbox_persona.pauses_ms.0"),
        ({"lines": ["ok"], "barge_in": {"line": 0}}, "sandbox_persona.barge_in.after_ms"),
        ({"lines": ["ok"], "barge_in": {"line": 3, "after_ms": 5}}, "sandbox_persona"),
        ({"lines": ["ok"], "hang_up_after_line": 1}, "sandbox_persona"),
        ({"lines": ["ok"], "mood": "angry"}, "sandbox_persona.mood"),
        ({"lines": ["nul \u0000"]}, "sandbox_persona"),
        ("Hello", "sandbox_persona"),
    ],
)
async def test_sandbox_persona_validation(api: ApiClient, persona: Any, field: str) -> None:
    assistant = await outbound_setup(api)
    response = await api.post(
        "/v1/calls/outbound",
        json={
            "phone_number": unique_phone(),
            "assistant_id": assistant["id"],
            "sandbox_persona": persona,
        },
    )
    assert response.status_code == 400, response.text
    details = response.json()["error"]["details"]
    assert field in details.get("invalid_fields", []) + details.get("missing_fields", [])
    assert (await api.get("/v1/calls")).json() == []


async def test_sandbox_persona_needs_a_sandbox_number(api: ApiClient) -> None:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "twilio"}
    )
    assistant = await api.create(
        "/v1/assistants",
        {"name": "Tw", "assistant_type": "outbound", "phone_number_id": number["id"]},
    )
    body = {"phone_number": unique_phone(), "assistant_id": assistant["id"]}
    refused = await api.post("/v1/calls/outbound", json={**body, "sandbox_persona": PERSONA})
    assert refused.status_code == 400
    assert refused.json()["error"]["details"]["invalid_fields"] == ["sandbox_persona"]
    assert (await api.get("/v1/calls")).json() == []
    placed = await api.create("/v1/calls/outbound", body)
    call = (await api.get(f"/v1/calls/{placed['call_id']}")).json()
    assert call["carrier"] == "twilio"


async def test_caller_id_precedence(api: ApiClient) -> None:
    assistant = await api.create("/v1/assistants", {"name": "Multi", "assistant_type": "custom"})

    async def number(**slots: Any) -> dict[str, Any]:
        body = {"phone_number": unique_phone(), "provider": "sandbox", **slots}
        return await api.create("/v1/phone-numbers", body)

    async def caller_number() -> str | None:
        response = await api.post(
            "/v1/calls/outbound",
            json={"phone_number": unique_phone(), "assistant_id": assistant["id"]},
        )
        if response.status_code != 201:
            return str(response.json()["error"]["code"])
        call = (await api.get(f"/v1/calls/{response.json()['call_id']}")).json()
        return str(call["phone_number_id"])

    default = await number()
    assert await caller_number() == "no_caller_id"
    inbound = await number(assistant_id=assistant["id"])
    assert await caller_number() == inbound["id"]  # the existing fallback
    await api.patch("/v1/call-settings", json={"default_outbound_number_id": default["id"]})
    assert await caller_number() == default["id"]  # the default beats the inbound slot
    outbound = await number(outbound_assistant_id=assistant["id"])
    assert await caller_number() == outbound["id"]  # the outbound slot beats both
    await api.patch(f"/v1/phone-numbers/{outbound['id']}", json={"status": "inactive"})
    await api.patch(f"/v1/phone-numbers/{default['id']}", json={"status": "inactive"})
    assert await caller_number() == inbound["id"]  # inactive numbers are skipped


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.current = now

    def now(self) -> datetime:
        return self.current


@pytest.fixture
async def clocked_app(tmp_data_dir: Path, database_url: str) -> AsyncIterator[FastAPI]:
    app = create_app(make_settings(tmp_data_dir), database_url)
    app.state.container.clock = FixedClock(datetime(2030, 6, 1, 3, 0, tzinfo=UTC))
    yield app
    await app.state.container.database.dispose()


async def test_dial_after_follows_callee_calling_hours(
    clocked_app: FastAPI, api: ApiClient, db: Database
) -> None:
    clock: FixedClock = clocked_app.state.container.clock
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=clocked_app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {api.key}"},
    ) as client:
        assistant = await outbound_setup(api)

        async def dial_after(phone: str) -> datetime:
            response = await client.post(
                "/v1/calls/outbound", json={"phone_number": phone, "assistant_id": assistant["id"]}
            )
            assert response.status_code == 201, response.text
            stored = (await _stored_call(db, response.json()["call_id"])).dial_after
            assert stored is not None
            return stored

        # 03:00 UTC; default hours 08:00-21:00 callee time.
        assert await dial_after(unique_phone()) == datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
        assert await dial_after("+12125550147") == datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
        await client.patch("/v1/call-settings", json={"calling_hours_start": "02:00"})
        immediate = await dial_after(unique_phone())  # 03:00 is inside 02:00-21:00 UTC
        assert immediate.year != clock.current.year  # the database's clock, not the fake one
        await client.patch(
            "/v1/call-settings", json={"calling_hours_start": "09:00", "calling_hours_end": "10:00"}
        )
        window = await client.post(
            "/v1/calls/outbound",
            json={"phone_number": "+79161234567", "assistant_id": assistant["id"]},
        )
        assert window.status_code == 422
        assert window.json()["error"]["code"] == "no_calling_window"
