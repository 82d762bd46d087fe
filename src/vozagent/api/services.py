"""Builds the domain services for one request's transaction and organization."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.api.container import Container
from vozagent.domain.assistants.service import AssistantService
from vozagent.domain.calls.service import CallService
from vozagent.domain.contacts.service import ContactService
from vozagent.domain.events.service import EventService
from vozagent.domain.idempotency.service import IdempotencyService
from vozagent.domain.organizations.service import OrganizationService
from vozagent.domain.phone_numbers.service import PhoneNumberService
from vozagent.domain.webhooks.service import WebhookService


class Services:
    def __init__(self, container: Container, session: AsyncSession, org_id: str) -> None:
        self.container = container
        self.session = session
        self.org_id = org_id
        self._region = container.settings.default_region

    def events(self) -> EventService:
        return EventService(self.session, self.org_id, clock=self.container.clock)

    def contacts(self) -> ContactService:
        return ContactService(
            self.session, self.org_id, default_region=self._region, events=self.events()
        )

    def phone_numbers(self) -> PhoneNumberService:
        return PhoneNumberService(self.session, self.org_id, default_region=self._region)

    def assistants(self) -> AssistantService:
        return AssistantService(self.session, self.org_id, numbers=self.phone_numbers())

    def calls(self) -> CallService:
        return CallService(
            self.session,
            self.org_id,
            contacts=self.contacts(),
            assistants=self.assistants(),
            default_region=self._region,
            events=self.events(),
        )

    def webhooks(self) -> WebhookService:
        return WebhookService(
            self.session,
            self.org_id,
            box=self.container.secret_box,
            policy=self.container.webhook_policy,
            events=self.events(),
            clock=self.container.clock,
        )

    def organizations(self) -> OrganizationService:
        return OrganizationService(self.session)

    def idempotency(self) -> IdempotencyService:
        return IdempotencyService(self.session, self.org_id, ttl=self.container.idempotency_ttl)
