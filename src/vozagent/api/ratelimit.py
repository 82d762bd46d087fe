"""Per-key request limits from the caller's plan, on the `limits` library.

Counters live in memory by default and in Redis when ``VOZAGENT_REDIS_URL`` is set,
so several API processes share one budget. The moving-window strategy is exact: N
per window means N, at any instant. If Redis is unreachable we fail open (and log),
because refusing all traffic over a cache outage would be worse.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from vozagent.core.errors import RateLimited

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Verdict:
    headers: dict[str, str]
    allowed: bool
    retry_after: int = 0


class RateLimiter:
    def __init__(self, plan_limits: dict[str, str], anonymous: str, redis_url: str | None) -> None:
        storage: Storage
        if redis_url:
            uri = "async+" + redis_url if not redis_url.startswith("async+") else redis_url
            built = storage_from_string(uri)
            assert isinstance(built, Storage)
            storage = built
        else:
            storage = MemoryStorage()
        self._limiter = MovingWindowRateLimiter(storage)
        self._plans = {plan: parse_many(spec) for plan, spec in plan_limits.items()}
        self._anonymous = parse_many(anonymous)

    async def check_key(self, key_id: str, plan: str) -> Verdict:
        items = self._plans.get(plan) or self._plans.get("essential") or []
        return await self._check(items, "key", key_id)

    async def check_anonymous(self, client: str) -> Verdict:
        return await self._check(self._anonymous, "anon", client)

    async def _check(self, items: list[RateLimitItem], *identifiers: str) -> Verdict:
        try:
            return await self._hit_all(items, identifiers)
        except Exception:  # a cache outage must not take the API down
            logger.warning("rate limiter unavailable; allowing request", exc_info=True)
            return Verdict(headers={}, allowed=True)

    async def _hit_all(self, items: list[RateLimitItem], identifiers: tuple[str, ...]) -> Verdict:
        now = time.time()
        tightest: tuple[int, RateLimitItem, float] | None = None
        for item in items:
            allowed = await self._limiter.hit(item, *identifiers)
            stats = await self._limiter.get_window_stats(item, *identifiers)
            remaining = stats.remaining
            if tightest is None or remaining < tightest[0]:
                tightest = (remaining, item, stats.reset_time)
            if not allowed:
                retry = max(1, math.ceil(stats.reset_time - now))
                return Verdict(_headers(items, remaining, item, retry), False, retry)
        if tightest is None:
            return Verdict(headers={}, allowed=True)
        remaining, item, reset_time = tightest
        reset = max(0, math.ceil(reset_time - now))
        return Verdict(_headers(items, remaining, item, reset), True)


def _headers(
    items: list[RateLimitItem], remaining: int, item: RateLimitItem, reset: int
) -> dict[str, str]:
    policy = ", ".join(f"{i.amount};w={i.get_expiry()}" for i in items)
    return {
        "RateLimit-Limit": str(item.amount),
        "RateLimit-Remaining": str(max(0, remaining)),
        "RateLimit-Reset": str(reset),
        "RateLimit-Policy": policy,
    }


def too_many(verdict: Verdict) -> RateLimited:
    return RateLimited(
        f"Too many requests; retry in {verdict.retry_after} s",
        details={"retry_after_seconds": verdict.retry_after},
        headers={**verdict.headers, "Retry-After": str(verdict.retry_after)},
    )
