from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import (
    Label,
    LongText,
    PhoneText,
    RequestModel,
    ResponseModel,
    ShortText,
    Tag,
)

CALL_STATUSES = (
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "failed",
    "busy",
    "no-answer",
    "canceled",
)
CallStatus = Literal[
    "queued", "ringing", "in-progress", "completed", "failed", "busy", "no-answer", "canceled"
]
CallType = Literal["inbound", "outbound"]


class OutboundCallCreate(RequestModel):
    phone_number: PhoneText
    assistant_id: str | None = Field(default=None, max_length=64)
    assistant_name: str | None = Field(default=None, min_length=1, max_length=200)
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    source: Label | None = None
    tags: list[Tag] | Tag | None = Field(default=None, description="One tag or a list of tags")
    notes: LongText | None = None

    @field_validator("tags")
    @classmethod
    def _tags_as_list(cls, value: list[str] | str | None) -> list[str] | str | None:
        if isinstance(value, list) and len(value) > 50:
            raise ValueError("at most 50 tags")
        return value

    def tag_list(self) -> list[str]:
        if self.tags is None:
            return []
        return [self.tags] if isinstance(self.tags, str) else list(self.tags)


class OutboundCallCreated(ResponseModel):
    call_id: str
    status: str
    direction: str
    to_phone: str
    assistant_name: str
    contact_id: str
    is_new_contact: bool
    created_at: Timestamp


class CallSummary(ResponseModel):
    id: str
    contact_id: str | None
    assistant_id: str | None
    call_type: str
    call_status: str
    duration_seconds: int | None
    call_started_at: Timestamp | None
    call_ended_at: Timestamp | None
    appointment_booked: bool
    lead_qualification: str | None
    call_intent: str | None
    created_at: Timestamp


class CallRead(CallSummary):
    customer_phone_number: str
    assistant_phone_number: str | None
    transcript: str | None
    analysis_summary: str | None
    recording_url: str | None
    cost: float | None
    phone_number_id: str | None
    notes: str | None
    source: str | None
    failure_reason: str | None
    updated_at: Timestamp
