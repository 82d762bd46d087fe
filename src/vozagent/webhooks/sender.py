"""One HTTP attempt at a webhook endpoint: POST, no redirects, bounded time and body.

Every connection goes through the SSRF guard's connector, which checks the address it
actually connects to (see ``webhooks.addresses``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp

from vozagent.webhooks.addresses import AddressRefused, guarded_connector

# What we keep of a receiver's answer for the delivery log (owners debug with it).
RESPONSE_EXCERPT_BYTES = 1024


@dataclass(frozen=True, slots=True)
class SendResult:
    status_code: int | None
    latency_ms: int
    response_excerpt: str | None
    retry_after: str | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class WebhookSender:
    def __init__(
        self,
        *,
        allow_private: bool,
        timeout_seconds: float = 15.0,
        per_host_connections: int = 0,
        resolver: aiohttp.abc.AbstractResolver | None = None,
    ) -> None:
        self._allow_private = allow_private
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._per_host = per_host_connections
        self._resolver = resolver
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> WebhookSender:
        connector = guarded_connector(
            allow_private=self._allow_private,
            resolver=self._resolver,
            limit_per_host=self._per_host,
        )
        self._session = aiohttp.ClientSession(
            connector=connector, timeout=self._timeout, auto_decompress=False
        )
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, url: str, body: bytes, headers: dict[str, str]) -> SendResult:
        assert self._session is not None, "use WebhookSender as an async context manager"
        started = time.perf_counter()
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                excerpt = await response.content.read(RESPONSE_EXCERPT_BYTES)
                return SendResult(
                    status_code=response.status,
                    latency_ms=_elapsed_ms(started),
                    response_excerpt=excerpt.decode("utf-8", "replace").replace("\x00", ""),
                    retry_after=response.headers.get("retry-after"),
                    error=None,
                )
        except TimeoutError:
            return _failed(started, "timed out")
        except aiohttp.ClientConnectorError as exc:
            refused = _refusal(exc)
            return _failed(started, refused or f"could not connect: {exc.os_error.strerror}")
        except AddressRefused as exc:
            return _failed(started, str(exc))
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return _failed(started, f"{type(exc).__name__}: {exc}"[:300])


def _refusal(exc: aiohttp.ClientConnectorError) -> str | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, AddressRefused):
            return str(cause)
        cause = cause.__cause__ or getattr(cause, "os_error", None)
        if cause is exc:
            break
    return None


def _elapsed_ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)


def _failed(started: float, error: str) -> SendResult:
    return SendResult(None, _elapsed_ms(started), None, None, error)
