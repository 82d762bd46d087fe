"""Schemathesis against the app's own OpenAPI document, over the in-process ASGI transport.

Every operation gets the examples, coverage and fuzzing phases in positive and negative
generation modes, with every built-in check; a stateful run then follows the links
Schemathesis infers between operations (create -> get/patch/delete), which is where
``use_after_free`` and ``ensure_resource_availability`` apply.

Schemathesis drives the app from its own event-loop thread, so this module builds its own
app on a NullPool (each request opens a connection in whatever loop runs it) instead of
sharing the session ``app`` fixture, whose pool belongs to the pytest loop.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from sqlalchemy import delete

from tests.conftest import make_settings
from tests.support import unique_phone
from vozagent.api.services import Services
from vozagent.core import api_keys
from vozagent.core.ids import new_id
from vozagent.core.scopes import ALL_SCOPES
from vozagent.domain.assistants.schemas import AssistantCreate
from vozagent.domain.calls.schemas import OutboundCallCreate
from vozagent.domain.contacts.schemas import ContactCreate
from vozagent.domain.organizations.service import OrganizationService
from vozagent.domain.phone_numbers.schemas import PhoneNumberCreate
from vozagent.domain.webhooks.schemas import WebhookCreate
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.models import ApiKey, Organization

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# Bounded for a 2-core CI machine; derandomized so a failure reproduces run after run.
MAX_EXAMPLES = 25
STATEFUL_SCENARIOS = 25
STATEFUL_STEPS = 8
# Schemathesis's default for positive_data_acceptance.
POSITIVE_STATUSES = ["2xx", "3xx", "401", "403", "404", "409", "429", "5xx"]
# Never connected to: the document-only app below serves /v1/openapi.json, which needs no database.
_NO_DATABASE = "postgresql://openapi-only@127.0.0.1:9/none"


class DeferredApp:
    """The ASGI app Schemathesis talks to, bound to the real one by a fixture.

    Pytest collects one test per operation from the schema, so the schema is loaded at
    import; the app that answers needs the session's database, which only fixtures know.
    Until bound, requests go to an app that can serve the OpenAPI document and nothing else.
    """

    def __init__(self, document_app: FastAPI) -> None:
        self.app = document_app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            return  # declining lifespan: the fixture that binds an app also disposes of it
        await self.app(scope, receive, send)


# Made now and stored by the fixture: coverage-phase cases are built, auth included, at collection.
API_KEY = api_keys.generate()
target = DeferredApp(create_app(make_settings(Path("."), db_pool="null"), _NO_DATABASE))
config = schemathesis.Config.from_dict(
    {
        "seed": 20240115,
        "suppress-health-check": ["too_slow", "filter_too_much", "data_too_large"],
        "generation": {
            "mode": "all",  # positive and negative
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            "database": "none",
        },
        "auth": {"openapi": {"bearerAuth": {"bearer": API_KEY.plaintext}}},
        "phases": {
            "examples": {"enabled": True},
            "coverage": {"enabled": True},
            "fuzzing": {"enabled": True},
            "stateful": {"enabled": True, "max-steps": STATEFUL_STEPS},
        },
        "checks": {"enabled": True},
        "operations": [
            {
                # Writes also apply rules the schema does not state, answered 400
                # invalid_request like any validation error: a phone number must be
                # possible for its region (libphonenumber), a webhook URL must pass the
                # SSRF policy, a custom tool needs a url, voices and LLM/STT providers come
                # from the server's catalogue, text cannot hold NUL (PostgreSQL). Reads get
                # no such allowance: schema-valid queries and ids must succeed or 404.
                "include-method": ["POST", "PATCH"],
                "checks": {
                    "positive_data_acceptance": {
                        "expected-statuses": [*POSITIVE_STATUSES, "400"],
                    }
                },
            }
        ],
    }
)
schema = schemathesis.openapi.from_asgi("/v1/openapi.json", target, config=config)


@dataclass(frozen=True, slots=True)
class Tenant:
    """The live app and the organization that ``API_KEY`` belongs to."""

    app: FastAPI
    database_url: str
    org_id: str


async def _seed(app: FastAPI, database_url: str, *, replacing: str | None = None) -> str:
    """An organization owning ``API_KEY``, with an outbound assistant calling from a sandbox
    number, a contact, a call and a webhook, so that generated requests can sometimes succeed.

    ``replacing`` names an organization to delete first (with everything it owns)."""
    database = Database(database_url, pool="null")
    try:
        async with database.transaction() as session:
            if replacing is not None:
                await session.execute(delete(Organization).where(Organization.id == replacing))
            organizations = OrganizationService(session)
            org = await organizations.create_organization(f"contract-{secrets.token_hex(4)}")
            await organizations.keys.add(
                ApiKey(
                    id=new_id("api_key"),
                    org_id=org.id,
                    name="schemathesis",
                    public_id=API_KEY.public_id,
                    key_hash=API_KEY.key_hash,
                    last_four=API_KEY.last_four,
                    scopes=list(ALL_SCOPES),
                )
            )
            services = Services(app.state.container, session, org.id)
            number = await services.phone_numbers().create(
                PhoneNumberCreate(phone_number=unique_phone(), label="Sandbox", provider="sandbox")
            )
            assistant = await services.assistants().create(
                AssistantCreate(
                    name="Contract caller", assistant_type="outbound", phone_number_id=number.id
                )
            )
            contact = await services.contacts().create(
                ContactCreate(phone_number=unique_phone(), first_name="Ada", tags=["lead"])
            )
            await services.calls().create_outbound(
                await organizations.get_organization(org.id),
                OutboundCallCreate(phone_number=contact.phone_number, assistant_id=assistant.id),
            )
            await services.webhooks().create(
                WebhookCreate(
                    name="Contract hook", url="https://example.com/hook", events=["call.completed"]
                )
            )
            return org.id
    finally:
        await database.dispose()


def _run_in_own_loop(coroutine: Coroutine[Any, Any, str]) -> str:
    """Hypothesis calls us synchronously: run the coroutine in a thread and loop of its own."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture(scope="module")
async def tenant(tmp_data_dir: Path, database_url: str) -> AsyncIterator[Tenant]:
    """Binds ``target`` to an app on the test database, with a seeded organization."""
    app = create_app(make_settings(tmp_data_dir, db_pool="null"), database_url)
    org_id = await _seed(app, database_url)
    document_app, target.app = target.app, app
    yield Tenant(app, database_url, org_id)
    target.app = document_app
    await app.state.container.database.dispose()


@schema.parametrize()
def test_operation_conforms(case: schemathesis.Case, tenant: Tenant) -> None:
    case.call_and_validate()


def test_stateful_links(tenant: Tenant) -> None:
    org_id = tenant.org_id

    class Scenarios(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            # Every scenario starts from the same data. Otherwise the same requests can get
            # other answers (a 409 for a number the last scenario created), the links on
            # offer change, and Hypothesis rejects its own replay as a flaky strategy.
            nonlocal org_id
            org_id = _run_in_own_loop(_seed(tenant.app, tenant.database_url, replacing=org_id))

    Scenarios.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            # Schemathesis's own stateful settings: generate only, a failure is reported as
            # found (shrinking replays steps against a database that has moved on).
            phases=[hypothesis.Phase.generate],
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
