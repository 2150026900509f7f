"""API keys: minting, hashing, reading credentials from headers, authenticating, authorising."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Protocol

from export_service.errors import ForbiddenError, UnauthorizedError
from export_service.logic.credentials import (  # re-exported: the authorizer checks keys without pydantic
    KEY_ID_PATTERN,
    SEPARATORS,
    authenticate_key,
    hash_secret,
    read_credentials,
)
from export_service.models.api_keys import ApiKey, Permission, Principal
from export_service.timefmt import format_instant

__all__ = ["KEY_ID_PATTERN", "authenticate_key", "hash_secret", "read_credentials"]
_SEPARATORS = SEPARATORS


class ApiKeyReader(Protocol):
    def get(self, key_id: str) -> ApiKey | None: ...


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


def authenticate(headers: Mapping[str, str], keys: ApiKeyReader) -> Principal:
    key = authenticate_key(headers, keys)
    return Principal(tenant_id=key.tenant_id, key_id=key.key_id, permissions=key.permissions)


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
