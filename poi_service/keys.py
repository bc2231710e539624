"""API keys: `poi_<id>_<secret>`, stored as a SHA-256 digest only, checked in constant time.

The secret is 32 random bytes (secrets.token_urlsafe), so a fast hash is enough: there is no
password to guess by brute force, and a slow KDF would only cost every write request time. The
id is public (it appears in logs and the history) and selects the stored digest, which is then
compared with hmac.compare_digest.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import Protocol

from poi_service.errors import invalid
from poi_service.models import KeyInfo, KeyRole

PREFIX = "poi"
KEY = re.compile(r"poi_([0-9a-f]{12})_([A-Za-z0-9_-]{43})")
MAX_NAME = 100


class KeyStore(Protocol):
    """The part of the Store that keeps keys."""

    def find_key(self, key_id: str) -> tuple[KeyInfo, str] | None: ...


def new_key() -> tuple[str, str]:
    """(key id, full key) of a fresh random key."""
    key_id = secrets.token_hex(6)
    return key_id, f"{PREFIX}_{key_id}_{secrets.token_urlsafe(32)}"


def digest(key: str) -> str:
    """The stored form of a key: SHA-256, hex."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_of(key: str) -> str | None:
    """The id part of a well-formed key, else None."""
    found = KEY.fullmatch(key.strip())
    return found[1] if found else None


def check_name(name: str) -> str:
    """A key's name: 1..100 printable characters."""
    name = name.strip()
    if not name or len(name) > MAX_NAME or not name.isprintable():
        raise invalid("name", f"must be 1..{MAX_NAME} printable characters")
    return name


def authenticate(store: KeyStore, key: str) -> KeyInfo | None:
    """The info of a valid, unrevoked key; None for anything else."""
    key_id = key_id_of(key)
    found = store.find_key(key_id) if key_id else None
    if found is None:
        return None
    info, stored = found
    if not hmac.compare_digest(stored, digest(key.strip())) or info.revoked_at is not None:
        return None
    return info


__all__ = ["KeyRole", "authenticate", "check_name", "digest", "key_id_of", "new_key"]
