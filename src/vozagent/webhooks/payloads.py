"""Versioned payload models of the events vozagent sends (documented in docs/webhooks.md).

Every event is the envelope ``{"id", "type", "created_at", "data"}``. ``data`` is the API's
own resource object for contact and call events (the Contact object, the Call detail
object), so a receiver parses webhooks with the same code as API responses. The models
below are the payloads that have no API resource of their own.

Versioning: this is payload version 1. Fields are only ever added; a breaking change ships
as a new event type, never as a new shape under an existing type.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

PAYLOAD_VERSION = 1


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventEnvelope(_Payload):
    id: str
    type: str
    created_at: str
    data: dict[str, Any]


class LeadQualified(_Payload):
    """``lead.qualified``: the post-call analysis rated a lead."""

    call_id: str
    contact_id: str | None
    assistant_id: str | None
    lead_qualification: Literal["hot", "warm", "cold"]
    call_intent: str | None
    summary: str | None


class Appointment(_Payload):
    starts_at: str
    ends_at: str | None = None
    timezone: str | None = None
    title: str | None = None
    notes: str | None = None


class AppointmentBooked(_Payload):
    """``appointment.booked``: an assistant booked an appointment during a call."""

    call_id: str
    contact_id: str | None
    assistant_id: str | None
    appointment: Appointment


class AppointmentRescheduled(AppointmentBooked):
    """``appointment.rescheduled``: as booked, plus the start it replaced."""

    previous_starts_at: str


class WebhookTest(_Payload):
    """``webhook.test``: sent by ``POST /v1/webhooks/{id}/test`` to that endpoint only."""

    webhook_id: str
    message: str


class WebhookDisabled(_Payload):
    """``webhook.disabled``: an endpoint was switched off by the platform (sent to the
    organization's other endpoints that subscribe to it)."""

    webhook_id: str
    url: str
    reason: str
