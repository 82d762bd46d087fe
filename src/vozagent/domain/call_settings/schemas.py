from __future__ import annotations

from datetime import time
from typing import Annotated

from pydantic import BeforeValidator, Field, StringConstraints

from vozagent.domain.schemas import RequestModel, ResponseModel, integral_float_to_int

ClockTime = Annotated[
    str,
    StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
    Field(description="24-hour local time of the callee, HH:MM", examples=["08:00"]),
]
MaxConcurrent = Annotated[int, Field(ge=1, le=10_000), BeforeValidator(integral_float_to_int)]
MaxAttempts = Annotated[int, Field(ge=1, le=10), BeforeValidator(integral_float_to_int)]
RetryMinutes = Annotated[int, Field(ge=1, le=43_200), BeforeValidator(integral_float_to_int)]


class CallSettingsUpdate(RequestModel):
    """All optional; ``default_outbound_number_id: null`` clears it. The others cannot be
    null (400): they always have a value."""

    calling_hours_start: ClockTime | None = None
    calling_hours_end: ClockTime | None = None
    max_concurrent_calls: MaxConcurrent | None = None
    max_attempts: MaxAttempts | None = None
    retry_after_minutes: RetryMinutes | None = None
    default_outbound_number_id: str | None = Field(default=None, max_length=64)


class CallSettingsRead(ResponseModel):
    calling_hours_start: str
    calling_hours_end: str
    max_concurrent_calls: int
    max_attempts: int
    retry_after_minutes: int
    default_outbound_number_id: str | None


def parse_clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def format_clock(value: time) -> str:
    return f"{value:%H:%M}"
