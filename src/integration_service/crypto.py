"""Sessions encrypted at rest: a Telethon ``StringSession`` string is a full login, so it is stored only
as a Fernet token (AES-128-CBC + HMAC-SHA256) under ``INTEGRATION_SESSION_KEY``."""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken


class SessionKeyError(Exception):
    """The key cannot open a stored session, or is not a key at all."""


class SessionCipher:
    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode("ascii"))
        except (ValueError, UnicodeEncodeError) as exc:
            raise SessionKeyError(
                "INTEGRATION_SESSION_KEY is not a Fernet key (urlsafe base64 of 32 bytes; "
                "make one with `integration-service keygen`)"
            ) from exc

    @staticmethod
    def generate_key() -> str:
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, session: str) -> bytes:
        return self._fernet.encrypt(session.encode("utf-8"))

    def decrypt(self, ciphertext: bytes) -> str:
        try:
            return self._fernet.decrypt(ciphertext).decode("utf-8")
        except InvalidToken as exc:
            raise SessionKeyError(
                "the session key does not match the one the session was stored with "
                "(INTEGRATION_SESSION_KEY changed?); log the account in again or restore the key"
            ) from exc
