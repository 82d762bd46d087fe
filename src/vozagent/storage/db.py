"""Engine and sessions. The edge (request handler or job wrapper) owns each transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool


def async_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pick the asyncpg driver."""
    for prefix in (
        "postgresql+asyncpg://",
        "postgresql+psycopg://",
        "postgresql://",
        "postgres://",
    ):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    raise ValueError("database URL must start with postgresql://")


def plain_dsn(url: str) -> str:
    """The libpq-style URL that asyncpg.connect takes (for LISTEN connections)."""
    return "postgresql://" + async_url(url).removeprefix("postgresql+asyncpg://")


class Database:
    def __init__(
        self, url: str, *, pool: str = "queue", pool_size: int = 10, max_overflow: int = 20
    ) -> None:
        kwargs: dict[str, Any] = {}
        if pool == "null":
            kwargs["poolclass"] = NullPool
        else:
            kwargs.update(pool_size=pool_size, max_overflow=max_overflow, pool_pre_ping=True)
        self.url = url
        self.engine: AsyncEngine = create_async_engine(async_url(url), **kwargs)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commits when the block ends normally, rolls back otherwise."""
        async with self._sessions() as session, session.begin():
            yield session

    async def dispose(self) -> None:
        await self.engine.dispose()
