from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import ContainerDep, InventoryPageParams, require, unit_of_work
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.organizations.service import Principal
from vozagent.domain.webhooks.schemas import (
    WebhookCreate,
    WebhookRead,
    WebhookUpdate,
    WebhookUpdated,
)
from vozagent.storage.models import WebhookEndpoint
from vozagent.webhooks.secrets import MASKED_SECRET

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
CanRead = Annotated[Principal, Depends(require("webhooks:read"))]
CanWrite = Annotated[Principal, Depends(require("webhooks:write"))]


def _read(endpoint: WebhookEndpoint, secret: str = MASKED_SECRET) -> WebhookRead:
    return WebhookRead(
        id=endpoint.id,
        name=endpoint.name,
        url=endpoint.url,
        events=list(endpoint.events),
        is_active=endpoint.is_active,
        secret=secret,
        created_at=endpoint.created_at,
        updated_at=endpoint.updated_at,
    )


@router.get("", response_model=list[WebhookRead])
async def list_webhooks(
    principal: CanRead, container: ContainerDep, page: InventoryPageParams
) -> list[WebhookRead]:
    async with unit_of_work(container, principal) as services:
        return [_read(e) for e in await services.webhooks().list(page)]


@router.post("", response_model=WebhookRead, status_code=201)
async def create_webhook(
    body: WebhookCreate, request: Request, principal: CanWrite, container: ContainerDep
) -> JSONResponse:
    async with unit_of_work(container, principal) as services:

        async def work() -> WebhookRead:
            endpoint, secret = await services.webhooks().create(body)
            return _read(endpoint, secret)

        return await respond_idempotently(request, services, work)


@router.get("/{webhook_id}", response_model=WebhookRead)
async def get_webhook(webhook_id: str, principal: CanRead, container: ContainerDep) -> WebhookRead:
    async with unit_of_work(container, principal) as services:
        return _read(await services.webhooks().get(webhook_id))


@router.patch("/{webhook_id}", response_model=WebhookUpdated)
async def update_webhook(
    webhook_id: str, body: WebhookUpdate, principal: CanWrite, container: ContainerDep
) -> WebhookUpdated:
    async with unit_of_work(container, principal) as services:
        return WebhookUpdated.model_validate(await services.webhooks().update(webhook_id, body))


@router.delete("/{webhook_id}", response_model=WebhookRead)
async def delete_webhook(
    webhook_id: str, principal: CanWrite, container: ContainerDep
) -> WebhookRead:
    async with unit_of_work(container, principal) as services:
        return _read(await services.webhooks().delete(webhook_id))
