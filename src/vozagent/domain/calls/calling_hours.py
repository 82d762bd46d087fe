"""When a callee may be rung: the organization's calling hours in the callee's local time.

A number can span several time zones (a Russian mobile, a US toll-free number), and we
cannot know which one the callee is in, so a moment is allowed only if it falls inside
``[start, end)`` local time in **every** zone of the number.

The allowed set is a union of intervals closed on the left, so the earliest allowed
instant at or after ``now`` is either ``now`` or a moment where some zone *enters* its
window: its local clock reaches ``start`` (each day, both readings of an ambiguous
local time), or a DST transition jumps it into the window (the local ``start`` fell in
a gap, or the clock fell back from after ``end``). Checking those finitely many
candidates in order gives an exact answer without stepping minute by minute.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from phonenumbers import timezone as phone_timezones

# Windows that never overlap across a number's zones stay empty forever; look this far.
SEARCH_DAYS = 8
# Offsets are sampled this often to find DST transitions (no zone changes twice in 3 h).
_SAMPLE_STEP = timedelta(hours=3)
_UNKNOWN_ZONE = "Etc/Unknown"


class NoCallingWindow(ValueError):
    """The window ``[start, end)`` is never open in all of the number's zones at once."""

    def __init__(self, zones: list[ZoneInfo], start: time, end: time) -> None:
        super().__init__(f"{start:%H:%M}-{end:%H:%M} never holds in all of {zones}")
        self.zones = zones


def callee_time_zones(e164: str) -> list[ZoneInfo]:
    """The zones a number may ring in, from its prefix; UTC when the prefix is unknown."""
    return list(_zones(e164))


@lru_cache(maxsize=4096)
def _zones(e164: str) -> tuple[ZoneInfo, ...]:
    try:
        names = phone_timezones.time_zones_for_number(phonenumbers.parse(e164))
    except phonenumbers.NumberParseException:
        names = ()
    zones = []
    for name in names:
        if name == _UNKNOWN_ZONE:
            continue
        try:
            zones.append(ZoneInfo(name))
        except ZoneInfoNotFoundError:  # tzdata older than phonenumbers' metadata
            continue
    return tuple(zones) or (ZoneInfo("UTC"),)


def is_allowed(moment: datetime, zones: list[ZoneInfo], start: time, end: time) -> bool:
    """Whether ``moment`` is inside ``[start, end)`` local time in every zone."""
    for zone in zones:
        local = moment.astimezone(zone).time().replace(tzinfo=None)
        if not start <= local < end:
            return False
    return True


def next_allowed_time(now: datetime, e164: str, start: time, end: time) -> datetime:
    """``now`` if the callee may be rung now, else the earliest later instant they may.

    ``now`` must be timezone-aware; the result is in UTC unless it is ``now`` itself.
    ``start == end`` means no restriction (the whole day). Raises ``ValueError`` when
    ``start > end``, and ``NoCallingWindow`` when the window is never open in all of the
    number's zones at once.
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    if start == end:
        return now  # start == end is the whole day: no calling-hours restriction
    if not start < end:
        raise ValueError("calling hours need start < end")
    zones = callee_time_zones(e164)
    if is_allowed(now, zones, start, end):
        return now
    horizon = now + timedelta(days=SEARCH_DAYS)
    for candidate in sorted(_candidates(now, horizon, zones, start)):
        if is_allowed(candidate, zones, start, end):
            return candidate
    raise NoCallingWindow(zones, start, end)


def _candidates(
    now: datetime, horizon: datetime, zones: list[ZoneInfo], start: time
) -> set[datetime]:
    found: set[datetime] = set()
    for zone in zones:
        found.update(_window_openings(now, horizon, zone, start))
        found.update(_transitions(now, horizon, zone))
    return {c for c in found if now < c <= horizon}


def _window_openings(
    now: datetime, horizon: datetime, zone: ZoneInfo, start: time
) -> set[datetime]:
    """Each day's local ``start`` as an instant (both readings when it is ambiguous)."""
    first: date = now.astimezone(zone).date() - timedelta(days=1)
    openings = set()
    for offset in range((horizon - now).days + 3):
        day = first + timedelta(days=offset)
        for fold in (0, 1):
            local = datetime.combine(day, start, tzinfo=zone).replace(fold=fold)
            instant = local.astimezone(UTC)
            # A start inside a DST gap has no instant; the transition covers it.
            if instant.astimezone(zone).replace(tzinfo=None) == local.replace(tzinfo=None):
                openings.add(instant)
    return openings


def _transitions(now: datetime, horizon: datetime, zone: ZoneInfo) -> set[datetime]:
    """The instants in ``(now, horizon]`` where the zone's UTC offset changes (to the second)."""
    found = set()
    left = now.astimezone(UTC)
    while left < horizon:
        right = min(left + _SAMPLE_STEP, horizon)
        if left.astimezone(zone).utcoffset() != right.astimezone(zone).utcoffset():
            found.add(_first_with_offset_of(left, right, zone))
        left = right
    return found


def _first_with_offset_of(left: datetime, right: datetime, zone: ZoneInfo) -> datetime:
    """Bisect (in whole seconds: tz rules change offsets on the second) to the first
    instant in ``(left, right]`` that has ``right``'s offset."""
    target = right.astimezone(zone).utcoffset()
    low, high = math.floor(left.timestamp()), math.ceil(right.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if datetime.fromtimestamp(middle, zone).utcoffset() == target:
            high = middle
        else:
            low = middle
    return datetime.fromtimestamp(high, UTC)
