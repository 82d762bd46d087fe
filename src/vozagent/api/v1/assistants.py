from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, PageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.assistants.schemas import (
    AssistantCreate,
    AssistantRead,
    AssistantSummary,
    AssistantUpdate,
)
from vozagent.domain.assistants.service import AssistantService
from vozagent.domain.organizations.service import Principal
from vozagent.storage.models import Assistant

router = APIRouter(prefix="/assistants", tags=["assistants"])
CanRead = Annotated[Principal, Depends(require("assistants:read"))]
CanWrite = Annotated[Principal, Depends(require("assistants:write"))]


async def _read(service: AssistantService, assistant: Assistant) -> AssistantRead:
    numbers = await service.phone_number_ids([assistant])
    return AssistantRead.model_validate(
        {**_columns(assistant), "phone_number_id": numbers[assistant.id]}
    )


def _columns(assistant: Assistant) -> dict[str, object]:
    return {c.key: getattr(assistant, c.key) for c in Assistant.__table__.columns}


async def _summaries(
    service: AssistantService, assistants: Sequence[Assistant]
) -> list[AssistantSummary]:
    numbers = await service.phone_number_ids(assistants)
    return [
        AssistantSummary.model_validate({**_columns(a), "phone_number_id": numbers[a.id]})
        for a in assistants
    ]


@router.get("", response_model=list[AssistantSummary])
async def list_assistants(
    principal: CanRead,
    container: ContainerDep,
    page: PageParams,
    is_active: Annotated[bool | None, Query(description="true or false")] = None,
    assistant_type: Annotated[Literal["inbound", "outbound", "custom"] | None, Query()] = None,
) -> list[AssistantSummary]:
    async with unit_of_work(container, principal) as services:
        service = services.assistants()
        found = await service.list(page, is_active=is_active, assistant_type=assistant_type)
        return await _summaries(service, found)


@router.post("", response_model=AssistantRead, status_code=201)
async def create_assistant(
    body: AssistantCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:
        service = services.assistants()

        async def work() -> AssistantRead:
            return await _read(service, await service.create(body))

        return await respond_idempotently(request, services, work)


@router.get("/{assistant_id}", response_model=AssistantRead)
async def get_assistant(
    assistant_id: str, principal: CanRead, container: ContainerDep
) -> AssistantRead:
    async with unit_of_work(container, principal) as services:
        service = services.assistants()
        return await _read(service, await service.get(assistant_id))


@router.patch("/{assistant_id}", response_model=AssistantRead)
async def update_assistant(
    assistant_id: str, body: AssistantUpdate, principal: CanWrite, container: ContainerDep
) -> AssistantRead:
    async with unit_of_work(container, principal) as services:
        service = services.assistants()
        return await _read(service, await service.update(assistant_id, body))


@router.delete("/{assistant_id}", response_model=AssistantRead)
async def delete_assistant(
    assistant_id: str, principal: CanWrite, container: ContainerDep
) -> AssistantRead:
    async with unit_of_work(container, principal) as services:
        service = services.assistants()
        assistant = await service.get(assistant_id)
        read = await _read(service, assistant)
        await service.delete(assistant_id)
        return read.model_copy(update={"phone_number_id": None})
