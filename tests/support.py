"""Helpers shared by tests: an authenticated client that knows its org, and builders."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import asyncpg
import httpx
from aiohttp.abc import AbstractResolver, ResolveResult


class ApiClient(httpx.AsyncClient):
    """An httpx client authenticated as one organization's key."""

    def __init__(self, *, org_id: str, key: str, key_id: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.org_id = org_id
        self.key = key
        self.key_id = key_id

    async def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.post(path, json=body)
        assert response.status_code == 201, response.text
        data: dict[str, Any] = response.json()
        return data


OrgFactory = Callable[..., Awaitable[ApiClient]]


def unique_phone() -> str:
    """A random, possible US number in the 555 range."""
    return f"+1555{secrets.randbelow(10**7):07d}"


@asynccontextmanager
async def external_database(server_url: str) -> AsyncIterator[str]:
    """Create a throw-away database on an external server; drop it afterwards."""
    name = f"vozagent_test_{secrets.token_hex(4)}"
    parts = urlsplit(server_url)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(parts._replace(path=f"/{name}"))
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(url: str, statement: str) -> None:
    connection = await asyncpg.connect(url)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


class FakeResolver(AbstractResolver):
    """Fixed DNS answers for test names (a DNS-rebinding stand-in); only ``localhost`` may
    fall through to the system resolver, so no test ever resolves a real name."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.fallback: aiohttp.ThreadedResolver | None = None

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if host not in self.answers:
            assert host == "localhost", host  # anything else would be a test bug
            self.fallback = self.fallback or aiohttp.ThreadedResolver()
            return await self.fallback.resolve(host, port, family)
        return [
            ResolveResult(
                hostname=host,
                host=address,
                port=port,
                family=socket.AF_INET6 if ":" in address else socket.AF_INET,
                proto=0,
                flags=0,
            )
            for address in self.answers[host]
        ]

    async def close(self) -> None:
        if self.fallback is not None:
            await self.fallback.close()
