from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import (
    PhoneText,
    RequestModel,
    ResponseModel,
    ShortText,
    integral_float_to_int,
)

Provider = Literal["sandbox", "browser", "sip", "twilio", "telnyx"]
NumberStatus = Literal["active", "inactive", "pending"]
# Simultaneous calls through one number; null: only the organization's cap applies.
MaxConcurrent = Annotated[int, Field(ge=1, le=10_000), BeforeValidator(integral_float_to_int)]


class PhoneNumberCreate(RequestModel):
    phone_number: PhoneText
    label: ShortText | None = None
    provider: Provider
    status: NumberStatus = "active"
    assistant_id: str | None = Field(default=None, max_length=64)
    outbound_assistant_id: str | None = Field(default=None, max_length=64)
    fallback_number: PhoneText | None = None
    caller_id_override: PhoneText | None = None
    sms_enabled: bool = False
    credentials_id: str | None = Field(default=None, max_length=64)
    max_concurrent_calls: MaxConcurrent | None = None


class PhoneNumberUpdate(RequestModel):
    label: ShortText | None = None
    status: NumberStatus | None = None
    assistant_id: str | None = Field(default=None, max_length=64)
    outbound_assistant_id: str | None = Field(default=None, max_length=64)
    fallback_number: PhoneText | None = None
    caller_id_override: PhoneText | None = None
    sms_enabled: bool | None = None
    credentials_id: str | None = Field(default=None, max_length=64)
    max_concurrent_calls: MaxConcurrent | None = None


class PhoneNumberRead(ResponseModel):
    id: str
    phone_number: str
    label: str | None
    provider: str
    status: str
    assistant_id: str | None
    outbound_assistant_id: str | None
    fallback_number: str | None
    caller_id_override: str | None
    sms_enabled: bool
    monthly_cost_cents: int
    credentials_id: str | None
    max_concurrent_calls: int | None
    created_at: Timestamp
    updated_at: Timestamp
