"""When to try a failed delivery again.

The schedule is Svix's: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h
(eight attempts over about 27 hours). Each wait is jittered by ±20% so that endpoints
that failed together do not all come back at the same second.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

# Delay before attempt n+1 (index n-1 = after the n-th failure); attempt 1 is immediate.
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
JITTER = 0.2
# A receiver's Retry-After is honoured up to this long (a bogus "1 year" must not park
# an event forever).
MAX_RETRY_AFTER = timedelta(hours=24)


def next_attempt_delay(
    attempts_made: int,
    *,
    retry_after: timedelta | None = None,
    rng: random.Random | None = None,
) -> timedelta | None:
    """The wait before the next attempt after ``attempts_made`` failures; ``None`` when the
    schedule is exhausted. A Retry-After longer than the scheduled wait wins."""
    if attempts_made >= MAX_ATTEMPTS:
        return None
    base = RETRY_DELAYS[attempts_made - 1]
    factor = 1 + (rng or random).uniform(-JITTER, JITTER)
    delay = base * factor
    if retry_after is not None:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return delay


def parse_retry_after(value: str | None, now: datetime) -> timedelta | None:
    """RFC 9110 Retry-After: delay-seconds or an HTTP-date; ``None`` when absent or bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return timedelta(seconds=int(value))
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when - now, timedelta(0))
