"""A live vozagent (API, workers, dialer, sandbox carrier) on a loopback port, with its own
database on the embedded server."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from tests.conftest import make_settings
from tests.support import ApiClient, external_database
from vozagent.domain.organizations.service import OrganizationService
from vozagent.server import create_app
from vozagent.storage.db import Database
from vozagent.storage.migrate import upgrade
from vozagent.telephony.sandbox.carrier import SandboxCarrier


@dataclass
class LiveServer:
    base_url: str
    app: FastAPI
    api: ApiClient

    @property
    def sandbox(self) -> SandboxCarrier:
        carrier = self.app.state.telephony.carriers["sandbox"]
        assert isinstance(carrier, SandboxCarrier)
        return carrier

    async def wait_for_end(self, call_id: str, seconds: float = 60.0) -> dict[str, Any]:
        terminal = {"completed", "failed", "busy", "no-answer", "canceled", "voicemail"}
        for _ in range(int(seconds / 0.2)):
            call = (await self.api.get(f"/v1/calls/{call_id}")).json()
            # The transcript and recording are written before the carrier's final report.
            if call["call_status"] in terminal:
                return dict(call)
            await asyncio.sleep(0.2)
        raise AssertionError(f"call {call_id} did not end in {seconds} s: {call}")


@pytest.fixture(scope="session")
async def live(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    data_dir: Path = tmp_path_factory.mktemp("live")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    async with external_database(database_url) as url:
        await upgrade(url)
        settings = make_settings(
            data_dir,
            workers_enabled=True,
            port=port,
            public_url=base_url,
            carriers=["sandbox"],
            sandbox_answer_delay_seconds=0.3,
            ring_timeout_seconds=3,
            db_pool="null",
        )
        app = create_app(settings, url)
        server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        task = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(200):
            if server.started:
                break
            await asyncio.sleep(0.05)
        database = Database(url, pool="null")
        async with database.transaction() as session:
            service = OrganizationService(session)
            org = await service.create_organization("live", "essential")
            created = await service.create_key(org.id, "live key")
        await _open_calling_hours(database, org.id)
        api = ApiClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {created.plaintext}"},
            org_id=org.id,
            key=created.plaintext,
            key_id=created.key.id,
            timeout=httpx.Timeout(10.0),
        )
        try:
            yield LiveServer(base_url, app, api)
        finally:
            await api.aclose()
            server.should_exit = True
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait_for(task, 30)
            await database.dispose()


async def _open_calling_hours(database: Database, org_id: str) -> None:
    """Tests run at any hour: the calling window is the whole day (start == end)."""
    from sqlalchemy import text

    async with database.transaction() as session:
        await session.execute(
            text(
                "UPDATE organizations SET calling_hours_start = '00:00', "
                "calling_hours_end = '00:00', max_concurrent_calls = 20 WHERE id = :id"
            ),
            {"id": org_id},
        )
