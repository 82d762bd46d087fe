"""Recording events and fanning them out to subscribed endpoints, in the caller's
transaction: an event commits or rolls back together with the change that caused it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

# Workers LISTEN on this channel; NOTIFY is delivered at commit, so a wake-up never
# precedes the rows it announces.
DELIVERY_CHANNEL = "vozagent_webhook_deliveries"

_RECORD_AND_FAN_OUT = text(
    f"""
    WITH event AS (
        INSERT INTO webhook_events (id, org_id, type, body, created_at)
        VALUES (:event_id, :org_id, :type, :body, :now)
        RETURNING id
    ), fanned AS (
        INSERT INTO webhook_deliveries
            (id, org_id, endpoint_id, event_id, event_type, status, attempts,
             next_attempt_at, created_at, updated_at)
        SELECT 'dlv-' || gen_random_uuid(), :org_id, w.id, event.id, :type, 'pending', 0,
               :now, :now, :now
        FROM webhook_endpoints AS w, event
        WHERE w.org_id = :org_id AND w.is_active
          AND CASE WHEN CAST(:only_endpoint AS varchar) IS NULL
                   THEN w.events && ARRAY[CAST(:type AS varchar), '*']
                   ELSE w.id = :only_endpoint END
        RETURNING id
    )
    SELECT array_agg(fanned.id) AS ids,
           CASE WHEN count(*) > 0 THEN pg_notify('{DELIVERY_CHANNEL}', '') END AS notified
    FROM fanned
    """
)


class WebhookEventRepository:
    def __init__(self, session: AsyncSession, org_id: str) -> None:
        self.session = session
        self.org_id = org_id

    async def record(
        self,
        *,
        event_id: str,
        event_type: str,
        body: str,
        now: datetime,
        only_endpoint: str | None = None,
    ) -> list[str]:
        """Store the event and a pending delivery per subscribed active endpoint (or only
        for ``only_endpoint``, whatever it subscribes to); returns the delivery ids."""
        result = await self.session.execute(
            _RECORD_AND_FAN_OUT,
            {
                "event_id": event_id,
                "org_id": self.org_id,
                "type": event_type,
                "body": body,
                "now": now,
                "only_endpoint": only_endpoint,
            },
        )
        return list(result.one().ids or [])
