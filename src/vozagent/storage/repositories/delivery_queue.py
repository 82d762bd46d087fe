"""The worker's side of webhook delivery: claiming due deliveries and recording outcomes.

This is platform work across every organization (a worker serves all tenants), so it is
deliberately not an OrgScopedRepository; nothing here is reachable from the API.

Claiming pushes ``next_attempt_at`` to the end of a lease: a worker that dies mid-send
leaves its rows to become due again when the lease runs out (at-least-once), and the
duplicates that can cause are bounded by what that worker had in flight.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.types import Integer, String

from vozagent.core.timestamps import format_utc


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    id: str
    org_id: str
    endpoint_id: str
    event_id: str
    event_type: str
    attempts: int
    body: str
    url: str
    endpoint_active: bool
    secret_encrypted: str
    previous_secret_encrypted: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one attempt produced and what happens next (decided by the worker)."""

    delivery_id: str
    endpoint_id: str
    succeeded: bool
    # pending (retry at next_attempt_at) | succeeded | failed | canceled
    status: str
    attempted_at: datetime
    next_attempt_at: datetime | None
    status_code: int | None
    latency_ms: int | None
    response_body: str | None
    error: str | None

    def log_entry(self) -> dict[str, Any]:
        return {
            "at": format_utc(self.attempted_at),
            "status_code": self.status_code,
            "latency_ms": self.latency_ms,
            "error": self.error,
        }


# For every endpoint with due rows, its oldest due rows up to its room (``per_endpoint``
# minus what this worker already has in flight there), so one slow endpoint cannot fill a
# worker. Each endpoint costs one probe of ix_webhook_deliveries_due_per_endpoint; the
# cost follows the rows claimed, not the size of the backlog.
_CLAIM = text(
    """
    WITH candidates AS (
        SELECT w.id, coalesce(busy.room, :per_endpoint) AS room
        FROM webhook_endpoints AS w
        LEFT JOIN unnest(CAST(:busy_endpoints AS varchar[]), CAST(:busy_room AS int[]))
             AS busy(endpoint_id, room) ON busy.endpoint_id = w.id
        WHERE NOT (w.id = ANY(:full_endpoints))
    ), picked AS (
        SELECT due.id
        FROM candidates AS c
        CROSS JOIN LATERAL (
            SELECT d.id, d.next_attempt_at
            FROM webhook_deliveries AS d
            WHERE d.endpoint_id = c.id AND d.status = 'pending' AND d.next_attempt_at <= :now
            ORDER BY d.next_attempt_at
            LIMIT c.room
            FOR UPDATE SKIP LOCKED
        ) AS due
        ORDER BY due.next_attempt_at
        LIMIT :limit
    )
    UPDATE webhook_deliveries AS d
    SET next_attempt_at = :lease_until, claimed_by = :worker
    FROM webhook_events AS e, webhook_endpoints AS w
    WHERE d.id = ANY(ARRAY(SELECT id FROM picked))  -- primary-key probes, never a scan
      AND e.id = d.event_id AND w.id = d.endpoint_id
    RETURNING d.id, d.org_id, d.endpoint_id, d.event_id, d.event_type, d.attempts, e.body,
              w.url, w.is_active AS endpoint_active, w.secret_encrypted,
              w.previous_secret_encrypted, w.previous_secret_expires_at
    """
).bindparams(
    bindparam("full_endpoints", type_=ARRAY(String)),
    bindparam("busy_endpoints", type_=ARRAY(String)),
    bindparam("busy_room", type_=ARRAY(Integer)),
)

# A success is recorded whatever happened meanwhile (it did reach the receiver); any other
# outcome only moves a row that is still pending, so a pause or cancel is not undone.
_RECORD = text(
    """
    UPDATE webhook_deliveries
    SET status = :status, attempts = attempts + 1, next_attempt_at = :next_attempt_at,
        claimed_by = NULL, last_attempt_at = :attempted_at, last_status_code = :status_code,
        last_latency_ms = :latency_ms, last_response_body = :response_body,
        last_error = :error, updated_at = :attempted_at,
        delivered_at = CASE WHEN :succeeded THEN :attempted_at ELSE delivered_at END,
        attempt_log = attempt_log || jsonb_build_array(CAST(:entry AS jsonb))
    WHERE id = :delivery_id AND (:succeeded OR status = 'pending')
    """
).bindparams(bindparam("entry", type_=JSONB))


class DeliveryQueue:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(
        self,
        *,
        worker: str,
        now: datetime,
        lease_until: datetime,
        limit: int,
        per_endpoint: int,
        busy: dict[str, int],
    ) -> list[ClaimedDelivery]:
        """``busy`` maps endpoint ids to how many more this worker may take for them."""
        # A generic plan cached while the tables were small scans them once they are not;
        # the claim is cheap to plan and must use the indexes at every backlog size.
        await self.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
        full = [endpoint for endpoint, room in busy.items() if room <= 0]
        partly = {endpoint: room for endpoint, room in busy.items() if room > 0}
        result = await self.session.execute(
            _CLAIM,
            {
                "now": now,
                "lease_until": lease_until,
                "worker": worker,
                "limit": limit,
                "per_endpoint": per_endpoint,
                "full_endpoints": full,
                "busy_endpoints": list(partly),
                "busy_room": list(partly.values()),
            },
        )
        return [ClaimedDelivery(**row._mapping) for row in result]

    async def record(self, outcomes: Sequence[AttemptOutcome]) -> None:
        if not outcomes:
            return
        await self.session.execute(
            _RECORD,
            [
                {
                    "delivery_id": o.delivery_id,
                    "status": o.status,
                    "succeeded": o.succeeded,
                    "next_attempt_at": o.next_attempt_at,
                    "attempted_at": o.attempted_at,
                    "status_code": o.status_code,
                    "latency_ms": o.latency_ms,
                    "response_body": o.response_body,
                    "error": o.error,
                    "entry": o.log_entry(),
                }
                for o in outcomes
            ],
        )

    async def mark_endpoints_healthy(self, endpoint_ids: Sequence[str]) -> None:
        if endpoint_ids:
            await self.session.execute(
                text(
                    "UPDATE webhook_endpoints SET failing_since = NULL "
                    "WHERE id = ANY(:ids) AND failing_since IS NOT NULL"
                ).bindparams(bindparam("ids", type_=ARRAY(String))),
                {"ids": list(endpoint_ids)},
            )

    async def mark_endpoints_failing(
        self, endpoint_ids: Sequence[str], now: datetime, give_up_before: datetime
    ) -> list[str]:
        """Start (or continue) their failure streak; returns those failing since before
        ``give_up_before``, which the caller disables."""
        if not endpoint_ids:
            return []
        ids = bindparam("ids", type_=ARRAY(String))
        await self.session.execute(
            text(
                "UPDATE webhook_endpoints SET failing_since = :now "
                "WHERE id = ANY(:ids) AND failing_since IS NULL"
            ).bindparams(ids),
            {"ids": list(endpoint_ids), "now": now},
        )
        result = await self.session.execute(
            text(
                "SELECT id FROM webhook_endpoints "
                "WHERE id = ANY(:ids) AND is_active AND failing_since <= :before"
            ).bindparams(ids),
            {"ids": list(endpoint_ids), "before": give_up_before},
        )
        return list(result.scalars())

    async def disable_endpoint(
        self, endpoint_id: str, now: datetime, reason: str
    ) -> tuple[str, str] | None:
        """Switch an endpoint off and cancel what it had pending; returns its organization
        and URL, or None when it was already off."""
        row = (
            await self.session.execute(
                text(
                    "UPDATE webhook_endpoints SET is_active = false, disabled_at = :now, "
                    "disabled_reason = :reason, updated_at = :now "
                    "WHERE id = :id AND is_active RETURNING org_id, url"
                ),
                {"id": endpoint_id, "now": now, "reason": reason},
            )
        ).one_or_none()
        if row is None:
            return None
        await self.session.execute(
            text(
                "UPDATE webhook_deliveries SET status = 'canceled', next_attempt_at = NULL, "
                "claimed_by = NULL, updated_at = :now "
                "WHERE endpoint_id = :id AND status = 'pending'"
            ),
            {"id": endpoint_id, "now": now},
        )
        return row.org_id, row.url
