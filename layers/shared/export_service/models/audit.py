"""Audit records: the domain model and the columns of seed 001, in its order."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

# Seed 001's CSV header, in its order. The JSON records use the same keys.
AUDIT_COLUMNS: tuple[str, ...] = (
    "id",
    "timestamp",
    "action",
    "user",
    "role",
    "resource",
    "resourceType",
    "namespace",
    "sourceIP",
    "checksum",
)


class AuditRecord(BaseModel):
    """One audit record as callers see it (all values are strings; timestamp is ISO 8601 UTC, ms)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    id: str = Field(min_length=1, max_length=200)
    timestamp: str
    action: str = Field(min_length=1)
    user: str = Field(min_length=1)
    role: str = ""
    resource: str = ""
    resourceType: str = ""  # noqa: N815 - the seed's column name
    namespace: str = ""
    sourceIP: str = ""  # noqa: N815 - the seed's column name
    checksum: str = ""


class NewAuditRecord(BaseModel):
    """What a writer supplies: the record without its checksum, with a real datetime."""

    id: str = Field(min_length=1, max_length=200)
    timestamp: datetime
    action: str = Field(min_length=1)
    user: str = Field(min_length=1)
    role: str = ""
    resource: str = ""
    resourceType: str = ""  # noqa: N815
    namespace: str = ""
    sourceIP: str = ""  # noqa: N815
