"""Authentication, scopes, the error envelope at the edge, rate limits."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.conftest import BASE_URL, make_settings
from tests.support import ApiClient, OrgFactory, unique_phone
from vozagent.core import api_keys
from vozagent.core.scopes import ALL_SCOPES
from vozagent.server import create_app

pytestmark = pytest.mark.integration

PROTECTED = [
    ("GET", "/v1/contacts"),
    ("POST", "/v1/contacts"),
    ("GET", "/v1/contacts/x"),
    ("PATCH", "/v1/contacts/x"),
    ("DELETE", "/v1/contacts/x"),
    ("GET", "/v1/calls"),
    ("GET", "/v1/calls/x"),
    ("POST", "/v1/calls/outbound"),
    ("GET", "/v1/assistants"),
    ("POST", "/v1/assistants"),
    ("GET", "/v1/assistants/x"),
    ("GET", "/v1/phone-numbers"),
    ("POST", "/v1/phone-numbers"),
    ("GET", "/v1/webhooks"),
    ("POST", "/v1/webhooks"),
    ("PATCH", "/v1/webhooks/x"),
    ("DELETE", "/v1/webhooks/x"),
]
# The scope each operation needs, by resource and verb.
SCOPE_OF = {
    "contacts": "contacts",
    "calls": "calls",
    "assistants": "assistants",
    "phone-numbers": "phone_numbers",
    "webhooks": "webhooks",
}


def required_scope(method: str, path: str) -> str:
    resource = SCOPE_OF[path.split("/")[2]]
    return f"{resource}:{'read' if method == 'GET' else 'write'}"


def _forged_key() -> str:
    good = api_keys.generate().plaintext
    return good[:-1] + ("A" if good[-1] != "A" else "B")


@pytest.mark.parametrize(
    "header",
    [
        None,
        "Bearer",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-key",
        "Bearer gw_short",
        "BEARER-FORGED",
        "UNKNOWN",
    ],
)
async def test_bad_credentials_are_401_everywhere(
    anonymous: httpx.AsyncClient, header: str | None
) -> None:
    if header == "BEARER-FORGED":
        header = f"Bearer {_forged_key()}"  # bad checksum
    elif header == "UNKNOWN":
        header = f"Bearer {api_keys.generate().plaintext}"  # well-formed, never issued
    headers = {"Authorization": header} if header else {}
    for method, path in PROTECTED:
        response = await anonymous.request(method, path, headers=headers, json={})
        assert response.status_code == 401, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] == "unauthorized"
        assert set(error) == {"code", "message", "details"}


async def test_revoked_key_is_401(api: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from vozagent.domain.organizations.service import OrganizationService

    assert (await api.get("/v1/contacts")).status_code == 200
    async with db.transaction() as session:
        await OrganizationService(session).revoke_key(api.org_id, api.key_id, datetime.now(UTC))
    assert (await api.get("/v1/contacts")).status_code == 401


@pytest.mark.parametrize("scope", ALL_SCOPES)
async def test_scope_matrix(new_org: OrgFactory, scope: str) -> None:
    client = await new_org(scopes=[scope])
    for method, path in PROTECTED:
        response = await client.request(method, path, json={})
        needed = required_scope(method, path)
        if needed == scope:
            assert response.status_code != 403, (method, path)
        else:
            assert response.status_code == 403, (method, path, response.text)
            error = response.json()["error"]
            assert error["code"] == "insufficient_scope"
            assert error["details"]["required_scope"] == needed


async def test_last_used_at_is_recorded(api: ApiClient, db) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from vozagent.storage.models import ApiKey

    await api.get("/v1/contacts")
    async with db.transaction() as session:
        key = (await session.execute(select(ApiKey).where(ApiKey.id == api.key_id))).scalar_one()
    assert key.last_used_at is not None
    assert api.key not in repr(key.__dict__)  # only the hash is stored


async def test_every_response_has_a_request_id(api: ApiClient) -> None:
    ok = await api.get("/v1/contacts")
    missing = await api.get("/v1/nowhere")
    assert ok.headers["x-request-id"].startswith("req_")
    assert missing.headers["x-request-id"] != ok.headers["x-request-id"]
    echoed = await api.get("/v1/contacts", headers={"X-Request-Id": "trace-123"})
    assert echoed.headers["x-request-id"] == "trace-123"


async def test_unknown_route_and_method(api: ApiClient) -> None:
    missing = await api.get("/v1/nowhere")
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "not_found"
    wrong = await api.put("/v1/contacts", json={})
    assert wrong.status_code == 405
    assert wrong.json()["error"]["code"] == "method_not_allowed"
    assert set(wrong.headers["allow"].split(", ")) == {"GET", "POST"}


async def test_body_over_one_mebibyte_is_413(api: ApiClient) -> None:
    big = b'{"phone_number": "+15551230000", "notes": "' + b"x" * (1024 * 1024) + b'"}'
    response = await api.post(
        "/v1/contacts", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert (await api.get("/v1/contacts")).json() == []


async def test_chunked_body_over_limit_is_413(api: ApiClient) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"phone_number": "+15551230000", "notes": "'
        for _ in range(40):
            yield b"y" * 32_768
        yield b'"}'

    response = await api.post(
        "/v1/contacts", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


@pytest.fixture
async def limited_app(tmp_data_dir: Path, database_url: str) -> AsyncIterator[FastAPI]:
    limits = {p: "5/minute" for p in ("essential", "growth", "advanced")}
    limits["enterprise"] = "8/minute"
    app = create_app(
        make_settings(tmp_data_dir, rate_limits=limits, anonymous_rate_limit="3/minute"),
        database_url,
    )
    yield app
    await app.state.container.database.dispose()


async def _client_for(app: FastAPI, api: ApiClient) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=BASE_URL,
        headers={"Authorization": f"Bearer {api.key}"},
    )


async def test_rate_limit_per_key_and_plan(limited_app: FastAPI, new_org: OrgFactory) -> None:
    essential = await _client_for(limited_app, await new_org())
    enterprise = await _client_for(limited_app, await new_org(plan="enterprise"))
    async with essential, enterprise:
        statuses = [(await essential.get("/v1/contacts")).status_code for _ in range(25)]
        assert statuses.count(200) == 5 and statuses.count(429) == 20
        limited = await essential.get("/v1/contacts")
        assert int(limited.headers["retry-after"]) >= 1
        assert limited.json()["error"]["code"] == "rate_limited"
        enterprise_ok = [(await enterprise.get("/v1/contacts")).status_code for _ in range(10)]
        assert enterprise_ok.count(200) == 8


async def test_rate_limit_headers_never_increase(limited_app: FastAPI, new_org: OrgFactory) -> None:
    client = await _client_for(limited_app, await new_org())
    async with client:
        remaining = []
        for _ in range(5):
            response = await client.get("/v1/contacts")
            assert response.headers["ratelimit-limit"] == "5"
            assert "ratelimit-policy" in response.headers
            remaining.append(int(response.headers["ratelimit-remaining"]))
        assert remaining == sorted(remaining, reverse=True)
        assert remaining[-1] == 0


async def test_bad_keys_are_limited_per_client(limited_app: FastAPI) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=limited_app), base_url=BASE_URL
    ) as client:
        statuses = [
            (await client.get("/v1/contacts", headers={"Authorization": "Bearer x"})).status_code
            for _ in range(6)
        ]
    assert statuses == [401, 401, 401, 429, 429, 429]


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
async def test_two_processes_share_one_budget_in_redis(
    tmp_data_dir: Path, database_url: str, new_org: OrgFactory
) -> None:
    api = await new_org()
    limits = {p: "6/minute" for p in ("essential", "growth", "advanced", "enterprise")}
    settings = make_settings(
        tmp_data_dir, rate_limits=limits, redis_url="redis://127.0.0.1:6379/15"
    )
    apps = [create_app(settings, database_url) for _ in range(2)]
    clients = [await _client_for(app, api) for app in apps]
    try:
        responses = await asyncio.gather(*(clients[i % 2].get("/v1/contacts") for i in range(20)))
        assert sum(r.status_code == 200 for r in responses) == 6
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            await app.state.container.database.dispose()


async def test_outbound_requires_calls_write(new_org: OrgFactory) -> None:
    reader = await new_org(scopes=["calls:read"])
    response = await reader.post(
        "/v1/calls/outbound", json={"phone_number": unique_phone(), "assistant_name": "Voz"}
    )
    assert response.status_code == 403
    assert response.json()["error"]["details"]["required_scope"] == "calls:write"
