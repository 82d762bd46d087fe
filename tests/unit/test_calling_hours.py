"""Calling hours in the callee's local time, across every zone of the number."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vozagent.domain.calls.calling_hours import (
    NoCallingWindow,
    callee_time_zones,
    is_allowed,
    next_allowed_time,
)

NEW_YORK = "+12125551234"
LONDON = "+442071234567"
SYDNEY = "+61212345678"
RUSSIA_MOBILE = "+79161234567"  # 16 zones, UTC+2 .. UTC+12
SPAIN_MOBILE = "+34612345678"  # Madrid and the Canaries
UNKNOWN = "+15551234567"  # 555 has no area: UTC
NUMBERS = [NEW_YORK, LONDON, SYDNEY, RUSSIA_MOBILE, SPAIN_MOBILE, UNKNOWN, "+5511987654321"]
NINE, FIVE = time(9), time(17)


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_time_zones_from_the_prefix() -> None:
    assert callee_time_zones(NEW_YORK) == [ZoneInfo("America/New_York")]
    assert callee_time_zones(UNKNOWN) == [ZoneInfo("UTC")]
    assert callee_time_zones("not a number") == [ZoneInfo("UTC")]
    assert len(callee_time_zones(RUSSIA_MOBILE)) > 10


def test_now_inside_the_window_is_returned_unchanged() -> None:
    now = utc(2026, 6, 1, 15, 7, 30)  # 11:07:30 in New York (EDT)
    assert next_allowed_time(now, NEW_YORK, NINE, FIVE) is now


def test_before_and_after_the_window() -> None:
    early = utc(2026, 6, 1, 11, 0)  # 07:00 EDT
    assert next_allowed_time(early, NEW_YORK, NINE, FIVE) == utc(2026, 6, 1, 13, 0)
    late = utc(2026, 6, 1, 21, 0)  # 17:00 EDT: the end is excluded
    assert next_allowed_time(late, NEW_YORK, NINE, FIVE) == utc(2026, 6, 2, 13, 0)


def test_every_zone_must_be_inside() -> None:
    # 07:30 UTC: 08:30 in Madrid (too early for 09:00), 07:30 in the Canaries.
    result = next_allowed_time(utc(2026, 1, 10, 7, 30), SPAIN_MOBILE, NINE, FIVE)
    assert result == utc(2026, 1, 10, 9, 0)  # 09:00 in the Canaries, 10:00 in Madrid


def test_window_start_inside_a_dst_gap_opens_at_the_transition() -> None:
    # New York springs forward 2026-03-08 02:00 EST -> 03:00 EDT (07:00 UTC); 02:30 never exists.
    result = next_allowed_time(utc(2026, 3, 8, 5, 0), NEW_YORK, time(2, 30), time(4, 0))
    assert result == utc(2026, 3, 8, 7, 0)
    assert result.astimezone(ZoneInfo("America/New_York")).time() == time(3, 0)


def test_ambiguous_window_start_uses_its_first_occurrence() -> None:
    # New York falls back 2026-11-01 02:00 EDT -> 01:00 EST; 01:30 happens twice.
    result = next_allowed_time(utc(2026, 11, 1, 4, 0), NEW_YORK, time(1, 30), time(1, 45))
    assert result == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, the first one


def test_falling_back_into_the_window_counts() -> None:
    # At 06:00 UTC New York goes from 01:59:59 EDT back to 01:00 EST: inside [01:00, 01:30).
    now = utc(2026, 11, 1, 5, 45)  # 01:45 EDT: after the window's end
    assert next_allowed_time(now, NEW_YORK, time(1, 0), time(1, 30)) == utc(2026, 11, 1, 6, 0)


def test_no_common_window_raises() -> None:
    # 10 hours separate the zones of a Russian mobile: a 4-hour window never holds in all.
    with pytest.raises(NoCallingWindow) as raised:
        next_allowed_time(utc(2026, 5, 5, 12, 0), RUSSIA_MOBILE, NINE, time(13))
    assert ZoneInfo("Asia/Kamchatka") in raised.value.zones


def test_start_after_end_is_refused() -> None:
    with pytest.raises(ValueError, match="start < end"):
        next_allowed_time(utc(2026, 1, 1), NEW_YORK, FIVE, NINE)


def test_equal_start_and_end_means_no_restriction() -> None:
    midnight_in_new_york = utc(2026, 1, 1, 5, 0)
    assert next_allowed_time(midnight_in_new_york, NEW_YORK, NINE, NINE) is midnight_in_new_york


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_allowed_time(datetime(2026, 1, 1), NEW_YORK, NINE, FIVE)  # noqa: DTZ001


moments = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31), timezones=st.just(UTC)
)
clock_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


@st.composite
def windows(draw: st.DrawFn) -> tuple[time, time]:
    start = draw(clock_times)
    end = draw(clock_times.filter(lambda t: t > start))
    return start, end


@settings(max_examples=150, deadline=None)
@given(now=moments, number=st.sampled_from(NUMBERS), window=windows())
def test_properties(now: datetime, number: str, window: tuple[time, time]) -> None:
    start, end = window
    zones = callee_time_zones(number)
    try:
        result = next_allowed_time(now, number, start, end)
    except NoCallingWindow:
        # Then no minute of the coming week is allowed (sampled every 7 minutes).
        assert not any(
            is_allowed(now + timedelta(minutes=m), zones, start, end)
            for m in range(0, 7 * 24 * 60, 7)
        )
        return
    assert result >= now
    assert is_allowed(result, zones, start, end)
    assert next_allowed_time(result, number, start, end) == result  # idempotent
    # No earlier allowed instant in between, at minute granularity (sampled).
    span = result - now
    steps = min(int(span / timedelta(minutes=1)), 400)
    probes = [now + span * i / max(steps, 1) for i in range(steps)]
    probes += [result - timedelta(minutes=1), result - timedelta(seconds=1)]
    for probe in probes:
        if now <= probe < result:
            assert not is_allowed(probe, zones, start, end), probe
