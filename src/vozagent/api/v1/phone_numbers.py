from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, InventoryPageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.organizations.service import Principal
from vozagent.domain.phone_numbers.schemas import (
    PhoneNumberCreate,
    PhoneNumberRead,
    PhoneNumberUpdate,
)

router = APIRouter(prefix="/phone-numbers", tags=["phone_numbers"])
CanRead = Annotated[Principal, Depends(require("phone_numbers:read"))]
CanWrite = Annotated[Principal, Depends(require("phone_numbers:write"))]


@router.get("", response_model=list[PhoneNumberRead])
async def list_phone_numbers(
    principal: CanRead,
    container: ContainerDep,
    page: InventoryPageParams,
    status: Annotated[Literal["active", "inactive", "pending"] | None, Query()] = None,
    provider: Annotated[
        str | None, Query(max_length=32, description="sandbox, browser, sip, twilio, telnyx…")
    ] = None,
) -> list[PhoneNumberRead]:
    async with unit_of_work(container, principal) as services:
        numbers = await services.phone_numbers().list(page, status=status, provider=provider)
        return [PhoneNumberRead.model_validate(n) for n in numbers]


@router.post("", response_model=PhoneNumberRead, status_code=201)
async def create_phone_number(
    body: PhoneNumberCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:

        async def work() -> PhoneNumberRead:
            return PhoneNumberRead.model_validate(await services.phone_numbers().create(body))

        return await respond_idempotently(request, services, work)


@router.get("/{phone_number_id}", response_model=PhoneNumberRead)
async def get_phone_number(
    phone_number_id: str, principal: CanRead, container: ContainerDep
) -> PhoneNumberRead:
    async with unit_of_work(container, principal) as services:
        return PhoneNumberRead.model_validate(await services.phone_numbers().get(phone_number_id))


@router.patch("/{phone_number_id}", response_model=PhoneNumberRead)
async def update_phone_number(
    phone_number_id: str, body: PhoneNumberUpdate, principal: CanWrite, container: ContainerDep
) -> PhoneNumberRead:
    async with unit_of_work(container, principal) as services:
        number = await services.phone_numbers().update(phone_number_id, body)
        return PhoneNumberRead.model_validate(number)


@router.delete("/{phone_number_id}", response_model=PhoneNumberRead)
async def delete_phone_number(
    phone_number_id: str, principal: CanWrite, container: ContainerDep
) -> PhoneNumberRead:
    async with unit_of_work(container, principal) as services:
        number = await services.phone_numbers().delete(phone_number_id)
        return PhoneNumberRead.model_validate(number)
