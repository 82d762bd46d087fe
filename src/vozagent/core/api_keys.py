"""API key format: ``gw_`` + 8-char public id + 32-char secret + 6-char checksum.

The public id (base62) is stored in clear and used for lookup; only a SHA-256 of the
whole key is stored. The CRC32 checksum lets us (and secret scanners) reject a
mistyped or forged key before touching the database. 40 random base62 characters
carry about 238 bits of entropy, so a fast hash is enough (no KDF needed).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
import zlib
from dataclasses import dataclass

PREFIX = "gw_"
_ALPHABET = string.digits + string.ascii_letters  # base62
PUBLIC_ID_LEN = 8
SECRET_LEN = 32
CHECKSUM_LEN = 6
KEY_RE = re.compile(rf"^gw_[0-9A-Za-z]{{{PUBLIC_ID_LEN + SECRET_LEN + CHECKSUM_LEN}}}$")


@dataclass(frozen=True, slots=True)
class GeneratedKey:
    plaintext: str
    public_id: str
    key_hash: str
    last_four: str


def _random_base62(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, rem = divmod(number, 62)
        digits.append(_ALPHABET[rem])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode()), CHECKSUM_LEN)


def hash_key(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def generate() -> GeneratedKey:
    body = _random_base62(PUBLIC_ID_LEN + SECRET_LEN)
    plaintext = f"{PREFIX}{body}{_checksum(body)}"
    return GeneratedKey(
        plaintext=plaintext,
        public_id=body[:PUBLIC_ID_LEN],
        key_hash=hash_key(plaintext),
        last_four=plaintext[-4:],
    )


def parse_public_id(candidate: str) -> str | None:
    """The public id of a well-formed key whose checksum matches, else ``None``."""
    if not KEY_RE.match(candidate):
        return None
    body = candidate[len(PREFIX) : -CHECKSUM_LEN]
    if not secrets.compare_digest(_checksum(body), candidate[-CHECKSUM_LEN:]):
        return None
    return body[:PUBLIC_ID_LEN]


def mask(last_four: str) -> str:
    """The dashboard preview: ``gw_`` + dots + the last characters."""
    return f"{PREFIX}{'•' * 8}{last_four}"
