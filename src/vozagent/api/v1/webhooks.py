from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from vozagent.api.deps import (
    ContainerDep,
    InventoryPageParams,
    PageParams,
    require,
    unit_of_work,
)
from vozagent.api.idempotency import respond_idempotently
from vozagent.domain.organizations.service import Principal
from vozagent.domain.webhooks.schemas import (
    DeliveryStatus,
    ReplayRequest,
    ReplayResult,
    WebhookCreate,
    WebhookDeliveryRead,
    WebhookRead,
    WebhookSecretRotated,
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
        disabled_reason=endpoint.disabled_reason,
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


@router.post("/{webhook_id}/rotate-secret", response_model=WebhookSecretRotated)
async def rotate_webhook_secret(
    webhook_id: str, principal: CanWrite, container: ContainerDep
) -> WebhookSecretRotated:
    async with unit_of_work(container, principal) as services:
        endpoint, secret = await services.webhooks().rotate_secret(webhook_id)
        assert endpoint.previous_secret_expires_at is not None
        return WebhookSecretRotated(
            id=endpoint.id,
            secret=secret,
            previous_secret_expires_at=endpoint.previous_secret_expires_at,
        )


@router.post("/{webhook_id}/test", response_model=WebhookDeliveryRead, status_code=202)
async def test_webhook(
    webhook_id: str, principal: CanWrite, container: ContainerDep
) -> WebhookDeliveryRead:
    async with unit_of_work(container, principal) as services:
        delivery = await services.webhooks().send_test(webhook_id)
        return WebhookDeliveryRead.model_validate(delivery)


@router.get("/{webhook_id}/deliveries", response_model=list[WebhookDeliveryRead])
async def list_webhook_deliveries(
    webhook_id: str,
    principal: CanRead,
    container: ContainerDep,
    page: PageParams,
    status: Annotated[DeliveryStatus | None, Query()] = None,
) -> list[WebhookDeliveryRead]:
    async with unit_of_work(container, principal) as services:
        deliveries = await services.webhooks().list_deliveries(
            webhook_id, status=status, limit=page.limit, offset=page.offset
        )
        return [WebhookDeliveryRead.model_validate(d) for d in deliveries]


@router.get("/{webhook_id}/deliveries/{delivery_id}", response_model=WebhookDeliveryRead)
async def get_webhook_delivery(
    webhook_id: str, delivery_id: str, principal: CanRead, container: ContainerDep
) -> WebhookDeliveryRead:
    async with unit_of_work(container, principal) as services:
        delivery = await services.webhooks().get_delivery(webhook_id, delivery_id)
        return WebhookDeliveryRead.model_validate(delivery)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    response_model=WebhookDeliveryRead,
    status_code=202,
)
async def retry_webhook_delivery(
    webhook_id: str, delivery_id: str, principal: CanWrite, container: ContainerDep
) -> WebhookDeliveryRead:
    async with unit_of_work(container, principal) as services:
        delivery = await services.webhooks().retry_delivery(webhook_id, delivery_id)
        return WebhookDeliveryRead.model_validate(delivery)


@router.post("/{webhook_id}/replay", response_model=ReplayResult, status_code=202)
async def replay_webhook_deliveries(
    webhook_id: str, body: ReplayRequest, principal: CanWrite, container: ContainerDep
) -> ReplayResult:
    async with unit_of_work(container, principal) as services:
        requeued = await services.webhooks().replay(webhook_id, body)
        return ReplayResult(webhook_id=webhook_id, requeued=requeued)
