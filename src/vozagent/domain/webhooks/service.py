from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock
from vozagent.core.errors import InvalidRequest
from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.events.service import EventService
from vozagent.domain.webhooks.errors import (
    ReplayTooLarge,
    UnknownEventTypes,
    WebhookDeliveryNotFound,
    WebhookInactive,
    WebhookLimitReached,
    WebhookNotFound,
    WebhookUrlRejected,
)
from vozagent.domain.webhooks.schemas import ReplayRequest, WebhookCreate, WebhookUpdate
from vozagent.storage.models import WebhookDelivery, WebhookEndpoint
from vozagent.storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from vozagent.storage.repositories.webhooks import WebhookEndpointRepository
from vozagent.webhooks.catalog import unknown_event_types
from vozagent.webhooks.payloads import WebhookTest
from vozagent.webhooks.secrets import generate_secret
from vozagent.webhooks.urls import url_problem


@dataclass(frozen=True, slots=True)
class WebhookPolicy:
    allow_http: bool = False
    allow_private: bool = False
    max_per_org: int = 50
    # After a rotation the old secret keeps signing (as a second signature) this long.
    rotation_overlap: timedelta = timedelta(hours=24)
    max_replay: int = 10_000


class WebhookService:
    def __init__(
        self,
        session: AsyncSession,
        org_id: str,
        *,
        box: SecretBox,
        policy: WebhookPolicy,
        events: EventService,
        clock: Clock,
    ) -> None:
        self.repository = WebhookEndpointRepository(session, org_id)
        self.deliveries = WebhookDeliveryRepository(session, org_id)
        self.org_id = org_id
        self.box = box
        self.policy = policy
        self.events = events
        self.clock = clock

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
        if changes.get("is_active") is True and not endpoint.is_active:
            # Switched back on by its owner: forget why it was off and its failure streak.
            endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
        if changes.get("is_active") is False and endpoint.is_active:
            await self.deliveries.cancel_pending(endpoint.id, self.clock.now())
        if changes:
            for name, value in changes.items():
                setattr(endpoint, name, value)
            await self.repository.touch(endpoint)
        return endpoint

    async def rotate_secret(self, webhook_id: str) -> tuple[WebhookEndpoint, str]:
        """A new secret (returned this once); the old one keeps signing for the overlap."""
        endpoint = await self.repository.get(webhook_id, for_update=True)
        if endpoint is None:
            raise WebhookNotFound(webhook_id)
        secret = generate_secret()
        endpoint.previous_secret_encrypted = endpoint.secret_encrypted
        endpoint.previous_secret_expires_at = self.clock.now() + self.policy.rotation_overlap
        endpoint.secret_encrypted = self.box.encrypt(secret)
        await self.repository.touch(endpoint)
        return endpoint, secret

    async def send_test(self, webhook_id: str) -> WebhookDelivery:
        """Queue a signed ``webhook.test`` for this endpoint only."""
        endpoint = await self.get(webhook_id)
        if not endpoint.is_active:
            raise WebhookInactive(webhook_id)
        payload = WebhookTest(
            webhook_id=endpoint.id, message="This is a test event sent from vozagent."
        )
        _, delivery_ids = await self.events.publish(
            "webhook.test", payload.model_dump(), only_endpoint=endpoint.id
        )
        delivery = await self.deliveries.get(delivery_ids[0])
        assert delivery is not None
        return delivery

    async def list_deliveries(
        self, webhook_id: str, *, status: str | None, limit: int, offset: int
    ) -> Sequence[WebhookDelivery]:
        await self.get(webhook_id)
        return await self.deliveries.for_endpoint(
            webhook_id, status=status, limit=limit, offset=offset
        )

    async def get_delivery(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        await self.get(webhook_id)
        delivery = await self.deliveries.get_for_endpoint(webhook_id, delivery_id)
        if delivery is None:
            raise WebhookDeliveryNotFound(delivery_id)
        return delivery

    async def retry_delivery(self, webhook_id: str, delivery_id: str) -> WebhookDelivery:
        """Send one delivery again now, whatever its state (same event id and body)."""
        endpoint = await self.get(webhook_id)
        if not endpoint.is_active:
            raise WebhookInactive(webhook_id)
        if await self.deliveries.get_for_endpoint(webhook_id, delivery_id) is None:
            raise WebhookDeliveryNotFound(delivery_id)
        await self.deliveries.requeue(webhook_id, now=self.clock.now(), delivery_id=delivery_id)
        return await self.get_delivery(webhook_id, delivery_id)

    async def replay(self, webhook_id: str, request: ReplayRequest) -> int:
        """Send again every delivery of this endpoint created in [since, until)."""
        endpoint = await self.get(webhook_id)
        if not endpoint.is_active:
            raise WebhookInactive(webhook_id)
        now = self.clock.now()
        since = _aware(request.since)
        until = _aware(request.until) if request.until is not None else now
        if until <= since:
            raise InvalidRequest(
                "'until' must be later than 'since'", details={"invalid_fields": ["until"]}
            )
        statuses = request.status or None
        count = await self.deliveries.count_in_range(webhook_id, since, until, statuses)
        if count > self.policy.max_replay:
            raise ReplayTooLarge(count, self.policy.max_replay)
        return await self.deliveries.requeue(
            webhook_id, now=now, since=since, until=until, statuses=statuses
        )

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


def _aware(moment: datetime) -> datetime:
    """Naive timestamps in a request are read as UTC, as every timestamp of the API is."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _check_events(events: list[str]) -> list[str]:
    unknown = unknown_event_types(events)
    if unknown:
        raise UnknownEventTypes(unknown)
    return list(dict.fromkeys(events))
