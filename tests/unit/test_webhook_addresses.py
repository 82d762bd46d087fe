"""The address classification shared by the save-time and connect-time SSRF checks."""

from __future__ import annotations

import ipaddress

import pytest

from tests.support import FakeResolver
from vozagent.webhooks.addresses import (
    AddressRefused,
    GuardedResolver,
    address_refusal,
    literal_address,
)
from vozagent.webhooks.urls import url_problem

REFUSED, ALLOWED = True, False

# address, refused without allow_private, refused with allow_private
ADDRESSES = [
    # refused unless private targets are allowed
    ("10.0.0.1", REFUSED, ALLOWED),
    ("172.16.0.1", REFUSED, ALLOWED),
    ("192.168.1.1", REFUSED, ALLOWED),
    ("100.64.0.1", REFUSED, ALLOWED),
    ("127.0.0.1", REFUSED, ALLOWED),
    ("127.255.255.254", REFUSED, ALLOWED),
    ("::1", REFUSED, ALLOWED),
    ("fc00::1", REFUSED, ALLOWED),
    ("fd12:3456::1", REFUSED, ALLOWED),
    ("fec0::1", REFUSED, ALLOWED),
    ("198.18.0.1", REFUSED, ALLOWED),
    ("192.0.2.1", REFUSED, ALLOWED),
    ("203.0.113.7", REFUSED, ALLOWED),
    ("2001:db8::1", REFUSED, ALLOWED),
    ("64:ff9b:1::1", REFUSED, ALLOWED),
    # IPv4 embedded in IPv6: the IPv4 address decides
    ("::ffff:127.0.0.1", REFUSED, ALLOWED),
    ("::ffff:10.0.0.1", REFUSED, ALLOWED),
    ("::127.0.0.1", REFUSED, ALLOWED),
    ("2002:7f00:1::", REFUSED, ALLOWED),
    ("2002:0a00:1::", REFUSED, ALLOWED),
    ("64:ff9b::7f00:1", REFUSED, ALLOWED),
    ("64:ff9b::a00:1", REFUSED, ALLOWED),
    # always refused
    ("fe80::1", REFUSED, REFUSED),
    ("fe80::1%eth0", REFUSED, REFUSED),
    ("169.254.0.1", REFUSED, REFUSED),
    ("169.254.169.254", REFUSED, REFUSED),
    ("fd00:ec2::254", REFUSED, REFUSED),
    ("100.100.100.200", REFUSED, REFUSED),
    ("::ffff:169.254.169.254", REFUSED, REFUSED),
    ("2002:a9fe:a9fe::", REFUSED, REFUSED),
    ("64:ff9b::a9fe:a9fe", REFUSED, REFUSED),
    # Teredo whose (obfuscated) client is 169.254.169.254
    ("2001:0:4136:e378:8000:63bf:5601:5601", REFUSED, REFUSED),
    ("0.0.0.0", REFUSED, REFUSED),
    ("0.1.2.3", REFUSED, REFUSED),
    ("::", REFUSED, REFUSED),
    ("::ffff:0.0.0.0", REFUSED, REFUSED),
    ("224.0.0.1", REFUSED, REFUSED),
    ("239.255.255.250", REFUSED, REFUSED),
    ("ff02::1", REFUSED, REFUSED),
    ("255.255.255.255", REFUSED, REFUSED),
    ("240.0.0.1", REFUSED, REFUSED),
    # public
    ("8.8.8.8", ALLOWED, ALLOWED),
    ("1.1.1.1", ALLOWED, ALLOWED),
    ("2606:4700::1111", ALLOWED, ALLOWED),
    ("::ffff:8.8.8.8", ALLOWED, ALLOWED),
    ("2002:808:808::", ALLOWED, ALLOWED),
    ("64:ff9b::808:808", ALLOWED, ALLOWED),
]


@pytest.mark.parametrize(("address", "refused", "refused_when_private_allowed"), ADDRESSES)
def test_address_classification(
    address: str, refused: bool, refused_when_private_allowed: bool
) -> None:
    parsed = ipaddress.ip_address(address)
    assert (address_refusal(parsed, allow_private=False) is not None) is refused
    assert (address_refusal(parsed, allow_private=True) is not None) is (
        refused_when_private_allowed
    )


def test_reasons_are_specific() -> None:
    def reason(address: str, allow_private: bool = False) -> str | None:
        return address_refusal(ipaddress.ip_address(address), allow_private=allow_private)

    assert reason("169.254.169.254", True) == "a cloud metadata address"
    assert reason("fe80::1", True) == "a link-local address"
    assert reason("::ffff:127.0.0.1") == "a loopback address"
    assert reason("100.64.0.1") == "a shared (CGNAT) address"
    assert reason("10.0.0.1") == "a private address"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("2130706433", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:127.0.0.1"),
        ("example.com", None),
        ("localhost", None),
        ("cafe.1", None),
        ("1.2.3.4 x", None),
        ("", None),
    ],
)
def test_literal_address(host: str, expected: str | None) -> None:
    address = literal_address(host)
    assert (None if address is None else str(address)) == (
        None if expected is None else str(ipaddress.ip_address(expected))
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://2130706433/",
        "http://0x7f.1/",
        "http://0x7f000001/",
        "http://0X7F.0.0.1/",
        "http://017700000001/",
        "http://0177.0.0.1/",
        "http://127.1/",
        "http://127.0.0.1./",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[2002:7f00:1::]/",
        "http://[64:ff9b::7f00:1]/",
        "http://[::1]/",
        "http://0/",
        "http://167772161/",  # 10.0.0.1
        "http://localhost/",
        "http://foo.localhost/",
    ],
)
def test_odd_encodings_are_refused_at_save(url: str) -> None:
    assert url_problem(url, allow_http=True, allow_private=False) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",  # 169.254.169.254
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://[::ffff:169.254.169.254]/",
        "http://[fd00:ec2::254]/",
        "http://100.100.100.200/",
        "http://[fe80::1]/",
        "http://[fe80::1%25eth0]/",
        "http://0.0.0.0/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
    ],
)
def test_metadata_and_link_local_are_refused_at_save_even_when_private_is_allowed(
    url: str,
) -> None:
    assert url_problem(url, allow_http=True, allow_private=True) is not None


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://2130706433/",
        "http://10.0.0.1/",
        "http://[::1]/",
        "http://localhost/",
        "http://internal.example/",
    ],
)
def test_private_targets_are_accepted_at_save_when_allowed(url: str) -> None:
    assert url_problem(url, allow_http=True, allow_private=True) is None


def test_public_literals_are_accepted_at_save() -> None:
    assert url_problem("https://8.8.8.8/", allow_http=False, allow_private=False) is None
    assert url_problem("https://134744072/", allow_http=False, allow_private=False) is None
    assert url_problem("https://[2606:4700::1111]/", allow_http=False, allow_private=False) is None


async def test_guarded_resolver_refuses_a_mixed_answer_instead_of_filtering_it() -> None:
    inner = FakeResolver(
        {
            "public.test": ["8.8.8.8", "2606:4700::1111"],
            "mixed.test": ["8.8.8.8", "10.0.0.1"],
            "metadata.test": ["127.0.0.1", "169.254.169.254"],
        }
    )
    resolver = GuardedResolver(allow_private=False, inner=inner)
    assert [r["host"] for r in await resolver.resolve("public.test", 443)] == [
        "8.8.8.8",
        "2606:4700::1111",
    ]
    with pytest.raises(AddressRefused, match="10.0.0.1 is a private address") as refused:
        await resolver.resolve("mixed.test", 443)
    assert refused.value.host == "mixed.test"
    assert refused.value.reason == "10.0.0.1 is a private address"
    assert str(refused.value) == "refusing to connect to mixed.test: 10.0.0.1 is a private address"

    permissive = GuardedResolver(allow_private=True, inner=inner)
    with pytest.raises(AddressRefused, match="cloud metadata"):
        await permissive.resolve("metadata.test", 80)
    await resolver.close()
    await permissive.close()
