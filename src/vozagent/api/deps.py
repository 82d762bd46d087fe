"""Request dependencies: the authenticated principal (with scope checks) and paging."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from vozagent.api.container import Container
from vozagent.api.ratelimit import too_many
from vozagent.api.services import Services
from vozagent.core.errors import InsufficientScope, Unauthorized
from vozagent.core.pagination import DEFAULT_LIMIT, MAX_LIMIT, Page
from vozagent.domain.organizations.service import OrganizationService, Principal


def get_container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


async def authenticate(request: Request) -> Principal:
    container = get_container(request)
    limiter = container.rate_limiter
    enabled = container.settings.rate_limit_enabled
    presented = _bearer(request)
    try:
        if presented is None:
            raise Unauthorized(
                "Missing API key: send 'Authorization: Bearer <key>'", details={"scheme": "Bearer"}
            )
        async with container.database.transaction() as session:
            principal = await OrganizationService(session).authenticate(
                presented, container.clock.now()
            )
    except Unauthorized:
        # Guess-the-key traffic is limited per client address.
        if enabled:
            client = request.client.host if request.client else "unknown"
            verdict = await limiter.check_anonymous(client)
            if not verdict.allowed:
                raise too_many(verdict) from None
        raise
    if enabled:
        verdict = await limiter.check_key(principal.key_id, principal.plan)
        request.state.extra_headers.update(verdict.headers)
        if not verdict.allowed:
            raise too_many(verdict)
    return principal


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.scopes:
        raise InsufficientScope(
            f"This API key lacks the '{scope}' scope",
            details={"required_scope": scope, "granted_scopes": sorted(principal.scopes)},
        )


def require(scope: str) -> Callable[..., Coroutine[Any, Any, Principal]]:
    async def dependency(principal: Annotated[Principal, Depends(authenticate)]) -> Principal:
        require_scope(principal, scope)
        return principal

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return ""
    return value.strip()


def page_params(
    limit: Annotated[
        int, Query(ge=0, le=MAX_LIMIT, description="0-100; 0 returns []")
    ] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page:
    return Page(limit=limit, offset=offset)


def list_page_params(
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT, description="0-100; 0 returns []")] = MAX_LIMIT,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> Page:
    """For inventories the spec lists without paging: one call returns up to 100."""
    return Page(limit=limit, offset=offset)


PageParams = Annotated[Page, Depends(page_params)]
InventoryPageParams = Annotated[Page, Depends(list_page_params)]
ContainerDep = Annotated[Container, Depends(get_container)]


@asynccontextmanager
async def unit_of_work(container: Container, principal: Principal) -> AsyncIterator[Services]:
    """One transaction for the request, with the caller's organization's services."""
    async with container.database.transaction() as session:
        yield Services(container, session, principal.org_id)
