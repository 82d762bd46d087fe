"""Builds the domain services for one request's transaction and organization."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.api.container import Container
from vozagent.domain.assistants.service import AssistantService
from vozagent.domain.call_settings.service import CallSettingsService
from vozagent.domain.calls.service import CallService
from vozagent.domain.contacts.service import ContactService
from vozagent.domain.dnc.service import DncService
from vozagent.domain.events.service import EventService
from vozagent.domain.idempotency.service import IdempotencyService
from vozagent.domain.organizations.service import OrganizationService
from vozagent.domain.phone_numbers.service import PhoneNumberService
from vozagent.domain.telephony_credentials.service import TelephonyCredentialService, UrlPolicy
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
            clock=self.container.clock,
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

    def dnc(self) -> DncService:
        return DncService(self.session, self.org_id, default_region=self._region)

    def telephony_credentials(self) -> TelephonyCredentialService:
        # api_base_url is an outbound HTTP target like a webhook URL: the same SSRF settings.
        settings = self.container.settings
        policy = UrlPolicy(
            allow_http=settings.webhooks_allow_http, allow_private=settings.webhooks_allow_private
        )
        return TelephonyCredentialService(
            self.session, self.org_id, box=self.container.secret_box, policy=policy
        )

    def call_settings(self) -> CallSettingsService:
        return CallSettingsService(self.session, self.org_id)

    def organizations(self) -> OrganizationService:
        return OrganizationService(self.session)

    def idempotency(self) -> IdempotencyService:
        return IdempotencyService(self.session, self.org_id, ttl=self.container.idempotency_ttl)
