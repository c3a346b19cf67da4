"""Encryption at rest for secrets kept in the database (API keys, plugin secrets).

The key comes from ENCRYPTION_KEY (a Fernet key). Without it, one is derived from SECRET_KEY, so
a demo works out of the box; production should set ENCRYPTION_KEY so SECRET_KEY can rotate.
"""

import base64
import hashlib
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings


@cache
def _fernet(key: str) -> Fernet:
    if settings.ENCRYPTION_KEY:
        return Fernet(settings.ENCRYPTION_KEY.encode())
    derived = hashlib.sha256(b"helpdesk-encryption:" + key.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return _fernet(settings.SECRET_KEY).encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    """The plaintext, or "" when the value cannot be decrypted (e.g. the key changed)."""
    if not ciphertext:
        return ""
    try:
        return _fernet(settings.SECRET_KEY).decrypt(ciphertext.encode()).decode()
    except InvalidToken:
        return ""
