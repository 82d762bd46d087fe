"""Extension: carrier accounts (Twilio, Telnyx, SIP trunks); secrets are write-only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, InventoryPageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.organizations.service import Principal
from vozagent.domain.telephony_credentials.schemas import (
    TelephonyCredentialCreate,
    TelephonyCredentialRead,
)

router = APIRouter(prefix="/telephony-credentials", tags=["telephony_credentials"])
CanRead = Annotated[Principal, Depends(require("telephony:read"))]
CanWrite = Annotated[Principal, Depends(require("telephony:write"))]

# DELETE can conflict (numbers still use the credentials); the generic builder only
# documents 409 for POST and PATCH.
_IN_USE: dict[int | str, dict[str, Any]] = {
    409: {
        "description": "Phone numbers still use these credentials (credentials_in_use)",
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
    }
}


@router.get("", response_model=list[TelephonyCredentialRead])
async def list_telephony_credentials(
    principal: CanRead, container: ContainerDep, page: InventoryPageParams
) -> list[TelephonyCredentialRead]:
    async with unit_of_work(container, principal) as services:
        service = services.telephony_credentials()
        return [service.read(e) for e in await service.list(page)]


@router.post("", response_model=TelephonyCredentialRead, status_code=201)
async def create_telephony_credentials(
    body: TelephonyCredentialCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:

        async def work() -> TelephonyCredentialRead:
            service = services.telephony_credentials()
            return service.read(await service.create(body))

        return await respond_idempotently(request, services, work)


@router.get("/{credentials_id}", response_model=TelephonyCredentialRead)
async def get_telephony_credentials(
    credentials_id: str, principal: CanRead, container: ContainerDep
) -> TelephonyCredentialRead:
    async with unit_of_work(container, principal) as services:
        service = services.telephony_credentials()
        return service.read(await service.get(credentials_id))


@router.delete("/{credentials_id}", response_model=TelephonyCredentialRead, responses=_IN_USE)
async def delete_telephony_credentials(
    credentials_id: str, principal: CanWrite, container: ContainerDep
) -> TelephonyCredentialRead:
    async with unit_of_work(container, principal) as services:
        service = services.telephony_credentials()
        return service.read(await service.delete(credentials_id))
