"""Symmetric encryption for secrets we must read back (webhook signing secrets).

API keys are hashed; webhook secrets cannot be (we sign with them), so they are
encrypted with Fernet (AES-128-CBC + HMAC-SHA256) under the server's master key.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    def __init__(self, master_key: str) -> None:
        self._fernet = Fernet(master_key.encode())
        self._master = master_key.encode()

    def derive_key(self, purpose: str) -> bytes:
        """A key for one purpose (e.g. signing media URLs), stable across processes."""
        return hmac.new(self._master, purpose.encode(), hashlib.sha256).digest()

    @staticmethod
    def generate_master_key() -> str:
        return Fernet.generate_key().decode()

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:  # wrong master key: never leak the token itself
            raise ValueError("secret cannot be decrypted with this master key") from exc
