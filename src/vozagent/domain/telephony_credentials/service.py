"""Carrier accounts (Twilio, Telnyx, SIP trunks) an organization's numbers call through.

The credentials object is sealed as a whole with the server's secret box; the API
only ever shows its non-secret fields. ``reveal`` is for the dialer, never for responses.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.ids import new_id
from vozagent.core.pagination import Page
from vozagent.core.secrets_box import SecretBox
from vozagent.domain.telephony_credentials.errors import (
    ApiBaseUrlRejected,
    CredentialsInUse,
    TelephonyCredentialNotFound,
)
from vozagent.domain.telephony_credentials.providers import public_view, validate_credentials
from vozagent.domain.telephony_credentials.schemas import (
    TelephonyCredentialCreate,
    TelephonyCredentialRead,
)
from vozagent.storage.models import TelephonyCredential
from vozagent.storage.repositories.telephony_credentials import TelephonyCredentialRepository
from vozagent.webhooks.urls import url_problem

_REST_PROVIDERS = ("twilio", "telnyx")


@dataclass(frozen=True, slots=True)
class UrlPolicy:
    """The SSRF rules for ``api_base_url``: the same settings as webhook URLs."""

    allow_http: bool = False
    allow_private: bool = False


class TelephonyCredentialService:
    def __init__(
        self, session: AsyncSession, org_id: str, *, box: SecretBox, policy: UrlPolicy
    ) -> None:
        self.session = session
        self.org_id = org_id
        self.box = box
        self.policy = policy
        self.repository = TelephonyCredentialRepository(session, org_id)

    async def list(self, page: Page) -> Sequence[TelephonyCredential]:
        return await self.repository.list(self.repository.scoped(), page)

    async def get(self, credentials_id: str, *, field: str | None = None) -> TelephonyCredential:
        entry = await self.repository.get(credentials_id)
        if entry is None:
            raise TelephonyCredentialNotFound(credentials_id, field=field)
        return entry

    async def create(self, data: TelephonyCredentialCreate) -> TelephonyCredential:
        credentials = validate_credentials(data.provider, data.credentials)
        self._check_base_url(data.provider, data.api_base_url)
        entry = TelephonyCredential(
            id=new_id("telephony_credential"),
            org_id=self.org_id,
            provider=data.provider,
            label=data.label,
            credentials_encrypted=self.box.encrypt(json.dumps(credentials)),
            api_base_url=data.api_base_url,
        )
        return await self.repository.add(entry)

    async def delete(self, credentials_id: str) -> TelephonyCredential:
        entry = await self.get(credentials_id)
        users = await self.repository.numbers_using(credentials_id)
        if users:
            raise CredentialsInUse(users)
        try:
            async with self.session.begin_nested():
                await self.repository.delete(credentials_id)
        except IntegrityError:  # a number was pointed at them since the check (FK RESTRICT)
            raise CredentialsInUse(await self.repository.numbers_using(credentials_id)) from None
        return entry

    def reveal(self, entry: TelephonyCredential) -> dict[str, Any]:
        """The full credentials, secrets included: for placing calls only."""
        revealed: dict[str, Any] = json.loads(self.box.decrypt(entry.credentials_encrypted))
        return revealed

    def read(self, entry: TelephonyCredential) -> TelephonyCredentialRead:
        shown, secret_fields = public_view(entry.provider, self.reveal(entry))
        return TelephonyCredentialRead(
            id=entry.id,
            provider=entry.provider,
            label=entry.label,
            credentials=shown,
            secret_fields=secret_fields,
            api_base_url=entry.api_base_url,
            created_at=entry.created_at,
            updated_at=entry.updated_at,
        )

    def _check_base_url(self, provider: str, url: str | None) -> None:
        if url is None:
            return
        if provider not in _REST_PROVIDERS:
            raise ApiBaseUrlRejected(f"{provider} credentials have no REST API")
        problem = url_problem(
            url, allow_http=self.policy.allow_http, allow_private=self.policy.allow_private
        )
        if problem is not None:
            raise ApiBaseUrlRejected(problem)
