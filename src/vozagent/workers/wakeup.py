"""Waking the delivery worker: PostgreSQL NOTIFY when events are recorded (so delivery
starts within milliseconds, not at the next poll), in-process signals when an attempt
finishes, and a slow poll as the safety net if the LISTEN connection is lost."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import asyncpg

from vozagent.storage.repositories.webhook_events import DELIVERY_CHANNEL

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 5.0


class Wakeup:
    def __init__(self) -> None:
        self._event = asyncio.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    async def wait(self, seconds: float, stop: asyncio.Event) -> None:
        stopping = asyncio.ensure_future(stop.wait())
        woken = asyncio.ensure_future(self._event.wait())
        try:
            await asyncio.wait({stopping, woken}, timeout=seconds, return_when="FIRST_COMPLETED")
        finally:
            for future in (stopping, woken):
                future.cancel()


class ListeningWakeup(Wakeup):
    """A Wakeup that also LISTENs on the delivery channel over its own connection."""

    def __init__(self, dsn: str, *, channel: str = DELIVERY_CHANNEL) -> None:
        super().__init__()
        self._dsn = dsn
        self._channel = channel
        self._connection: asyncpg.Connection | None = None
        self._last_try = 0.0

    async def wait(self, seconds: float, stop: asyncio.Event) -> None:
        await self._ensure_listening()
        await super().wait(seconds, stop)

    async def close(self) -> None:
        if self._connection is not None:
            with contextlib.suppress(Exception):
                await self._connection.close()
            self._connection = None

    async def _ensure_listening(self) -> None:
        if self._connection is not None and not self._connection.is_closed():
            return
        if time.monotonic() - self._last_try < RECONNECT_SECONDS:
            return
        self._last_try = time.monotonic()
        try:
            connection = await asyncpg.connect(self._dsn)
            await connection.add_listener(self._channel, self._notified)
        except (OSError, asyncpg.PostgresError) as exc:
            log.warning("webhook LISTEN unavailable, polling instead: %s", exc)
            return
        self._connection = connection
        self.set()  # anything recorded while we were not listening is due now

    def _notified(self, *_args: Any) -> None:
        self.set()
