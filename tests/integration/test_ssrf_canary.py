"""The connect-time SSRF guard against a real socket: a loopback canary counts connections.

Every URL below points at the canary; the guarded connector must refuse each one
before a TCP connection is opened, so the canary must count zero. The positive
control (private targets allowed) shows the canary does see a connection that gets
through. Only loopback addresses can pass the guard here, so no test traffic ever
leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp.abc import ResolveResult
from aiohttp.tracing import Trace
from yarl import URL

from tests.support import FakeResolver
from vozagent.webhooks.addresses import AddressRefused, GuardedConnector, guarded_connector

TIMEOUT = aiohttp.ClientTimeout(total=10)


@dataclass
class Canary:
    port: int = 0
    port6: int | None = None  # None: no IPv6 loopback here
    connections: int = 0
    servers: list[asyncio.Server] = field(default_factory=list)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            await reader.readexactly(length)
            writer.write(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


def _ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.fixture
async def canary() -> AsyncIterator[Canary]:
    canary = Canary()
    server = await asyncio.start_server(canary.handle, "127.0.0.1", 0)
    canary.servers.append(server)
    canary.port = server.sockets[0].getsockname()[1]
    if _ipv6_loopback_available():
        server6 = await asyncio.start_server(canary.handle, "::1", 0)
        canary.servers.append(server6)
        canary.port6 = server6.sockets[0].getsockname()[1]
    yield canary
    for server in canary.servers:
        server.close()
        await server.wait_closed()


def _address_refused(exc: BaseException) -> AddressRefused | None:
    """The AddressRefused behind what aiohttp raised (os_error or __cause__ chain)."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, AddressRefused):
            return seen
        os_error = getattr(seen, "os_error", None)
        seen = os_error if isinstance(os_error, BaseException) else seen.__cause__
    return None


async def _post(connector: aiohttp.BaseConnector, url: str) -> int:
    async with (
        aiohttp.ClientSession(connector=connector, timeout=TIMEOUT, trust_env=False) as session,
        session.post(url, json={"type": "call.completed"}) as response,
    ):
        await response.read()
        return response.status


async def _assert_refused(connector: aiohttp.BaseConnector, url: str, canary: Canary) -> None:
    with pytest.raises(aiohttp.ClientError) as raised:
        await _post(connector, url)
    refused = _address_refused(raised.value)
    assert refused is not None, f"{url} failed for another reason: {raised.value!r}"
    assert canary.connections == 0, f"{url} reached the canary"


REFUSED_URLS = [
    "http://127.0.0.1:{port}/",
    "http://localhost:{port}/",
    "http://2130706433:{port}/",
    "http://0x7f.1:{port}/",
    "http://0x7f000001:{port}/",
    "http://017700000001:{port}/",
    "http://127.1:{port}/",
    "http://127.0.0.1.:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://rebind.test:{port}/",
    "http://[::1]:{port6}/",
    "http://ip6-rebind.test:{port6}/",
]


@pytest.mark.parametrize("template", REFUSED_URLS)
async def test_loopback_targets_are_refused_before_connecting(
    canary: Canary, template: str
) -> None:
    if "{port6}" in template and canary.port6 is None:
        pytest.skip("no IPv6 loopback on this machine")
    url = template.format(port=canary.port, port6=canary.port6)
    resolver = FakeResolver({"rebind.test": ["127.0.0.1"], "ip6-rebind.test": ["::1"]})
    try:
        await _assert_refused(
            guarded_connector(allow_private=False, resolver=resolver), url, canary
        )
    finally:
        await resolver.close()


async def test_positive_control_private_allowed_reaches_the_canary(canary: Canary) -> None:
    status = await _post(guarded_connector(allow_private=True), f"http://127.0.0.1:{canary.port}/")
    assert status == 204
    assert canary.connections >= 1


async def test_positive_control_ipv6_and_resolved_names(canary: Canary) -> None:
    resolver = FakeResolver({"rebind.test": ["127.0.0.1"]})
    try:
        connector = guarded_connector(allow_private=True, resolver=resolver)
        assert await _post(connector, f"http://rebind.test:{canary.port}/") == 204
    finally:
        await resolver.close()
    assert canary.connections == 1
    if canary.port6 is not None:
        connector = guarded_connector(allow_private=True)
        assert await _post(connector, f"http://[::1]:{canary.port6}/") == 204
        assert canary.connections == 2


@pytest.mark.parametrize(
    ("url", "answers"),
    [
        ("http://metadata.test:{port}/latest/meta-data/", ["169.254.169.254"]),
        ("http://metadata6.test:{port}/", ["fd00:ec2::254"]),
        # Refuse, don't filter: a filtering guard would connect to the canary.
        ("http://mixed.test:{port}/", ["127.0.0.1", "169.254.169.254"]),
        ("http://169.254.169.254:{port}/", []),
        ("http://2852039166:{port}/", []),
        ("http://[::ffff:169.254.169.254]:{port}/", []),
        ("http://[fe80::1]:{port}/", []),
        ("http://100.100.100.200:{port}/", []),
        ("http://0.0.0.0:{port}/", []),
    ],
)
async def test_metadata_and_link_local_are_refused_even_when_private_is_allowed(
    canary: Canary, url: str, answers: list[str]
) -> None:
    url = url.format(port=canary.port)
    resolver = FakeResolver({str(URL(url).raw_host): answers} if answers else {})
    try:
        connector = guarded_connector(allow_private=True, resolver=resolver)
        await _assert_refused(connector, url, canary)
    finally:
        await resolver.close()


class _WithoutLiteralCheck(GuardedConnector):
    """Skips the guard's own _resolve_host check, as if aiohttp stopped calling it."""

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        return await aiohttp.TCPConnector._resolve_host(self, host, port, traces)


async def test_socket_factory_is_a_last_line_of_defence(canary: Canary) -> None:
    # With only the socket factory left, a literal loopback address is still refused
    # right before connect(), and the canary sees nothing.
    url = f"http://127.0.0.1:{canary.port}/"
    await _assert_refused(_WithoutLiteralCheck(allow_private=False), url, canary)
