from __future__ import annotations

from typing import Annotated

from pydantic import AliasChoices, Field, StringConstraints

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import Name, RequestModel, ResponseModel

EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]


class WebhookCreate(RequestModel):
    name: Name
    url: str = Field(max_length=2000)
    events: list[EventType] = Field(min_length=1, max_length=50)


class WebhookUpdate(RequestModel):
    name: Name | None = None
    url: str | None = Field(default=None, max_length=2000)
    events: list[EventType] | None = Field(default=None, min_length=1, max_length=50)
    # The spec's PATCH body says ``isActive``; ``is_active`` is accepted too.
    is_active: bool | None = Field(
        default=None, validation_alias=AliasChoices("isActive", "is_active")
    )


class WebhookRead(ResponseModel):
    id: str
    name: str
    url: str
    events: list[str]
    is_active: bool
    secret: str
    created_at: Timestamp
    updated_at: Timestamp


class WebhookUpdated(ResponseModel):
    """The PATCH response: the spec's shape, without the secret."""

    id: str
    name: str
    url: str
    events: list[str]
    is_active: bool
    created_at: Timestamp
    updated_at: Timestamp
