"""``Idempotency-Key`` semantics (Stripe's, and the IETF draft's status codes).

The record is inserted *before* the work runs, in the same transaction as the work:
a concurrent duplicate blocks on the key until the first request commits, then
replays its response; if the first rolls back (any error), nothing was stored and
the retry runs afresh. Keys live ``ttl`` (24 h by default), then count as new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.errors import InvalidRequest, VozError
from vozagent.storage.repositories.idempotency import IdempotencyRepository

MAX_KEY_LENGTH = 255


class IdempotencyKeyReused(VozError):
    status_code = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "This Idempotency-Key was already used with a different request body",
            details={"header": "Idempotency-Key"},
        )


@dataclass(frozen=True, slots=True)
class StoredResponse:
    status: int
    body: Any


def fingerprint(method: str, path: str, body: Any) -> str:
    canonical = json.dumps([method, path, body], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str) -> str:
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise InvalidRequest(
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters",
            details={"invalid_fields": ["Idempotency-Key"]},
        )
    return key


class IdempotencyService:
    def __init__(self, session: AsyncSession, org_id: str, *, ttl: timedelta) -> None:
        self.repository = IdempotencyRepository(session, org_id)
        self.ttl = ttl

    async def begin(self, key: str, print_: str, now: datetime) -> StoredResponse | None:
        """Claim ``key`` for this request, or return the response to replay."""
        if await self.repository.claim(key, print_):
            return None
        existing = await self.repository.get(key)
        if existing is None or existing.created_at < now - self.ttl:
            await self.repository.forget(key)
            await self.repository.claim(key, print_)
            return None
        if existing.fingerprint != print_:
            raise IdempotencyKeyReused()
        return StoredResponse(existing.response_status, existing.response_body)

    async def finish(self, key: str, status: int, body: Any) -> None:
        await self.repository.complete(key, status, body)
