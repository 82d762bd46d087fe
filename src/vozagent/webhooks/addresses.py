"""Connect-time SSRF guard: which resolved addresses a webhook delivery may connect to.

The save-time check (``urls.py``) only sees the URL; a name can later resolve to
anything (DNS rebinding). So the check that matters happens here, on the exact
addresses aiohttp is about to connect to:

* ``GuardedResolver`` checks every address a name resolves to, and refuses the whole
  answer if any one is refused. aiohttp connects only to the addresses the resolver
  returned, so what was checked is what gets connected to.
* aiohttp never asks the resolver about IP literals, so ``GuardedConnector`` checks
  literals itself (including the legacy ``inet_aton`` forms such as ``2130706433``
  or ``0x7f.1``) before aiohttp touches them, and its ``socket_factory`` re-checks
  the socket address right before ``connect()`` as a last line of defence that does
  not depend on aiohttp internals.

Deliveries must not go through an HTTP proxy (keep ``trust_env=False``): with a proxy
the guard would check the proxy's address, not the target's.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeAlias

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

if TYPE_CHECKING:
    from aiohttp.tracing import Trace

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address

# Refused even when private targets are allowed: no legitimate webhook lives there,
# and these hand out cloud credentials (AWS/GCP/Azure/OCI, AWS IPv6, Alibaba).
_METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")  # "this host" on Linux, i.e. loopback
_BROADCAST = ipaddress.IPv4Address("255.255.255.255")
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7")
)
_CGNAT = ipaddress.IPv4Network("100.64.0.0/10")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Local-use NAT64 (RFC 8215); Python 3.11 still calls it global.
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def address_refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    """Why a resolved address must not be connected to (``"a loopback address"``), or None."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:  # fe80::1%eth0 compares unequal to fe80::1; drop the zone
            address = ipaddress.IPv6Address(int(address))
        inner = _embedded_ipv4(address)
        if inner is not None:
            # The IPv4 address is where the packets really go, so it decides. Teredo
            # is the exception: the outer address is itself not public, so check both.
            reason = _refusal(inner, allow_private=allow_private)
            if reason is not None or address.teredo is None:
                return reason
    return _refusal(address, allow_private=allow_private)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if address.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return address.ipv4_mapped
    if address.teredo is not None:  # 2001::/32 -> (server, client)
        return address.teredo[1]
    if address.sixtofour is not None:  # 2002:AABB:CCDD::/48
        return address.sixtofour
    if address in _NAT64:  # 64:ff9b::a.b.c.d
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # ::a.b.c.d, but not :: or ::1
        return ipaddress.IPv4Address(int(address))
    return None


def _refusal(address: IPAddress, *, allow_private: bool) -> str | None:
    # Always refused, whatever the deployment says.
    if address in _METADATA:
        return "a cloud metadata address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_unspecified or address in _THIS_NETWORK:
        return "an unspecified address"
    if address.is_multicast:
        return "a multicast address"
    if address == _BROADCAST:
        return "a broadcast address"
    # IPv6 "reserved" includes ::/8 and so ::1; only IPv4's 240/4 is meant here.
    if isinstance(address, ipaddress.IPv4Address) and address.is_reserved:
        return "a reserved address"
    if allow_private:
        return None
    # Refused unless a self-hosted deployment opts in to private targets.
    if address.is_loopback:
        return "a loopback address"
    if any(address in network for network in _PRIVATE):
        return "a private address"
    if address in _CGNAT:
        return "a shared (CGNAT) address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    # Benchmarking, documentation, protocol assignments, local-use NAT64, Teredo, ...
    if not address.is_global or address in _NAT64_LOCAL:
        return "a non-public address"
    return None


def literal_address(host: str) -> IPAddress | None:
    """The address an IP-literal host names, including legacy forms, else None (a name).

    Besides dotted quads and IPv6, glibc's resolver accepts ``inet_aton`` forms
    (``2130706433``, ``0x7f.1``, ``017700000001``, ``127.1``) that yarl keeps as host
    names, so they count as literals too.
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Only what inet_aton could mean as a number; it also ignores anything after a space.
    if not host or host.strip("0123456789abcdefxABCDEFX."):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except (OSError, ValueError):
        return None


class AddressRefused(OSError):
    """A delivery target resolved to an address the guard does not connect to.

    An ``OSError`` so aiohttp treats it like any connection failure; it arrives as the
    ``os_error`` (and ``__cause__``) of a ``ClientConnectorError``.
    """

    def __init__(self, host: str, reason: str) -> None:
        # EACCES: refused by policy, not a network failure worth retrying soon.
        super().__init__(errno.EACCES, f"refusing to connect to {host}: {reason}")
        self.host = host
        self.reason = reason

    def __str__(self) -> str:  # without OSError's "[Errno 13]" prefix: it is shown to users
        return f"refusing to connect to {self.host}: {self.reason}"


def _check(host: str, address: str, *, allow_private: bool) -> None:
    try:
        parsed: IPAddress = ipaddress.ip_address(address)
    except ValueError:
        raise AddressRefused(host, f"unparseable address {address!r}") from None
    reason = address_refusal(parsed, allow_private=allow_private)
    if reason is not None:
        raise AddressRefused(host, f"{address} is {reason}")


class GuardedResolver(AbstractResolver):
    """Resolves with ``inner`` and refuses the answer if any address in it is refused.

    Refuse rather than filter: a name that mixes public and internal addresses is
    an attack or a misconfiguration, and neither should get a delivery.
    """

    def __init__(self, *, allow_private: bool, inner: AbstractResolver | None = None) -> None:
        self._allow_private = allow_private
        # Like aiohttp: close the inner resolver only if we made it; a caller's is theirs.
        self._owns_inner = inner is None
        self._inner = inner if inner is not None else aiohttp.ThreadedResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            _check(host, result["host"], allow_private=self._allow_private)
        return results

    async def close(self) -> None:
        if self._owns_inner:
            await self._inner.close()


class GuardedConnector(aiohttp.TCPConnector):
    """A ``TCPConnector`` that also guards IP-literal hosts, which skip the resolver."""

    def __init__(
        self,
        *,
        allow_private: bool,
        resolver: AbstractResolver | None = None,
        limit: int = 0,
        limit_per_host: int = 0,
    ) -> None:
        self._allow_private = allow_private
        guarded = GuardedResolver(allow_private=allow_private, inner=resolver)
        super().__init__(
            resolver=guarded,
            limit=limit,
            limit_per_host=limit_per_host,
            socket_factory=self._guarded_socket,
        )
        # aiohttp does not close a resolver it was given; this one is ours to close.
        self._guarded_resolver = guarded

    async def close(self, *, abort_ssl: bool = False) -> None:
        await super().close(abort_ssl=abort_ssl)
        await self._guarded_resolver.close()

    async def _resolve_host(
        self, host: str, port: int, traces: Sequence[Trace] | None = None
    ) -> list[ResolveResult]:
        # aiohttp returns IP literals as they are, without the resolver, and rejects
        # non-canonical numeric forms with its own error; check literals first so
        # every internal target fails the same way, with AddressRefused.
        literal = literal_address(host)
        if literal is not None:
            reason = address_refusal(literal, allow_private=self._allow_private)
            if reason is not None:
                raise AddressRefused(host, f"{literal} is {reason}")
        return await super()._resolve_host(host, port, traces)

    def _guarded_socket(self, addr_info: aiohttp.AddrInfoType) -> socket.socket:
        # Called by aiohttp (public socket_factory hook) for the exact address it is
        # about to connect() to: whatever path produced it, it is checked here.
        family, type_, proto, _, sockaddr = addr_info
        _check(str(sockaddr[0]), str(sockaddr[0]), allow_private=self._allow_private)
        return socket.socket(family=family, type=type_, proto=proto)


def guarded_connector(
    allow_private: bool,
    resolver: AbstractResolver | None = None,
    *,
    limit: int = 0,
    limit_per_host: int = 0,
) -> aiohttp.TCPConnector:
    """A pooled (keep-alive) connector that only connects to allowed addresses.

    ``resolver`` is the inner resolver (default: the system resolver in a thread);
    as with aiohttp, a resolver passed in stays the caller's to close.
    ``limit=0`` means no global cap; ``limit_per_host`` caps one destination.
    """
    return GuardedConnector(
        allow_private=allow_private,
        resolver=resolver,
        limit=limit,
        limit_per_host=limit_per_host,
    )
