from __future__ import annotations

import pytest

from vozagent.core import api_keys

pytestmark = pytest.mark.unit


def test_ten_thousand_keys_are_unique_well_formed_and_checksummed() -> None:
    keys = [api_keys.generate() for _ in range(10_000)]
    assert len({k.plaintext for k in keys}) == 10_000
    assert len({k.public_id for k in keys}) == 10_000
    for key in keys:
        assert api_keys.KEY_RE.match(key.plaintext)
        assert api_keys.parse_public_id(key.plaintext) == key.public_id
        assert key.key_hash == api_keys.hash_key(key.plaintext)
        assert key.plaintext.startswith("gw_")


def test_any_single_character_change_is_rejected_offline() -> None:
    key = api_keys.generate().plaintext
    rejected = 0
    for position in range(3, len(key)):
        replacement = "a" if key[position] != "a" else "b"
        forged = key[:position] + replacement + key[position + 1 :]
        rejected += api_keys.parse_public_id(forged) is None
    # CRC32 catches every single-character substitution.
    assert rejected == len(key) - 3


@pytest.mark.parametrize(
    "candidate", ["", "gw_", "sk_live_abc", "gw_" + "a" * 45, "gw_" + "!" * 46]
)
def test_malformed_keys(candidate: str) -> None:
    assert api_keys.parse_public_id(candidate) is None


def test_mask_shows_only_the_tail() -> None:
    key = api_keys.generate()
    masked = api_keys.mask(key.last_four)
    assert masked.startswith("gw_") and masked.endswith(key.plaintext[-4:])
    assert key.plaintext[3:20] not in masked
