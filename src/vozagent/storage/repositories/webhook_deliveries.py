"""The delivery log as an organization sees it (the worker's queue is delivery_queue)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update

from vozagent.storage.models import WebhookDelivery
from vozagent.storage.repositories.base import OrgScopedRepository, storable


class WebhookDeliveryRepository(OrgScopedRepository[WebhookDelivery]):
    model = WebhookDelivery

    async def for_endpoint(
        self, endpoint_id: str, *, status: str | None, limit: int, offset: int
    ) -> Sequence[WebhookDelivery]:
        statement = self.scoped().where(WebhookDelivery.endpoint_id == endpoint_id)
        if status is not None:
            statement = statement.where(WebhookDelivery.status == status)
        statement = statement.order_by(WebhookDelivery.created_at.desc(), WebhookDelivery.id.desc())
        result = await self.session.execute(statement.limit(limit).offset(offset))
        return result.scalars().all()

    async def get_for_endpoint(
        self, endpoint_id: str, delivery_id: str, *, for_update: bool = False
    ) -> WebhookDelivery | None:
        if not storable(delivery_id):
            return None
        statement = self.scoped().where(
            WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id == delivery_id
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.execute(statement)).scalar_one_or_none()

    async def requeue(
        self,
        endpoint_id: str,
        *,
        now: datetime,
        delivery_id: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        statuses: Sequence[str] | None = None,
    ) -> int:
        """Make deliveries due now (a manual retry or a replay); returns how many."""
        chosen = select(WebhookDelivery.id).where(
            *self._selection(endpoint_id, delivery_id, since, until, statuses)
        )
        statement = (
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(chosen.scalar_subquery()))
            .values(status="pending", next_attempt_at=now, claimed_by=None, updated_at=now)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0))

    async def count_in_range(
        self, endpoint_id: str, since: datetime, until: datetime, statuses: Sequence[str] | None
    ) -> int:
        """How many deliveries ``requeue`` would take for the same range."""
        statement = select(func.count()).where(
            *self._selection(endpoint_id, None, since, until, statuses)
        )
        return int((await self.session.execute(statement)).scalar_one())

    def _selection(
        self,
        endpoint_id: str,
        delivery_id: str | None,
        since: datetime | None,
        until: datetime | None,
        statuses: Sequence[str] | None,
    ) -> list[ColumnElement[bool]]:
        conditions = [
            WebhookDelivery.org_id == self.org_id,
            WebhookDelivery.endpoint_id == endpoint_id,
        ]
        if delivery_id is not None:
            conditions.append(WebhookDelivery.id == delivery_id)
        if since is not None:
            conditions.append(WebhookDelivery.created_at >= since)
        if until is not None:
            conditions.append(WebhookDelivery.created_at < until)
        if statuses:
            conditions.append(WebhookDelivery.status.in_(statuses))
        return conditions

    async def cancel_pending(self, endpoint_id: str, now: datetime) -> int:
        """A paused endpoint keeps nothing pending (see docs/webhooks.md)."""
        statement = (
            update(WebhookDelivery)
            .where(
                WebhookDelivery.org_id == self.org_id,
                WebhookDelivery.endpoint_id == endpoint_id,
                WebhookDelivery.status == "pending",
            )
            .values(status="canceled", next_attempt_at=None, claimed_by=None, updated_at=now)
        )
        result = await self.session.execute(statement)
        return int(getattr(result, "rowcount", 0))
