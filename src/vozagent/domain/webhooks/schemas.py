from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AliasChoices, Field, StringConstraints

from vozagent.core.timestamps import Timestamp
from vozagent.domain.schemas import Name, RequestModel, ResponseModel

EventType = Annotated[str, StringConstraints(min_length=1, max_length=64)]
DeliveryStatus = Literal["pending", "succeeded", "failed", "canceled"]


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
    disabled_reason: str | None = Field(
        default=None, description="Why the platform switched the endpoint off, if it did"
    )
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


class WebhookSecretRotated(ResponseModel):
    """``POST /v1/webhooks/{id}/rotate-secret``: the new secret, shown this once."""

    id: str
    secret: str
    previous_secret_expires_at: Timestamp


class DeliveryAttempt(ResponseModel):
    at: str
    status_code: int | None
    latency_ms: int | None
    error: str | None


class WebhookDeliveryRead(ResponseModel):
    id: str
    webhook_id: str = Field(validation_alias="endpoint_id")
    event_id: str
    event_type: str
    status: str = Field(description="pending, succeeded, failed or canceled")
    attempts: int
    next_attempt_at: Timestamp | None
    last_attempt_at: Timestamp | None
    response_status_code: int | None = Field(validation_alias="last_status_code")
    response_latency_ms: int | None = Field(validation_alias="last_latency_ms")
    response_body: str | None = Field(
        validation_alias="last_response_body", description="The first 1 KiB the receiver sent"
    )
    error: str | None = Field(validation_alias="last_error")
    delivered_at: Timestamp | None
    attempt_log: list[DeliveryAttempt]
    created_at: Timestamp
    updated_at: Timestamp


class ReplayRequest(RequestModel):
    since: datetime = Field(strict=False, description="ISO 8601; deliveries created at or after")
    until: datetime | None = Field(default=None, strict=False, description="Exclusive; default now")
    status: list[DeliveryStatus] | None = Field(
        default=None, description="Only deliveries in these states (default: all)"
    )


class ReplayResult(ResponseModel):
    webhook_id: str
    requeued: int
