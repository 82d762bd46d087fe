from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, PageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.contacts.schemas import ContactCreate, ContactRead, ContactUpdate
from vozagent.domain.organizations.service import Principal

router = APIRouter(prefix="/contacts", tags=["contacts"])
CanRead = Annotated[Principal, Depends(require("contacts:read"))]
CanWrite = Annotated[Principal, Depends(require("contacts:write"))]


@router.get("", response_model=list[ContactRead])
async def list_contacts(
    principal: CanRead,
    container: ContainerDep,
    page: PageParams,
    search: Annotated[
        str | None, Query(max_length=200, description="Matches name, email, phone or company")
    ] = None,
    tags: Annotated[
        str | None, Query(max_length=2000, description="Comma-separated; any-of match")
    ] = None,
) -> list[ContactRead]:
    tag_list = [t.strip() for t in tags.split(",") if t.strip()] if tags else None
    async with unit_of_work(container, principal) as services:
        contacts = await services.contacts().list(page, search=search or None, tags=tag_list)
        return [ContactRead.model_validate(c) for c in contacts]


@router.post("", response_model=ContactRead, status_code=201)
async def create_contact(
    body: ContactCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:

        async def work() -> ContactRead:
            return ContactRead.model_validate(await services.contacts().create(body))

        return await respond_idempotently(request, services, work)


@router.get("/{contact_id}", response_model=ContactRead)
async def get_contact(contact_id: str, principal: CanRead, container: ContainerDep) -> ContactRead:
    async with unit_of_work(container, principal) as services:
        return ContactRead.model_validate(await services.contacts().get(contact_id))


@router.patch("/{contact_id}", response_model=ContactRead)
async def update_contact(
    contact_id: str, body: ContactUpdate, principal: CanWrite, container: ContainerDep
) -> ContactRead:
    async with unit_of_work(container, principal) as services:
        return ContactRead.model_validate(await services.contacts().update(contact_id, body))


@router.delete("/{contact_id}", response_model=ContactRead)
async def delete_contact(
    contact_id: str, principal: CanWrite, container: ContainerDep
) -> ContactRead:
    async with unit_of_work(container, principal) as services:
        return ContactRead.model_validate(await services.contacts().delete(contact_id))
