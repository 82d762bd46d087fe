"""Composition root: Settings in, ASGI app out."""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI

from vozagent.api.app import create_api
from vozagent.api.container import Container
from vozagent.api.ratelimit import RateLimiter
from vozagent.config import Settings
from vozagent.core.secrets_box import SecretBox
from vozagent.storage.db import Database
from vozagent.workers.calls.telephony import TelephonyRoutes, running_telephony
from vozagent.workers.runner import running_workers


def load_master_key(settings: Settings) -> str:
    """The configured master key, else one kept in ``<data_dir>/secret.key`` (made once)."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = settings.data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = SecretBox.generate_master_key()
    # O_EXCL: two processes starting together must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with open(fd, "w") as handle:
        handle.write(key)
    return key


def create_app(settings: Settings, database_url: str) -> FastAPI:
    database = Database(
        database_url,
        pool=settings.db_pool,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
    )
    container = Container(
        settings=settings,
        database=database,
        rate_limiter=RateLimiter(
            settings.rate_limits, settings.anonymous_rate_limit, settings.redis_url
        ),
        secret_box=SecretBox(load_master_key(settings)),
    )
    routes = TelephonyRoutes()
    box, clock = container.secret_box, container.clock
    if settings.workers_enabled:
        return create_api(
            container,
            telephony=routes,
            background=lambda: running_workers(
                settings, database, box, clock, routes=routes, dial=True
            ),
        )
    # API only: carriers' callbacks and media sockets are still served here.
    return create_api(
        container,
        telephony=routes,
        background=lambda: _without_result(
            running_telephony(settings, database, box, clock, routes=routes, dial=False)
        ),
    )


@contextlib.asynccontextmanager
async def _without_result(manager: AbstractAsyncContextManager[Any]) -> AsyncIterator[None]:
    async with manager:
        yield
