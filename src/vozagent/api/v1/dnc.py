"""Extension: the organization's do-not-call list (outbound calls to these numbers are refused)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, PageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.dnc.schemas import DncEntryCreate, DncEntryRead
from vozagent.domain.organizations.service import Principal

router = APIRouter(prefix="/dnc", tags=["dnc"])
CanRead = Annotated[Principal, Depends(require("dnc:read"))]
CanWrite = Annotated[Principal, Depends(require("dnc:write"))]


@router.get("", response_model=list[DncEntryRead])
async def list_dnc_entries(
    principal: CanRead,
    container: ContainerDep,
    page: PageParams,
    phone_number: Annotated[
        str | None, Query(max_length=40, description="Any format; matched on E.164")
    ] = None,
) -> list[DncEntryRead]:
    async with unit_of_work(container, principal) as services:
        entries = await services.dnc().list(page, phone_number=phone_number)
        return [DncEntryRead.model_validate(e) for e in entries]


@router.post("", response_model=DncEntryRead, status_code=201)
async def create_dnc_entry(
    body: DncEntryCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:

        async def work() -> DncEntryRead:
            return DncEntryRead.model_validate(await services.dnc().create(body))

        return await respond_idempotently(request, services, work)


@router.get("/{dnc_id}", response_model=DncEntryRead)
async def get_dnc_entry(dnc_id: str, principal: CanRead, container: ContainerDep) -> DncEntryRead:
    async with unit_of_work(container, principal) as services:
        return DncEntryRead.model_validate(await services.dnc().get(dnc_id))


@router.delete("/{dnc_id}", response_model=DncEntryRead)
async def delete_dnc_entry(
    dnc_id: str, principal: CanWrite, container: ContainerDep
) -> DncEntryRead:
    async with unit_of_work(container, principal) as services:
        return DncEntryRead.model_validate(await services.dnc().delete(dnc_id))
