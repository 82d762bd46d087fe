"""Assembling the call machinery: carriers, the runtime, the dialer and the media routes."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import aiohttp
from starlette.routing import Mount, Router
from starlette.types import Receive, Scope, Send

from vozagent.config import Settings
from vozagent.core.clock import Clock
from vozagent.core.secrets_box import SecretBox
from vozagent.storage.db import Database, plain_dsn
from vozagent.telephony import registry
from vozagent.telephony.carrier import Carrier, CarrierContext
from vozagent.voice.conversation import Agent
from vozagent.webhooks.addresses import guarded_connector
from vozagent.workers.calls.dialer import Dialer, DialerTuning
from vozagent.workers.calls.runtime import CallRuntime, RuntimeOptions
from vozagent.workers.wakeup import ListeningWakeup

log = logging.getLogger(__name__)


def public_url(settings: Settings) -> str:
    if settings.public_url:
        return settings.public_url.rstrip("/")
    host = "127.0.0.1" if settings.host in ("0.0.0.0", "::", "") else settings.host
    return f"http://{host}:{settings.port}"


def default_agent() -> Agent:
    """The scripted agent over the offline text modem, until the speech pipeline lands."""
    from vozagent.voice.scripted import ScriptedAgent
    from vozagent.voice.testing.modem import ToneSynthesizer, ToneTranscriber

    return ScriptedAgent(ToneSynthesizer(), ToneTranscriber())


class TelephonyRoutes:
    """ASGI app mounted at ``/telephony``; carriers attach their routes once started."""

    def __init__(self) -> None:
        self.router: Router | None = None
        self.carriers: dict[str, Carrier] = {}

    def attach(self, carriers: dict[str, Carrier]) -> None:
        self.carriers = carriers
        self.router = Router(
            routes=[Mount(f"/{name}", routes=list(c.routes())) for name, c in carriers.items()]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.router is None:
            if scope["type"] == "websocket":
                await send({"type": "websocket.close", "code": 1013})
                return
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.router(scope, receive, send)


@dataclass
class Telephony:
    runtime: CallRuntime
    carriers: dict[str, Carrier]


@contextlib.asynccontextmanager
async def running_telephony(
    settings: Settings,
    database: Database,
    box: SecretBox,
    clock: Clock,
    *,
    routes: TelephonyRoutes | None,
    dial: bool,
    agent_factory: Callable[[], Agent] = default_agent,
) -> AsyncIterator[Telephony]:
    options = RuntimeOptions(
        rates=settings.call_rates_per_minute,
        recordings_dir=settings.data_dir / "recordings",
        default_region=settings.default_region,
        public_url=public_url(settings),
    )
    runtime = CallRuntime(database, box, clock, options, agent_factory)
    stop = asyncio.Event()
    connector = guarded_connector(settings.webhooks_allow_private)
    async with aiohttp.ClientSession(connector=connector) as http:
        context = CarrierContext(
            events=runtime,
            public_url=public_url(settings),
            http=http,
            signing_key=box.derive_key("media-tokens"),
            settings=_carrier_settings(settings),
        )
        runtime.carriers = registry.build(settings.carriers, context)
        for carrier in runtime.carriers.values():
            await carrier.start()
        if routes is not None:
            routes.attach(runtime.carriers)
        tasks = [asyncio.create_task(runtime.watch(stop), name="call-watch")]
        wakeup = ListeningWakeup(plain_dsn(database.url), channel="vozagent_dialer")
        if dial:
            dialer = Dialer(database, box, clock, runtime, _tuning(settings), wakeup)
            tasks.append(asyncio.create_task(dialer.run(stop), name="dialer"))
        try:
            yield Telephony(runtime, runtime.carriers)
        finally:
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await wakeup.close()
            for carrier in runtime.carriers.values():
                with contextlib.suppress(Exception):
                    await carrier.stop()


def _tuning(settings: Settings) -> DialerTuning:
    return DialerTuning(
        calls_per_second=settings.carrier_calls_per_second,
        ring_timeout_seconds=settings.ring_timeout_seconds,
        lease=timedelta(seconds=60),
    )


def _carrier_settings(settings: Settings) -> dict[str, Any]:
    return {
        "sandbox_answer_delay_seconds": settings.sandbox_answer_delay_seconds,
        "sip_bind_host": settings.sip_bind_host,
        "sip_bind_port": settings.sip_bind_port,
    }
