"""The FastAPI application: /v1 routers, error envelope, edge middleware, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from sqlalchemy import text
from starlette.types import ASGIApp

from vozagent import __version__
from vozagent.api import errors
from vozagent.api.container import Container
from vozagent.api.middleware import EdgeMiddleware
from vozagent.api.openapi import build_openapi
from vozagent.api.v1 import (
    assistants,
    call_settings,
    calls,
    contacts,
    dnc,
    phone_numbers,
    telephony_credentials,
    webhooks,
)

_LANDING = """<!doctype html><html><head><meta charset="utf-8"><title>vozagent</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:3em auto">
<h1>vozagent</h1><p>The VozAgent v1 API is served under <code>/v1</code>.</p>
<ul><li><a href="/v1/openapi.json">OpenAPI document</a></li>
<li><code>curl -H "Authorization: Bearer $KEY" http://HOST/v1/contacts</code></li></ul>
</body></html>"""


Background = Callable[[], AbstractAsyncContextManager[None]]


def create_api(
    container: Container,
    *,
    background: Background | None = None,
    telephony: ASGIApp | None = None,
) -> FastAPI:
    """``background`` runs for the app's lifetime (the composition root passes the workers)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with background() if background is not None else nullcontext():
            yield
        await container.database.dispose()

    app = FastAPI(
        lifespan=lifespan,
        title="VozAgent API",
        version=__version__,
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.container = container
    app.state.settings = container.settings
    errors.install(app)

    v1 = APIRouter(prefix="/v1")
    for module in (
        contacts,
        calls,
        assistants,
        phone_numbers,
        webhooks,
        dnc,
        telephony_credentials,
        call_settings,
    ):
        v1.include_router(module.router)
    app.include_router(v1)

    if telephony is not None:
        # Carriers' callbacks, TwiML and media sockets (authenticated by the carriers'
        # own signatures and per-call tokens, not by API keys).
        app.mount("/telephony", telephony)
        app.state.telephony = telephony

        @app.get("/phone", include_in_schema=False)
        async def browser_phone(request: Request) -> RedirectResponse:
            query = f"?{request.url.query}" if request.url.query else ""
            return RedirectResponse(f"/telephony/browser/phone{query}")

    @app.get("/", include_in_schema=False)
    async def landing() -> HTMLResponse:
        return HTMLResponse(_LANDING)

    @app.get("/healthz", include_in_schema=False)
    async def health() -> JSONResponse:
        async with container.database.transaction() as session:
            await session.execute(text("SELECT 1"))
        return JSONResponse({"status": "ok", "version": __version__})

    app.openapi = lambda: build_openapi(app)  # type: ignore[method-assign]
    app.add_middleware(EdgeMiddleware, max_body_bytes=container.settings.max_body_bytes)
    return app
