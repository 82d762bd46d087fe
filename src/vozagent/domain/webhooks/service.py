from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.webhooks.errors import (
    UnknownEventTypes,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookUrlRejected,
)
from vozagent.domain.webhooks.schemas import WebhookCreate, WebhookUpdate
from vozagent.storage.models import WebhookEndpoint
from vozagent.storage.repositories.webhooks import WebhookEndpointRepository
from vozagent.webhooks.catalog import unknown_event_types
from vozagent.webhooks.secrets import generate_secret
from vozagent.webhooks.urls import url_problem


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    allow_http: bool = False
    allow_private: bool = False
    max_per_org: int = 50


class WebhookService:
    def __init__(
        self, session: AsyncSession, org_id: str, *, box: SecretBox, policy: WebhookPolicy
    ) -> None:
        self.repository = WebhookEndpointRepository(session, org_id)
        self.org_id = org_id
        self.box = box
        self.policy = policy

    async def list(self, page: Page) -> Sequence[WebhookEndpoint]:
        return await self.repository.list(self.repository.scoped(), page)

    async def get(self, webhook_id: str) -> WebhookEndpoint:
        endpoint = await self.repository.get(webhook_id)
        if endpoint is None:
            raise WebhookNotFound(webhook_id)
        return endpoint

    async def create(self, data: WebhookCreate) -> tuple[WebhookEndpoint, str]:
        """Returns the endpoint and its secret, which is shown this once."""
        self._check_url(data.url)
        events = _check_events(data.events)
        if await self.repository.count() >= self.policy.max_per_org:
            raise WebhookLimitReached(self.policy.max_per_org)
        secret = generate_secret()
        endpoint = WebhookEndpoint(
            id=new_id("webhook"),
            org_id=self.org_id,
            name=data.name,
            url=data.url,
            events=events,
            is_active=True,
            secret_encrypted=self.box.encrypt(secret),
        )
        return await self.repository.add(endpoint), secret

    async def update(self, webhook_id: str, data: WebhookUpdate) -> WebhookEndpoint:
        endpoint = await self.repository.get(webhook_id, for_update=True)
        if endpoint is None:
            raise WebhookNotFound(webhook_id)
        # None on these fields means "leave as is": none of them can be emptied.
        changes = {k: v for k, v in data.provided().items() if v is not None}
        if "url" in changes:
            self._check_url(changes["url"])
        if "events" in changes:
            changes["events"] = _check_events(changes["events"])
        if changes:
            for name, value in changes.items():
                setattr(endpoint, name, value)
            await self.repository.touch(endpoint)
        return endpoint

    async def delete(self, webhook_id: str) -> WebhookEndpoint:
        endpoint = await self.get(webhook_id)
        await self.repository.delete(webhook_id)
        return endpoint

    def _check_url(self, url: str) -> None:
        problem = url_problem(
            url, allow_http=self.policy.allow_http, allow_private=self.policy.allow_private
        )
        if problem:
            raise WebhookUrlRejected(problem)


def _check_events(events: list[str]) -> list[str]:
    unknown = unknown_event_types(events)
    if unknown:
        raise UnknownEventTypes(unknown)
    return list(dict.fromkeys(events))
