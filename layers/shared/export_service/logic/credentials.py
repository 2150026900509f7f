"""Credentials: reading an API key from a request's headers and checking it against the stored key.

Imports nothing but the standard library and the domain errors: the authorizer, which runs before every request,
checks keys with it without loading pydantic (logic/api_keys.py builds the models on top of it)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from typing import Protocol, TypeVar

from export_service.errors import UnauthorizedError

KEY_ID_PATTERN = re.compile(r"^ak_[A-Za-z0-9_]{4,64}$")
SEPARATORS = (".", ":")


class StoredKey(Protocol):
    """What checking a key reads of the stored key (an ApiKey, or the authorizer's KeyRecord)."""

    @property
    def secret_hash(self) -> str: ...

    @property
    def revoked(self) -> bool: ...


Key_co = TypeVar("Key_co", bound=StoredKey, covariant=True)
Key = TypeVar("Key", bound=StoredKey)


class KeyReader(Protocol[Key_co]):
    def get(self, key_id: str) -> Key_co | None: ...


def hash_secret(secret: str) -> str:
    # Secrets are 256-bit random strings, so a fast hash is as strong as a slow KDF would be (as GitHub tokens).
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _parse_token(token: str) -> tuple[str, str] | None:
    for separator in SEPARATORS:
        key_id, found, secret = token.partition(separator)
        if found and KEY_ID_PATTERN.match(key_id) and secret:
            return key_id, secret
    return None


def read_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    """``Authorization: <key-id>:<secret>``, ``Authorization: Bearer <token>`` or ``apikey: <token>``.

    Every credential header sent must name the same key and secret: an ``apikey`` and an ``Authorization`` that
    disagree (or one of them malformed) are no credentials at all (401), never the one that happens to be valid."""
    lowered = {name.lower(): value for name, value in headers.items() if value is not None}
    tokens = []
    apikey = lowered.get("apikey", "").strip()
    if apikey:
        tokens.append(apikey)
    auth = lowered.get("authorization", "").strip()
    if auth:
        scheme, _, rest = auth.partition(" ")
        tokens.append(rest.strip() if scheme.lower() == "bearer" else auth)
    found = {_parse_token(token) for token in tokens}
    if len(found) != 1 or None in found:
        return None
    return found.pop()


def authenticate_key(headers: Mapping[str, str], keys: KeyReader[Key]) -> Key:
    """The stored key the request's credentials name, if they are valid; else UnauthorizedError."""
    credentials = read_credentials(headers)
    if credentials is None:
        raise UnauthorizedError("missing or malformed API key")
    key_id, secret = credentials
    key = keys.get(key_id)
    # Compare even when the key is unknown so timing does not tell which key ids exist.
    expected = key.secret_hash if key else hash_secret(secrets.token_urlsafe(32))
    if not hmac.compare_digest(expected, hash_secret(secret)) or key is None or key.revoked:
        raise UnauthorizedError("invalid or revoked API key")
    return key
