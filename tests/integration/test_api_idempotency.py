from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from tests.support import ApiClient, unique_phone
from vozagent.storage.models import Call, IdempotencyKey

pytestmark = pytest.mark.integration


async def _voz(api: ApiClient) -> None:
    number = await api.create(
        "/v1/phone-numbers", {"phone_number": unique_phone(), "provider": "sandbox"}
    )
    await api.create(
        "/v1/assistants",
        {"name": "Voz", "assistant_type": "outbound", "phone_number_id": number["id"]},
    )


async def _calls_in(db: Any, org_id: str) -> int:
    async with db.transaction() as session:
        statement = select(func.count()).select_from(Call).where(Call.org_id == org_id)
        return int((await session.execute(statement)).scalar_one())


async def test_same_key_same_body_replays(api: ApiClient, db: Any) -> None:
    await _voz(api)
    body = {"phone_number": unique_phone(), "assistant_name": "Voz"}
    headers = {"Idempotency-Key": "order-1"}
    first = await api.post("/v1/calls/outbound", json=body, headers=headers)
    second = await api.post("/v1/calls/outbound", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["idempotent-replayed"] == "true"
    assert await _calls_in(db, api.org_id) == 1


async def test_same_key_other_body_is_422(api: ApiClient, db: Any) -> None:
    await _voz(api)
    headers = {"Idempotency-Key": "order-2"}
    first = await api.post(
        "/v1/calls/outbound",
        json={"phone_number": unique_phone(), "assistant_name": "Voz"},
        headers=headers,
    )
    assert first.status_code == 201
    other = await api.post(
        "/v1/calls/outbound",
        json={"phone_number": unique_phone(), "assistant_name": "Voz"},
        headers=headers,
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert await _calls_in(db, api.org_id) == 1


async def test_failed_request_is_not_stored(api: ApiClient) -> None:
    headers = {"Idempotency-Key": "contact-1"}
    bad = await api.post("/v1/contacts", json={"phone_number": "nope"}, headers=headers)
    assert bad.status_code == 400
    good = await api.post("/v1/contacts", json={"phone_number": unique_phone()}, headers=headers)
    assert good.status_code == 201


async def test_fifty_concurrent_duplicates_make_one_call(api: ApiClient, db: Any) -> None:
    await _voz(api)
    body = {"phone_number": unique_phone(), "assistant_name": "Voz", "tags": ["x"]}
    headers = {"Idempotency-Key": "burst-1"}
    responses = await asyncio.gather(
        *(api.post("/v1/calls/outbound", json=body, headers=headers) for _ in range(50))
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["call_id"] for r in responses}) == 1
    assert await _calls_in(db, api.org_id) == 1
    contacts = (await api.get("/v1/contacts")).json()
    assert len(contacts) == 1


async def test_concurrent_distinct_calls_to_one_new_number_share_one_contact(
    api: ApiClient, db: Any
) -> None:
    await _voz(api)
    phone = unique_phone()
    responses = await asyncio.gather(
        *(
            api.post("/v1/calls/outbound", json={"phone_number": phone, "assistant_name": "Voz"})
            for _ in range(10)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["contact_id"] for r in responses}) == 1
    assert sum(r.json()["is_new_contact"] for r in responses) == 1
    assert await _calls_in(db, api.org_id) == 10


async def test_expired_key_runs_again(api: ApiClient, db: Any) -> None:
    headers = {"Idempotency-Key": "old-1"}
    body = {"phone_number": unique_phone()}
    first = await api.post("/v1/contacts", json=body, headers=headers)
    assert first.status_code == 201
    async with db.transaction() as session:
        await session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.org_id == api.org_id, IdempotencyKey.key == "old-1")
            .values(created_at=func.now() - timedelta(hours=25))
        )
    again = await api.post("/v1/contacts", json=body, headers=headers)
    assert again.status_code == 409  # ran afresh: the contact now exists


@pytest.mark.parametrize("key", ["", "x" * 256, "ключ"])
async def test_bad_keys_are_400(api: ApiClient, key: str) -> None:
    response = await api.post(
        "/v1/contacts",
        json={"phone_number": unique_phone()},
        headers={"Idempotency-Key": key.encode()},
    )
    assert response.status_code == 400
