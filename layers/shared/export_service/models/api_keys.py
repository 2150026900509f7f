"""API keys and permissions."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import BaseModel, Field, field_validator

TENANT_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class Permission(StrEnum):
    INCIDENTS_READ = "INCIDENTS_READ"
    AUDIT_READ = "AUDIT_READ"
    EXPORTS_READ = "EXPORTS_READ"
    EXPORTS_WRITE = "EXPORTS_WRITE"
    # the data-observability catalog: its sources, validators and catalog assets (incident groups need
    # INCIDENTS_READ); running a validator's debug SQL needs INCIDENTS_WRITE and SQL_EXECUTION_WRITE
    SOURCES_READ = "SOURCES_READ"
    VALIDATORS_READ = "VALIDATORS_READ"
    CATALOG_ASSETS_READ = "CATALOG_ASSETS_READ"
    INCIDENTS_WRITE = "INCIDENTS_WRITE"
    SQL_EXECUTION_WRITE = "SQL_EXECUTION_WRITE"


class ApiKey(BaseModel):
    """A stored key: only the hash of its secret is ever kept."""

    key_id: str
    tenant_id: str
    secret_hash: str
    permissions: frozenset[Permission]
    name: str = ""
    created_at: str
    revoked_at: str | None = None
    # The value of the API Gateway API key, in the stage's usage plan, that API Gateway meters this key's requests
    # under (the authorizer's usageIdentifierKey): one per tenant, so a tenant's keys share its rate limit. Empty for
    # keys minted without a usage plan: they share the stack's fallback identifier (FALLBACK_USAGE_KEY).
    usage_key: str = Field(default="", repr=False)

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, value: str) -> str:
        if not TENANT_PATTERN.match(value):
            raise ValueError("tenant ids are 1-63 characters: lowercase letters, digits and '-'")
        return value

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


class Principal(BaseModel):
    """Who is calling, as the authorizer established it. Handlers trust nothing else."""

    tenant_id: str
    key_id: str
    permissions: frozenset[Permission] = Field(default_factory=frozenset)
