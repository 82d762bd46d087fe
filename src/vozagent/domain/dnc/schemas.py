from __future__ import annotations

from pydantic import Field

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import PhoneText, RequestModel, ResponseModel, ShortText


class DncEntryCreate(RequestModel):
    phone_number: PhoneText
    reason: ShortText | None = Field(default=None, description="Why (free text, ≤ 200)")


class DncEntryRead(ResponseModel):
    id: str
    phone_number: str
    reason: str | None
    created_at: Timestamp
