from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, PageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.calls.schemas import (
    CallRead,
    CallStatus,
    CallSummary,
    CallType,
    OutboundCallCreate,
    OutboundCallCreated,
)
from vozagent.domain.organizations.service import Principal

router = APIRouter(prefix="/calls", tags=["calls"])
CanRead = Annotated[Principal, Depends(require("calls:read"))]
CanWrite = Annotated[Principal, Depends(require("calls:write"))]


@router.get("", response_model=list[CallSummary])
async def list_calls(
    principal: CanRead,
    container: ContainerDep,
    page: PageParams,
    status: Annotated[CallStatus | None, Query()] = None,
    contact_id: Annotated[str | None, Query(max_length=64)] = None,
    assistant_id: Annotated[str | None, Query(max_length=64)] = None,
    call_type: Annotated[CallType | None, Query()] = None,
) -> list[CallSummary]:
    async with unit_of_work(container, principal) as services:
        calls = await services.calls().list(
            page,
            status=status,
            contact_id=contact_id,
            assistant_id=assistant_id,
            call_type=call_type,
        )
        return [CallSummary.model_validate(c) for c in calls]


@router.post("/outbound", response_model=OutboundCallCreated, status_code=201)
async def create_outbound_call(
    body: OutboundCallCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:

        async def work() -> OutboundCallCreated:
            organization = await services.organizations().get_organization(principal.org_id)
            result = await services.calls().create_outbound(organization, body)
            return OutboundCallCreated(
                call_id=result.call.id,
                status=result.call.call_status,
                direction=result.call.call_type,
                to_phone=result.call.customer_phone_number,
                assistant_name=result.assistant.name,
                contact_id=result.contact.id,
                is_new_contact=result.is_new_contact,
                created_at=result.call.created_at,
            )

        return await respond_idempotently(request, services, work)


@router.get("/{call_id}", response_model=CallRead)
async def get_call(call_id: str, principal: CanRead, container: ContainerDep) -> CallRead:
    async with unit_of_work(container, principal) as services:
        return CallRead.model_validate(await services.calls().get(call_id))
