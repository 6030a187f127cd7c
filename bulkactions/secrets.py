"""Encryption of the passwords an import sets, kept only until its credentials page expires.

Fernet (AES-128-CBC + HMAC) from `cryptography`, keyed by FIELD_ENCRYPTION_KEY, so a
database dump alone never reveals a student's first password.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def secret_seal(value: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(value.encode()).decode()


def secret_open(sealed: str) -> str:
    """The sealed value, or "" when it cannot be read (key rotated, value cleared)."""
    if not sealed:
        return ""
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(sealed.encode()).decode()
    except InvalidToken:
        return ""
