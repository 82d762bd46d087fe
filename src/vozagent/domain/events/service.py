"""Publishing webhook events from domain services.

Services call ``publish`` inside the request's transaction; the event row and its
deliveries are part of that transaction, so nothing is announced that did not happen and
nothing that happened goes unannounced.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.clock import Clock
from vozagent.core.ids import new_id
from vozagent.core.timestamps import format_utc
from vozagent.storage.repositories.webhook_events import WebhookEventRepository
from vozagent.webhooks.catalog import EVENT_TYPES


class EventService:
    def __init__(self, session: AsyncSession, org_id: str, *, clock: Clock) -> None:
        self.repository = WebhookEventRepository(session, org_id)
        self.clock = clock

    async def publish(
        self, event_type: str, data: Mapping[str, Any], *, only_endpoint: str | None = None
    ) -> tuple[str, list[str]]:
        """Record an event; returns its id and the ids of the deliveries it queued."""
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {event_type!r}")  # a programming error
        now = self.clock.now()
        event_id = new_id("event")
        envelope = {"id": event_id, "type": event_type, "created_at": format_utc(now), "data": data}
        body = json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))
        deliveries = await self.repository.record(
            event_id=event_id,
            event_type=event_type,
            body=body,
            now=now,
            only_endpoint=only_endpoint,
        )
        return event_id, deliveries
