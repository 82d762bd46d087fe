from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, JSONResponse

from vozagent.api.container import Container
from vozagent.api.deps import (
    ContainerDep,
    PageParams,
    authenticate,
    require,
    require_scope,
    unit_of_work,
)
from vozagent.api.idempotency import respond_idempotently
from vozagent.api.recordings import signature_valid, signed_recording_url
from vozagent.core.errors import Unauthorized
from vozagent.domain.calls.control import CallControl
from vozagent.domain.calls.errors import CallNotFound
from vozagent.domain.calls.lifecycle import CallLifecycle
from vozagent.domain.calls.schemas import (
    CallRead,
    CallStatus,
    CallSummary,
    CallType,
    OutboundCallCreate,
    OutboundCallCreated,
)
from vozagent.domain.organizations.service import Principal
from vozagent.storage.models import Call

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
async def get_call(
    call_id: str, request: Request, principal: CanRead, container: ContainerDep
) -> CallRead:
    async with unit_of_work(container, principal) as services:
        call = await services.calls().get(call_id)
        return _presented(CallRead.model_validate(call), call.recording_path, request, container)


@router.post("/{call_id}/cancel", response_model=CallRead)
async def cancel_call(
    call_id: str, request: Request, principal: CanWrite, container: ContainerDep
) -> CallRead:
    """Cancel a queued or ringing call, or hang up one in progress (extension)."""
    async with unit_of_work(container, principal) as services:
        lifecycle = CallLifecycle(
            services.session, clock=container.clock, rates=container.settings.call_rates_per_minute
        )
        control = CallControl(
            services.session, principal.org_id, lifecycle=lifecycle, clock=container.clock
        )
        call = await control.cancel(call_id)
        return _presented(CallRead.model_validate(call), call.recording_path, request, container)


@router.get(
    "/{call_id}/recording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def get_recording(
    call_id: str,
    request: Request,
    container: ContainerDep,
    expires: Annotated[int | None, Query()] = None,
    signature: Annotated[str | None, Query(max_length=128)] = None,
) -> FileResponse:
    """The call's recording (WAV): with a signed URL from the call, or with an API key."""
    if expires is None or signature is None:
        principal = await authenticate(request)
        require_scope(principal, "calls:read")
        org_id: str | None = principal.org_id
    elif signature_valid(container, call_id, expires, signature):
        org_id = None
    else:
        raise Unauthorized("The recording link is invalid or has expired")
    async with container.database.transaction() as session:
        call = await session.get(Call, call_id)
    if call is None or call.recording_path is None or org_id not in (None, call.org_id):
        raise CallNotFound(call_id)
    path = container.settings.data_dir / "recordings" / call.recording_path
    if not path.is_file():
        raise CallNotFound(call_id)
    return FileResponse(path, media_type="audio/wav", filename=f"{call_id}.wav")


def _presented(
    read: CallRead, recording_path: str | None, request: Request, container: Container
) -> CallRead:
    if recording_path is None:
        return read
    base = str(request.base_url).rstrip("/")
    return read.model_copy(update={"recording_url": signed_recording_url(container, base, read.id)})
