"""Extension: the caller's organization's calling rules (hours, caps, retries, caller id)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from vozagent.api.deps import ContainerDep, require, unit_of_work
from vozagent.domain.call_settings.schemas import CallSettingsRead, CallSettingsUpdate
from vozagent.domain.organizations.service import Principal

router = APIRouter(prefix="/call-settings", tags=["call_settings"])
# PATCH can name a phone number that is not in the organization; the generic builder only
# documents 404 for paths with an id.
_NUMBER_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {
        "description": "default_outbound_number_id is not a number of your organization",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}
CanRead = Annotated[Principal, Depends(require("settings:read"))]
CanWrite = Annotated[Principal, Depends(require("settings:write"))]


@router.get("", response_model=CallSettingsRead)
async def get_call_settings(principal: CanRead, container: ContainerDep) -> CallSettingsRead:
    async with unit_of_work(container, principal) as services:
        return await services.call_settings().get()


@router.patch("", response_model=CallSettingsRead, responses=_NUMBER_NOT_FOUND)
async def update_call_settings(
    body: CallSettingsUpdate, principal: CanWrite, container: ContainerDep
) -> CallSettingsRead:
    async with unit_of_work(container, principal) as services:
        return await services.call_settings().update(body)
