"""The organization's calling rules: hours (callee local time), caps, retries, caller id."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from vozagent.core.errors import Conflict, InvalidRequest, NotFound
from vozagent.domain.call_settings.schemas import (
    CallSettingsRead,
    CallSettingsUpdate,
    format_clock,
    parse_clock,
)
from vozagent.domain.phone_numbers.errors import PhoneNumberNotFound
from vozagent.storage.models import Organization
from vozagent.storage.repositories.organizations import OrganizationRepository
from vozagent.storage.repositories.phone_numbers import PhoneNumberRepository

_REQUIRED = (
    "calling_hours_start",
    "calling_hours_end",
    "max_concurrent_calls",
    "max_attempts",
    "retry_after_minutes",
)


class CallSettingsService:
    def __init__(self, session: AsyncSession, org_id: str) -> None:
        self.org_id = org_id
        self.organizations = OrganizationRepository(session)
        self.numbers = PhoneNumberRepository(session, org_id)

    async def get(self) -> CallSettingsRead:
        return read_settings(await self._organization(for_update=False))

    async def update(self, data: CallSettingsUpdate) -> CallSettingsRead:
        changes = data.provided()
        nulls = sorted(name for name in _REQUIRED if name in changes and changes[name] is None)
        if nulls:
            raise InvalidRequest("These settings cannot be null", details={"invalid_fields": nulls})
        organization = await self._organization(for_update=True)
        values = _to_columns(changes)
        _check_hours(
            values.get("calling_hours_start", organization.calling_hours_start),
            values.get("calling_hours_end", organization.calling_hours_end),
        )
        if values.get("default_outbound_number_id") is not None:
            await self._check_default_number(values["default_outbound_number_id"])
        for name, value in values.items():
            setattr(organization, name, value)
        return read_settings(organization)

    async def _organization(self, *, for_update: bool) -> Organization:
        if for_update:
            organization = await self.organizations.get_for_update(self.org_id)
        else:
            organization = await self.organizations.get(self.org_id)
        if organization is None:
            raise NotFound("organization", self.org_id)
        return organization

    async def _check_default_number(self, phone_number_id: str) -> None:
        number = await self.numbers.get(phone_number_id)
        if number is None:
            raise PhoneNumberNotFound(phone_number_id, field="default_outbound_number_id")
        if number.status != "active":
            raise Conflict(
                "The default outbound number must be active",
                code="phone_number_inactive",
                details={"phone_number_id": number.id, "status": number.status},
            )


def read_settings(organization: Organization) -> CallSettingsRead:
    return CallSettingsRead(
        calling_hours_start=format_clock(organization.calling_hours_start),
        calling_hours_end=format_clock(organization.calling_hours_end),
        max_concurrent_calls=organization.max_concurrent_calls,
        max_attempts=organization.max_attempts,
        retry_after_minutes=organization.retry_after_minutes,
        default_outbound_number_id=organization.default_outbound_number_id,
    )


def _to_columns(changes: dict[str, Any]) -> dict[str, Any]:
    values = dict(changes)
    for name in ("calling_hours_start", "calling_hours_end"):
        if name in values:
            values[name] = parse_clock(values[name])
    return values


def _check_hours(start: Any, end: Any) -> None:
    if not start < end:
        raise InvalidRequest(
            "calling_hours_start must be earlier than calling_hours_end",
            details={"invalid_fields": ["calling_hours_end", "calling_hours_start"]},
        )
