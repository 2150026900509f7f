"""Audit records: the domain model, the columns of seed 001 (in its order) and the audit-sentinel fields of seed 003."""

from __future__ import annotations

import json
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Seed 001's CSV header, in its order, then seed 003's fields (appended, so seed 001's positions never move).
# The JSON records use the same keys.
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
    "eventType",
    "subType",
    "systemSource",
    "auditeeId",
    "metadata",
)

# Seed 003's documented metadata filter keys: metadata[<key>]=<value>.
METADATA_KEYS: tuple[str, ...] = (
    "entity_id",
    "assessment_id",
    "task_id",
    "workflow_instance_id",
    "screening_application_id",
    "screening_config_id",
    "match_id",
    "inquiry_id",
    "tag",
    "cache_id",
    "workflow_step",
)

# Seed 003's repeatable filters (query parameter -> record field); any of the given values matches.
AUDIT_LIST_FILTERS: dict[str, str] = {
    "event_type": "eventType",
    "sub_type": "subType",
    "system_source": "systemSource",
    "auditee_id": "auditeeId",
}

# Added to csv/json/jsonl only when the request gives `locale` or `timezone`: the record's time, human-readable.
LOCAL_TIME_COLUMN = "localTime"


class AuditFileType(StrEnum):
    """What the audit export can produce: the machine-readable formats, and a PDF report (seed 003)."""

    CSV = "csv"
    JSON = "json"
    JSONL = "jsonl"
    PDF = "pdf"


def encode_metadata(metadata: dict[str, str]) -> str:
    """The one text form of a record's metadata: JSON with sorted keys, compact; empty when there is none."""
    if not metadata:
        return ""
    return json.dumps(metadata, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


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
    eventType: str = ""  # noqa: N815 - seed 003's event_type
    subType: str = ""  # noqa: N815 - seed 003's sub_type
    systemSource: str = ""  # noqa: N815 - seed 003's system_source
    auditeeId: str = ""  # noqa: N815 - seed 003's auditee_id: who caused the event
    metadata: str = ""  # JSON object of seed 003's metadata keys, sorted (encode_metadata)


class NewAuditRecord(BaseModel):
    """What a writer supplies: the record without its checksum, with a real datetime and metadata as a mapping."""

    id: str = Field(min_length=1, max_length=200)
    timestamp: datetime
    action: str = Field(min_length=1)
    user: str = Field(min_length=1)
    role: str = ""
    resource: str = ""
    resourceType: str = ""  # noqa: N815
    namespace: str = ""
    sourceIP: str = ""  # noqa: N815
    eventType: str = ""  # noqa: N815
    subType: str = ""  # noqa: N815
    systemSource: str = ""  # noqa: N815
    auditeeId: str = ""  # noqa: N815
    metadata: dict[str, str] = {}

    @field_validator("metadata")
    @classmethod
    def _documented_keys(cls, value: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(value) - set(METADATA_KEYS))
        if unknown:
            raise ValueError(f"metadata keys {unknown} are not among {METADATA_KEYS}")
        return value
