"""ID numbers at rest: Fernet (AES-128-CBC + HMAC-SHA256) from `cryptography`.

ID_ENCRYPTION_KEYS holds one or more keys, newest first: MultiFernet encrypts with the first
and decrypts with any, so a key can be rotated without re-writing old rows at once.
"""

from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in settings.ID_ENCRYPTION_KEYS])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode("ascii")


def decrypt(token: str) -> str:
    """The plaintext; raises InvalidToken when no configured key opens it."""
    return _fernet().decrypt(token.encode("ascii")).decode()


def uses_demo_key() -> bool:
    return settings.DEMO_ID_ENCRYPTION_KEY in settings.ID_ENCRYPTION_KEYS


__all__ = ["InvalidToken", "decrypt", "encrypt", "uses_demo_key"]
