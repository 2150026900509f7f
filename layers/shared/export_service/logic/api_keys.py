"""API keys: minting, hashing, reading credentials from headers, authenticating, authorising."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from export_service.errors import ForbiddenError, UnauthorizedError
from export_service.models.api_keys import ApiKey, Permission, Principal
from export_service.timefmt import format_instant

KEY_ID_PATTERN = re.compile(r"^ak_[A-Za-z0-9_]{4,64}$")
_SEPARATORS = (".", ":")


class ApiKeyReader(Protocol):
    def get(self, key_id: str) -> ApiKey | None: ...


def hash_secret(secret: str) -> str:
    # Secrets are 256-bit random strings, so a fast hash is as strong as a slow KDF would be (as GitHub tokens).
    return "sha256:" + hashlib.sha256(secret.encode("utf-8")).hexdigest()


def mint_api_key(
    tenant_id: str,
    permissions: Iterable[Permission],
    now: datetime,
    name: str = "",
    key_id: str | None = None,
    secret: str | None = None,
) -> tuple[ApiKey, str]:
    """A new key and its token ``<key-id>.<secret>``; the token is returned once and never stored."""
    key_id = key_id or "ak_" + secrets.token_hex(8)
    secret = secret or secrets.token_urlsafe(32)
    if not KEY_ID_PATTERN.match(key_id):
        raise ValueError(f"key id {key_id!r} must match {KEY_ID_PATTERN.pattern}")
    if any(sep in secret for sep in _SEPARATORS) or len(secret) < 16:
        raise ValueError("a secret has at least 16 characters and no '.' or ':'")
    key = ApiKey(
        key_id=key_id,
        tenant_id=tenant_id,
        secret_hash=hash_secret(secret),
        permissions=frozenset(permissions),
        name=name,
        created_at=format_instant(now),
    )
    return key, f"{key_id}.{secret}"


def _parse_token(token: str) -> tuple[str, str] | None:
    for separator in _SEPARATORS:
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


def authenticate(headers: Mapping[str, str], keys: ApiKeyReader) -> Principal:
    key = authenticate_key(headers, keys)
    return Principal(tenant_id=key.tenant_id, key_id=key.key_id, permissions=key.permissions)


def authenticate_key(headers: Mapping[str, str], keys: ApiKeyReader) -> ApiKey:
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


def require_permission(principal: Principal, permission: Permission) -> None:
    if permission not in principal.permissions:
        raise ForbiddenError(f"this API key lacks the {permission.value} permission")


def principal_to_context(principal: Principal) -> dict[str, str]:
    """The authorizer context (API Gateway allows only flat string, number and boolean values)."""
    return {
        "tenantId": principal.tenant_id,
        "keyId": principal.key_id,
        "permissions": ",".join(sorted(p.value for p in principal.permissions)),
    }


def principal_from_context(context: Mapping[str, object] | None) -> Principal:
    """Handlers learn who calls only from the authorizer's context; without it nobody is authenticated."""
    if not context or not context.get("tenantId") or not context.get("keyId"):
        raise UnauthorizedError("request was not authorised")
    names = [name for name in str(context.get("permissions", "")).split(",") if name]
    permissions = frozenset(Permission(name) for name in names if name in Permission.__members__)
    return Principal(tenant_id=str(context["tenantId"]), key_id=str(context["keyId"]), permissions=permissions)
