from __future__ import annotations

from typing import Literal

from pydantic import Field

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import PhoneText, RequestModel, ResponseModel, ShortText

Provider = Literal["sandbox", "browser", "sip", "twilio", "telnyx"]
NumberStatus = Literal["active", "inactive", "pending"]


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


class PhoneNumberUpdate(RequestModel):
    label: ShortText | None = None
    status: NumberStatus | None = None
    assistant_id: str | None = Field(default=None, max_length=64)
    outbound_assistant_id: str | None = Field(default=None, max_length=64)
    fallback_number: PhoneText | None = None
    caller_id_override: PhoneText | None = None
    sms_enabled: bool | None = None
    credentials_id: str | None = Field(default=None, max_length=64)


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
    created_at: Timestamp
    updated_at: Timestamp
