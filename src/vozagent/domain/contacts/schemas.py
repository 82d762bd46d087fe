from __future__ import annotations

from pydantic import EmailStr, Field

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


class ContactCreate(RequestModel):
    phone_number: PhoneText = Field(description="E.164, or a national number of the default region")
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: EmailStr | None = None
    company: ShortText | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    notes: LongText | None = None
    source: Label | None = None
    address: LongText | None = None


class ContactUpdate(RequestModel):
    """Every field optional; ``null`` clears a field (``phone_number`` cannot be cleared)."""

    phone_number: PhoneText | None = None
    first_name: ShortText | None = None
    last_name: ShortText | None = None
    email: EmailStr | None = None
    company: ShortText | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    notes: LongText | None = None
    source: Label | None = None
    address: LongText | None = None


class ContactRead(ResponseModel):
    id: str
    first_name: str | None
    last_name: str | None
    email: str | None
    phone_number: str
    company: str | None
    tags: list[str]
    notes: str | None
    source: str | None
    address: str | None
    created_at: Timestamp
    updated_at: Timestamp
