"""Events are recorded with the change that caused them, and fan out by subscription."""

from __future__ import annotations

import json

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.integration.webhooks.conftest import (
    Receiver,
    create_contact,
    create_endpoint,
    hooks_db,
)
from tests.support import ApiClient, unique_phone
from vozagent.api.services import Services
from vozagent.domain.contacts.schemas import ContactCreate
from vozagent.domain.organizations.service import OrganizationService
from vozagent.storage.models import WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.integration


async def _events(app: FastAPI, org_id: str) -> list[WebhookEvent]:
    async with hooks_db(app).transaction() as session:
        statement = select(WebhookEvent).where(WebhookEvent.org_id == org_id)
        return list((await session.execute(statement)).scalars())


async def _deliveries(app: FastAPI, endpoint_id: str) -> list[WebhookDelivery]:
    async with hooks_db(app).transaction() as session:
        statement = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
        return list((await session.execute(statement)).scalars())


async def test_an_event_rolls_back_with_its_change(
    hooks_app: FastAPI, hooks_api: ApiClient
) -> None:
    container = hooks_app.state.container

    async def write_then_fail() -> None:
        async with container.database.transaction() as session:
            services = Services(container, session, hooks_api.org_id)
            await services.contacts().create(ContactCreate(phone_number=unique_phone()))
            assert await _events(hooks_app, hooks_api.org_id) == []  # not yet committed
            raise RuntimeError("the request failed after the write")

    with pytest.raises(RuntimeError):
        await write_then_fail()
    assert await _events(hooks_app, hooks_api.org_id) == []
    contact = await create_contact(hooks_api)
    (event,) = await _events(hooks_app, hooks_api.org_id)
    assert event.type == "contact.created" and contact["id"] in event.body


async def test_a_refused_request_records_no_event(hooks_app: FastAPI, hooks_api: ApiClient) -> None:
    contact = await create_contact(hooks_api)
    duplicate = await hooks_api.post("/v1/contacts", json={"phone_number": contact["phone_number"]})
    assert duplicate.status_code == 409
    assert [e.type for e in await _events(hooks_app, hooks_api.org_id)] == ["contact.created"]


async def test_fan_out_follows_subscriptions(
    hooks_app: FastAPI, hooks_api: ApiClient, receiver: Receiver
) -> None:
    everything = await create_endpoint(hooks_api, receiver.url("/all"), ["*"])
    created_only = await create_endpoint(hooks_api, receiver.url("/created"), ["contact.created"])
    calls_only = await create_endpoint(hooks_api, receiver.url("/calls"), ["call.completed"])
    contact = await create_contact(hooks_api)
    await hooks_api.patch(f"/v1/contacts/{contact['id']}", json={"company": "Acme"})
    await hooks_api.delete(f"/v1/contacts/{contact['id']}")
    kinds = {
        name: sorted(d.event_type for d in await _deliveries(hooks_app, endpoint["id"]))
        for name, endpoint in (
            ("all", everything),
            ("created", created_only),
            ("calls", calls_only),
        )
    }
    assert kinds == {
        "all": ["contact.created", "contact.deleted", "contact.updated"],
        "created": ["contact.created"],
        "calls": [],
    }


async def test_outbound_calls_announce_call_queued(
    hooks_app: FastAPI, hooks_api: ApiClient, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/queued"), ["call.queued"])
    number = await hooks_api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    assistant = await hooks_api.create(
        "/v1/assistants",
        {"name": "Caller", "assistant_type": "outbound", "phone_number_id": number["id"]},
    )
    created = await hooks_api.create(
        "/v1/calls/outbound", {"phone_number": unique_phone(), "assistant_id": assistant["id"]}
    )
    (delivery,) = await _deliveries(hooks_app, endpoint["id"])
    events = {e.id: e for e in await _events(hooks_app, hooks_api.org_id)}
    body = events[delivery.event_id].body
    call = (await hooks_api.get(f"/v1/calls/{created['call_id']}")).json()
    assert json.loads(body)["data"] == call  # the Call detail object


async def test_pausing_cancels_pending_and_stops_fan_out(
    hooks_app: FastAPI, hooks_api: ApiClient, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/paused"))
    await create_contact(hooks_api)
    paused = await hooks_api.patch(f"/v1/webhooks/{endpoint['id']}", json={"isActive": False})
    assert paused.status_code == 200 and paused.json()["is_active"] is False
    await create_contact(hooks_api)
    deliveries = await _deliveries(hooks_app, endpoint["id"])
    assert [d.status for d in deliveries] == ["canceled"]  # nothing pending, nothing new
    test = await hooks_api.post(f"/v1/webhooks/{endpoint['id']}/test")
    assert test.status_code == 409 and test.json()["error"]["code"] == "webhook_inactive"


async def test_delivery_log_is_tenant_scoped(
    hooks_app: FastAPI, hooks_api: ApiClient, receiver: Receiver
) -> None:
    endpoint = await create_endpoint(hooks_api, receiver.url("/mine"))
    await create_contact(hooks_api)
    (delivery,) = await _deliveries(hooks_app, endpoint["id"])
    container = hooks_app.state.container
    async with container.database.transaction() as session:
        service = OrganizationService(session)
        other_org = await service.create_organization("intruder")
        other_key = (await service.create_key(other_org.id, "k")).plaintext
    headers = {"Authorization": f"Bearer {other_key}"}
    base = f"/v1/webhooks/{endpoint['id']}"
    for method, path in (
        ("GET", f"{base}/deliveries"),
        ("GET", f"{base}/deliveries/{delivery.id}"),
        ("POST", f"{base}/deliveries/{delivery.id}/retry"),
        ("POST", f"{base}/test"),
        ("POST", f"{base}/rotate-secret"),
    ):
        response = await hooks_api.request(method, path, headers=headers)
        assert response.status_code == 404, (method, path, response.text)
    replay = await hooks_api.post(
        f"{base}/replay", json={"since": "2020-01-01T00:00:00Z"}, headers=headers
    )
    assert replay.status_code == 404
    mine = await hooks_api.get(f"{base}/deliveries")
    assert [d["id"] for d in mine.json()] == [delivery.id]
    assert mine.json()[0]["status"] == "pending"
