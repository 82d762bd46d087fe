from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import (
    Label,
    LongText,
    PhoneText,
    RequestModel,
    ResponseModel,
    ShortText,
    Tag,
    contains_nul,
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
    "voicemail",
)
CallStatus = Literal[
    "queued",
    "ringing",
    "in-progress",
    "completed",
    "failed",
    "busy",
    "no-answer",
    "canceled",
    "voicemail",
]
CallType = Literal["inbound", "outbound"]


PersonaLine = Annotated[str, StringConstraints(min_length=1, max_length=500)]
Millis = Annotated[int, Field(ge=0, le=600_000)]


class _StrictPart(BaseModel):
    # Stored as sent and replayed by the sandbox callee: no coercion, no unknown keys.
    model_config = ConfigDict(extra="forbid", strict=True)


class BargeIn(_StrictPart):
    line: int = Field(ge=0, le=49, description="Index of the callee line that interrupts")
    after_ms: Millis


class SandboxPersona(_StrictPart):
    """Extension: what the sandbox carrier's simulated callee says (sandbox numbers only)."""

    lines: list[PersonaLine] = Field(min_length=1, max_length=50)
    voice: str | None = Field(default=None, min_length=1, max_length=100)
    pauses_ms: list[Millis] | None = Field(default=None, max_length=50)
    barge_in: BargeIn | None = None
    hang_up_after_line: int | None = Field(default=None, ge=0, le=49)

    @model_validator(mode="after")
    def _refers_to_real_lines(self) -> SandboxPersona:
        count = len(self.lines)
        if self.barge_in is not None and self.barge_in.line >= count:
            raise ValueError(f"barge_in.line must be below the number of lines ({count})")
        if self.hang_up_after_line is not None and self.hang_up_after_line >= count:
            raise ValueError(f"hang_up_after_line must be below the number of lines ({count})")
        if self.pauses_ms is not None and len(self.pauses_ms) > count:
            raise ValueError(f"pauses_ms can have at most one pause per line ({count})")
        # JSONB cannot hold U+0000 (the request model's own check does not look inside).
        if contains_nul(self.model_dump()):
            raise ValueError("text must not contain NUL (U+0000) characters")
        return self


class OutboundCallCreate(RequestModel):
    phone_number: PhoneText
    assistant_id: str | None = Field(default=None, max_length=64)
    assistant_name: str | None = Field(default=None, min_length=1, max_length=200)
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    source: Label | None = None
    tags: list[Tag] | Tag | None = Field(default=None, description="One tag or a list of tags")
    notes: LongText | None = None
    sandbox_persona: SandboxPersona | None = None

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
    end_reason: str | None
    answered_by: str | None
    attempts: int
    carrier: str | None
    updated_at: Timestamp
