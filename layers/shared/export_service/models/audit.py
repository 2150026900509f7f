"""Audit records: the domain model, the audit log's documented columns (in their order), then the audit-event fields."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator, model_validator

from export_service.errors import InvalidParameterError
from export_service.models.export import ExportFormat, ManifestOption, pick_one

# The audit log's documented CSV header, in its order, then the audit-event fields (appended, so the first
# columns never move).
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

AUDIT_LOG_COLUMNS = AUDIT_COLUMNS[:10]  # the audit log's documented columns alone (id ... checksum)
# The audit-event export's documented metadata filter keys: metadata[<key>]=<value>.
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

# The audit-event export's repeatable filters (query parameter -> record field); any of the given values matches.
AUDIT_LIST_FILTERS: dict[str, str] = {
    "event_type": "eventType",
    "sub_type": "subType",
    "system_source": "systemSource",
    "auditee_id": "auditeeId",
}

# Added to csv/json/jsonl only when the request gives `locale` or `timezone`: the record's time, human-readable.
LOCAL_TIME_COLUMN = "localTime"


_ISO = "ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z (no offset means UTC)"
_ANY = "repeated or comma-separated; any of the values matches; an unknown value matches nothing"
_META = "Metadata filter: records whose metadata has this exact value for the key"
AuditFormat = Literal["csv", "json", "jsonl", "pdf"]


class _AuditExportParameters(ManifestOption):
    format: AuditFormat | None = Field(None, description="csv (default), json, jsonl or pdf")
    file_type: AuditFormat | None = Field(None, description="Synonym of 'format'")
    from_: str | None = Field(None, alias="from", description=f"Start, {_ISO}")
    to: str | None = Field(None, description=f"End (default: now), {_ISO}")
    range_start: str | None = Field(None, description="Synonym of 'from'")
    range_end: str | None = Field(None, description="Synonym of 'to'")
    action: str | None = Field(None, description="Exact action, e.g. runbook.create")
    user: str | None = Field(None, description="Exact user, e.g. admin@example.com")
    namespace: str | None = Field(None, description="Exact namespace, e.g. production")
    event_type: list[str] | None = Field(None, description=f"Event types, e.g. runbook; {_ANY}")
    sub_type: list[str] | None = Field(None, description=f"Sub types, e.g. created; {_ANY}")
    system_source: list[str] | None = Field(None, description=f"System sources, e.g. runbook_service; {_ANY}")
    auditee_id: list[str] | None = Field(None, description=f"IDs of who caused the event; {_ANY}")
    locale: str | None = Field(None, description=f"Language of the PDF and of {LOCAL_TIME_COLUMN}: de, en, es, fr (en)")
    timezone: str | None = Field(
        None, description=f"IANA time zone of the PDF's dates and of {LOCAL_TIME_COLUMN} (UTC)"
    )
    bom: bool = Field(False, description="Start CSV with a UTF-8 byte order mark (for Excel)")

    @model_validator(mode="after")
    def _one_format(self) -> _AuditExportParameters:
        if self.format is not None and self.file_type is not None and self.format != self.file_type:
            raise InvalidParameterError("give either 'format' or 'file_type', not both", parameter="file_type")
        return self

    @property
    def fmt(self) -> ExportFormat:
        return ExportFormat(self.file_type or self.format or "csv")

    @property
    def format_parameter(self) -> str:
        """The name the caller gave the format by (errors about the format name it)."""
        return "file_type" if self.file_type is not None else "format"

    def start_bound(self) -> tuple[str, str] | None:
        return pick_one(("from", self.from_), ("range_start", self.range_start))

    def end_bound(self) -> tuple[str, str] | None:
        return pick_one(("to", self.to), ("range_end", self.range_end))

    def exact_filters(self) -> dict[str, str | None]:
        return {"action": self.action, "user": self.user, "namespace": self.namespace}

    def list_filters(self) -> dict[str, list[str] | None]:
        return {name: getattr(self, name) for name in AUDIT_LIST_FILTERS}

    def metadata_filters(self) -> dict[str, str | None]:
        """``metadata[<key>]`` parameters as key -> value (the fields are generated from METADATA_KEYS)."""
        return {key: getattr(self, metadata_field(key)) for key in METADATA_KEYS}

    def with_end(self, end: str) -> Self:
        """The same request with its end fixed (a job's every step reads the same rows), unless it has one."""
        return self if self.end_bound() else self.model_copy(update={"to": end})


def metadata_parameter(key: str) -> str:
    """The query parameter of a metadata key: ``metadata[entity_id]``."""
    return f"metadata[{key}]"


def metadata_field(key: str) -> str:
    return f"metadata_{key}"


# One optional parameter per documented metadata key, named metadata[<key>].
_METADATA_FIELDS: dict[str, Any] = {
    metadata_field(key): (str | None, Field(None, alias=metadata_parameter(key), description=_META))
    for key in METADATA_KEYS
}
if TYPE_CHECKING:  # the generated fields are read through metadata_filters(); the rest is the base's
    AuditExportQuery = _AuditExportParameters
else:
    AuditExportQuery = create_model(
        "AuditExportQuery",
        __base__=_AuditExportParameters,
        __doc__="The audit export's parameters (GET and the job that re-runs it).",
        **_METADATA_FIELDS,
    )


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
    resourceType: str = ""  # noqa: N815 - the documented column name
    namespace: str = ""
    sourceIP: str = ""  # noqa: N815 - the documented column name
    checksum: str = ""
    eventType: str = ""  # noqa: N815 - the audit-event export's event_type
    subType: str = ""  # noqa: N815 - the audit-event export's sub_type
    systemSource: str = ""  # noqa: N815 - the audit-event export's system_source
    auditeeId: str = ""  # noqa: N815 - the audit-event export's auditee_id: who caused the event
    metadata: str = ""  # JSON object of the audit-event export's metadata keys, sorted (encode_metadata)


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
