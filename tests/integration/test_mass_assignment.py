"""Mass assignment (OWASP API3:2023): extra body fields never reach stored values.

Unknown fields are ignored by design (``RequestModel`` has ``extra="ignore"``), so a
request carrying server-owned fields (``id``, ``org_id``, timestamps, costs, call
state, secrets...) succeeds, but what is stored, re-read with GET and straight
from the database, is what the server assigned, never what was injected.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from tests.support import ApiClient, OrgFactory, unique_phone
from vozagent.domain.assistants.schemas import AssistantCreate, AssistantUpdate
from vozagent.domain.calls.schemas import OutboundCallCreate
from vozagent.domain.contacts.schemas import ContactCreate, ContactUpdate
from vozagent.domain.phone_numbers.schemas import PhoneNumberCreate, PhoneNumberUpdate
from vozagent.domain.webhooks.schemas import WebhookCreate, WebhookUpdate
from vozagent.storage.db import Database
from vozagent.storage.models import Assistant, Call, Contact, PhoneNumber, WebhookEndpoint
from vozagent.webhooks.secrets import MASKED_SECRET, SECRET_PREFIX

pytestmark = pytest.mark.integration

LONG_AGO = "2001-02-03T04:05:06Z"
INJECTED_ID = "injected-00000000-0000-0000-0000-000000000000"
INJECTED_SECRET = SECRET_PREFIX + "aW5qZWN0ZWQtc2VjcmV0LWluamVjdGVkLXNl"

# Server-owned fields an attacker might try to set. ``org_id`` is filled in per test
# with a real other organization's id; fields that are real on a resource's request
# model (``status`` on phone numbers) are left out for that resource.
INJECTED: dict[str, Any] = {
    "id": INJECTED_ID,
    "org_id": None,
    "created_at": LONG_AGO,
    "updated_at": LONG_AGO,
    "cost": 999.99,
    "secret": INJECTED_SECRET,
    "secret_encrypted": "gAAAAAinjected",
    "key_hash": "0" * 64,
    "call_status": "completed",
    "status": "completed",
    "transcript": "injected transcript",
    "monthly_cost_cents": 987_654,
    "is_new_contact": False,
    "vapi_assistant_id": "vapi-injected",
}


def injected(model: type[BaseModel], org_id: str, **more: Any) -> dict[str, Any]:
    """The injected fields that are *not* real fields of ``model``."""
    values = {**INJECTED, "org_id": org_id, **more}
    real = set(model.model_fields)
    for info in model.model_fields.values():
        if info.validation_alias is not None:
            real.update(str(a) for a in getattr(info.validation_alias, "choices", []))
    return {k: v for k, v in values.items() if k not in real}


@dataclass(frozen=True)
class Resource:
    path: str
    create_model: type[BaseModel]
    update_model: type[BaseModel]
    orm: type[Any]
    body: Callable[[], dict[str, Any]]
    patch: dict[str, Any]
    id_prefix: str
    # Request-model fields named like an injected one (kept out of the injection).
    real_injected: frozenset[str] = frozenset()
    # Server-owned fields of the read model and the value they must have.
    server_owned: dict[str, Any] = field(default_factory=dict)
    # Fields that differ between two creates from the same body (unique values).
    per_object: frozenset[str] = frozenset()


RESOURCES = [
    Resource(
        path="/v1/contacts",
        create_model=ContactCreate,
        update_model=ContactUpdate,
        orm=Contact,
        body=lambda: {"phone_number": unique_phone(), "first_name": "Ann", "tags": ["a"]},
        patch={"first_name": "Bea"},
        id_prefix="",
        per_object=frozenset({"phone_number"}),
    ),
    Resource(
        path="/v1/assistants",
        create_model=AssistantCreate,
        update_model=AssistantUpdate,
        orm=Assistant,
        body=lambda: {"name": "Closer", "assistant_type": "outbound", "system_prompt": "Hi"},
        patch={"name": "Renamed"},
        id_prefix="",
        server_owned={"vapi_assistant_id": None, "phone_number_id": None},
    ),
    Resource(
        path="/v1/phone-numbers",
        create_model=PhoneNumberCreate,
        update_model=PhoneNumberUpdate,
        orm=PhoneNumber,
        body=lambda: {"phone_number": unique_phone(), "provider": "sandbox", "label": "main"},
        patch={"label": "renamed"},
        id_prefix="pn-",
        real_injected=frozenset({"status"}),
        server_owned={"monthly_cost_cents": 0, "status": "active"},
        per_object=frozenset({"phone_number"}),
    ),
    Resource(
        path="/v1/webhooks",
        create_model=WebhookCreate,
        update_model=WebhookUpdate,
        orm=WebhookEndpoint,
        body=lambda: {
            "name": "hook",
            "url": "https://hooks.example.com/in",
            "events": ["call.completed"],
        },
        patch={"name": "renamed"},
        id_prefix="wh-",
        server_owned={"secret": MASKED_SECRET, "is_active": True},
    ),
]
BY_NAME = {r.path.removeprefix("/v1/"): r for r in RESOURCES}
SERVER_ASSIGNED = frozenset({"id", "created_at", "updated_at"})


def parse(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


def assert_recent(timestamp: str) -> None:
    assert timestamp != LONG_AGO
    assert abs(datetime.now(UTC) - parse(timestamp)) < timedelta(hours=1), timestamp


async def fetch(client: ApiClient, path: str, object_id: str) -> dict[str, Any]:
    response = await client.get(f"{path}/{object_id}")
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


async def stored_row(db: Database, orm: type[Any], object_id: str) -> Any:
    async with db.transaction() as session:
        row = await session.get(orm, object_id)
        assert row is not None
        session.expunge(row)
        return row


async def assert_invisible_to(victim: ApiClient, path: str, object_id: str) -> None:
    assert (await victim.get(f"{path}/{object_id}")).status_code == 404
    listed = await victim.get(path)
    assert listed.status_code == 200
    assert listed.json() == []


@pytest.mark.parametrize("name", list(BY_NAME))
def test_injection_covers_every_field_that_is_not_real(name: str) -> None:
    resource = BY_NAME[name]
    for model in (resource.create_model, resource.update_model):
        sent = injected(model, "org-x")
        assert set(INJECTED) - set(sent) == resource.real_injected, model.__name__
        assert len(sent) >= len(INJECTED) - 1


@pytest.mark.parametrize("name", list(BY_NAME))
async def test_create_ignores_injected_fields(new_org: OrgFactory, db: Database, name: str) -> None:
    resource = BY_NAME[name]
    attacker, victim = await new_org(), await new_org()
    body = resource.body()
    response = await attacker.post(
        resource.path, json={**body, **injected(resource.create_model, victim.org_id)}
    )
    assert response.status_code == 201, response.text
    created = response.json()

    assert created["id"] != INJECTED_ID
    assert created["id"].startswith(resource.id_prefix)
    assert_recent(created["created_at"])
    assert_recent(created["updated_at"])
    for key, value in body.items():
        assert created[key] == value, key
    assert "org_id" not in created
    if resource.path == "/v1/webhooks":
        assert created["secret"].startswith(SECRET_PREFIX)
        assert created["secret"] not in (INJECTED_SECRET, MASKED_SECRET)
    for key, value in resource.server_owned.items():
        if key != "secret":
            assert created[key] == value, key

    fetched = await fetch(attacker, resource.path, created["id"])
    for key, value in resource.server_owned.items():
        assert fetched[key] == value, key
    assert fetched == {**created, **{k: fetched[k] for k in ("secret",) if k in fetched}}

    # Same outcome as the same body without the extras.
    twin_body = {**body, **{k: v for k, v in resource.body().items() if k in resource.per_object}}
    twin = await attacker.create(resource.path, twin_body)
    twin_fetched = await fetch(attacker, resource.path, twin["id"])
    ignore = SERVER_ASSIGNED | resource.per_object
    assert {k: v for k, v in fetched.items() if k not in ignore} == {
        k: v for k, v in twin_fetched.items() if k not in ignore
    }

    row = await stored_row(db, resource.orm, created["id"])
    assert row.org_id == attacker.org_id
    assert row.created_at.year != 2001
    if hasattr(row, "monthly_cost_cents"):
        assert row.monthly_cost_cents == 0
    assert (await attacker.get(f"{resource.path}/{INJECTED_ID}")).status_code == 404
    await assert_invisible_to(victim, resource.path, created["id"])


@pytest.mark.parametrize("name", list(BY_NAME))
async def test_patch_ignores_injected_fields(new_org: OrgFactory, db: Database, name: str) -> None:
    resource = BY_NAME[name]
    attacker, victim = await new_org(), await new_org()
    created = await attacker.create(resource.path, resource.body())
    before = await fetch(attacker, resource.path, created["id"])

    response = await attacker.patch(
        f"{resource.path}/{created['id']}",
        json={**resource.patch, **injected(resource.update_model, victim.org_id)},
    )
    assert response.status_code == 200, response.text
    assert response.json()["id"] == created["id"]
    assert "secret" not in response.json() or response.json()["secret"] == MASKED_SECRET

    after = await fetch(attacker, resource.path, created["id"])
    for key, value in resource.patch.items():
        assert after[key] == value, key
    assert after["id"] == before["id"]
    assert after["created_at"] == before["created_at"]
    assert after["updated_at"] != LONG_AGO
    assert parse(after["updated_at"]) >= parse(before["updated_at"])
    for key, value in resource.server_owned.items():
        assert after[key] == value, key
    untouched = set(before) - set(resource.patch) - {"updated_at"}
    assert {k: after[k] for k in untouched} == {k: before[k] for k in untouched}

    row = await stored_row(db, resource.orm, created["id"])
    assert row.org_id == attacker.org_id
    assert (await attacker.get(f"{resource.path}/{INJECTED_ID}")).status_code == 404
    await assert_invisible_to(victim, resource.path, created["id"])


@pytest.mark.parametrize("name", list(BY_NAME))
async def test_patch_of_only_injected_fields_changes_nothing(
    new_org: OrgFactory, name: str
) -> None:
    resource = BY_NAME[name]
    attacker, victim = await new_org(), await new_org()
    created = await attacker.create(resource.path, resource.body())
    before = await fetch(attacker, resource.path, created["id"])
    response = await attacker.patch(
        f"{resource.path}/{created['id']}", json=injected(resource.update_model, victim.org_id)
    )
    assert response.status_code == 200, response.text
    assert await fetch(attacker, resource.path, created["id"]) == before


async def test_webhook_secret_cannot_be_injected(
    new_org: OrgFactory, app: FastAPI, db: Database
) -> None:
    api = await new_org()
    box = app.state.container.secret_box
    created = await api.create(
        "/v1/webhooks",
        {
            "name": "hook",
            "url": "https://hooks.example.com/secret",
            "events": ["*"],
            "secret": INJECTED_SECRET,
            "secret_encrypted": box.encrypt(INJECTED_SECRET),
        },
    )
    secret = created["secret"]
    assert secret.startswith(SECRET_PREFIX)
    assert secret not in (INJECTED_SECRET, MASKED_SECRET)
    assert len(secret) > len(MASKED_SECRET)

    fetched = await fetch(api, "/v1/webhooks", created["id"])
    assert fetched["secret"] == MASKED_SECRET
    listed = (await api.get("/v1/webhooks")).json()
    assert [w["secret"] for w in listed] == [MASKED_SECRET]

    response = await api.patch(
        f"/v1/webhooks/{created['id']}",
        json={
            "name": "renamed",
            "secret": INJECTED_SECRET,
            "secret_encrypted": box.encrypt(INJECTED_SECRET),
        },
    )
    assert response.status_code == 200, response.text
    assert "secret" not in response.json()
    assert (await fetch(api, "/v1/webhooks", created["id"]))["secret"] == MASKED_SECRET

    # The stored secret is still the one the create response showed once.
    row = await stored_row(db, WebhookEndpoint, created["id"])
    assert box.decrypt(row.secret_encrypted) == secret


async def test_assistant_nested_configs_drop_unknown_fields(new_org: OrgFactory) -> None:
    api = await new_org()
    created = await api.create(
        "/v1/assistants",
        {
            "name": "Nested",
            "assistant_type": "custom",
            "llm": {"provider": "openai", "model": "gpt-4o-mini", "api_key": "sk-injected"},
            "stt": {"provider": "deepgram", "secret": "injected"},
            "tools": [{"name": "end_call", "secret": "injected", "org_id": "org-x"}],
        },
    )
    fetched = await fetch(api, "/v1/assistants", created["id"])
    assert fetched["llm"] == {"provider": "openai", "model": "gpt-4o-mini"}
    assert fetched["stt"] == {"provider": "deepgram", "model": None}
    assert "injected" not in str(fetched["tools"])
    assert "org-x" not in str(fetched["tools"])


async def test_outbound_call_ignores_injected_fields(new_org: OrgFactory, db: Database) -> None:
    attacker, victim = await new_org(), await new_org()
    assistant = await attacker.create(
        "/v1/assistants", {"name": f"Dialer {secrets.token_hex(3)}", "assistant_type": "outbound"}
    )
    number = await attacker.create(
        "/v1/phone-numbers",
        {
            "phone_number": unique_phone(),
            "provider": "sandbox",
            "outbound_assistant_id": assistant["id"],
        },
    )
    decoy_number = await attacker.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    decoy_contact = await attacker.create(
        "/v1/contacts", {"phone_number": unique_phone(), "first_name": "Decoy"}
    )
    decoy_before = await fetch(attacker, "/v1/contacts", decoy_contact["id"])
    phone = unique_phone()
    extras = injected(
        OutboundCallCreate,
        victim.org_id,
        call_type="inbound",
        direction="inbound",
        contact_id=decoy_contact["id"],
        phone_number_id=decoy_number["id"],
        customer_phone_number="+15550000001",
        assistant_phone_number="+15550000002",
        to_phone="+15550000003",
        duration_seconds=4242,
        call_started_at=LONG_AGO,
        call_ended_at=LONG_AGO,
        recording_url="https://attacker.example.net/rec.wav",
        analysis_summary="injected summary",
        appointment_booked=True,
        lead_qualification="hot",
        call_intent="injected",
        failure_reason="injected",
        dial_after=LONG_AGO,
        attempts=99,
        claimed_by="attacker",
        claimed_until=LONG_AGO,
        provider_call_id="provider-injected",
    )
    assert {"cost", "call_status", "transcript", "status", "id", "org_id"} <= set(extras)
    response = await attacker.post(
        "/v1/calls/outbound",
        json={"phone_number": phone, "assistant_id": assistant["id"], **extras},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["call_id"] != INJECTED_ID
    assert created["call_id"].startswith("call-")
    assert created["status"] == "queued"
    assert created["direction"] == "outbound"
    assert created["to_phone"] == phone
    assert created["is_new_contact"] is True
    assert created["contact_id"] != decoy_contact["id"]
    assert_recent(created["created_at"])

    call = await fetch(attacker, "/v1/calls", created["call_id"])
    assert call["call_status"] == "queued"
    assert call["call_type"] == "outbound"
    assert call["cost"] is None
    assert call["transcript"] is None
    expected_nulls = (
        "duration_seconds",
        "call_started_at",
        "call_ended_at",
        "recording_url",
        "analysis_summary",
        "lead_qualification",
        "call_intent",
        "failure_reason",
        "notes",
        "source",
    )
    assert {k: call[k] for k in expected_nulls} == dict.fromkeys(expected_nulls)
    assert call["appointment_booked"] is False
    assert call["contact_id"] == created["contact_id"]
    assert call["assistant_id"] == assistant["id"]
    assert call["phone_number_id"] == number["id"]
    assert call["customer_phone_number"] == phone
    assert call["assistant_phone_number"] == number["phone_number"]
    assert_recent(call["created_at"])
    assert_recent(call["updated_at"])
    listed = (await attacker.get("/v1/calls")).json()
    assert [c["id"] for c in listed] == [created["call_id"]]
    assert listed[0]["call_status"] == "queued"

    row = await stored_row(db, Call, created["call_id"])
    assert row.org_id == attacker.org_id
    assert row.attempts == 0
    assert row.claimed_by is None
    assert row.claimed_until is None
    assert row.provider_call_id is None
    assert row.dial_after is not None
    assert row.dial_after.year != 2001

    # The injected contact_id was not touched; the call's contact is a new one for ``phone``.
    assert await fetch(attacker, "/v1/contacts", decoy_contact["id"]) == decoy_before
    contact = await fetch(attacker, "/v1/contacts", created["contact_id"])
    assert contact["phone_number"] == phone
    assert (await victim.get(f"/v1/calls/{created['call_id']}")).status_code == 404
    assert (await victim.get("/v1/calls")).json() == []
    assert (await victim.get("/v1/contacts")).json() == []
