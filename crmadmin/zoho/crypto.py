"""Encryption at rest for the secrets a connection holds (client secret, tokens).

Keys come from ``settings.CRMADMIN_ENCRYPTION_KEYS``: the first key encrypts, every key
decrypts. To rotate: put the new key first, keep the old one after it, run
``manage.py rotate_encryption_key`` (re-encrypts every stored secret with the first key),
then drop the old key.
"""

from functools import cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

PREFIX = "fernet:"


@cache
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    try:
        return MultiFernet([Fernet(key.encode()) for key in keys])
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            "CRMADMIN_ENCRYPTION_KEYS must hold Fernet keys (32 url-safe base64 bytes each)"
        ) from exc


def fernet() -> MultiFernet:
    return _fernet(tuple(settings.CRMADMIN_ENCRYPTION_KEYS))


def encrypt(plaintext: str) -> str:
    if not plaintext:
        return ""
    return PREFIX + fernet().encrypt(plaintext.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored:
        return ""
    if not stored.startswith(PREFIX):
        raise ValueError("stored secret is not encrypted")
    try:
        return fernet().decrypt(stored[len(PREFIX) :].encode()).decode()
    except InvalidToken:
        raise ValueError("stored secret cannot be decrypted with the configured keys") from None


def rotate(stored: str) -> str:
    """Re-encrypt ``stored`` with the first (current) key."""
    if not stored:
        return ""
    return PREFIX + fernet().rotate(stored[len(PREFIX) :].encode()).decode()


class EncryptedTextField(models.TextField):
    """A text field whose value is encrypted in the database and plain in Python."""

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else value

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else value

    def to_python(self, value):
        # A fixture written by dumpdata holds the ciphertext (see value_to_string).
        if isinstance(value, str) and value.startswith(PREFIX):
            return decrypt(value)
        return value

    def value_to_string(self, obj) -> str:
        # dumpdata and every other serializer write what the database holds, never the secret.
        return encrypt(self.value_from_object(obj))
