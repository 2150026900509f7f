"""Nightly incremental exports: the versioned sources (incident data, plus audit events), a tenant's setting (with
its file format) and the step payloads."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field, field_validator

from export_service.errors import InvalidParameterError
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.export import QueryModel
from export_service.models.incidents import DATASETS, Dataset

AUDIT_SOURCE = "text/csv+audit_event-20261122"


class NightlyFormat(StrEnum):
    """A tenant's nightly file format. The source names keep their ``text/csv+`` prefix whatever the format: they name
    the stream of rows (its columns and version); ``format``, the file's extension and its content type say what the
    file is."""

    CSV = "csv"  # the default
    PARQUET = "parquet"  # typed columns (logic/parquet_files.py), one file per source and night

    @property
    def extension(self) -> str:
        return self.value


def nightly_format(value: str | None, parameter: str = "format") -> NightlyFormat:
    """``value`` as a nightly format (None: csv); anything else is an error naming ``parameter``."""
    if value is None:
        return NightlyFormat.CSV
    try:
        return NightlyFormat(value)
    except ValueError:
        choices = ", ".join(fmt.value for fmt in NightlyFormat)
        raise InvalidParameterError(
            f"{parameter} must be one of {choices}, not {value!r}", parameter=parameter
        ) from None


@dataclass(frozen=True)
class NightlySource:
    name: str  # the versioned source name callers see, e.g. text/csv+incident-20220525
    dataset: Dataset | None  # None: the audit log
    columns: tuple[str, ...]
    order_column: str  # the time a row is exported for: updated_at (incident data) or timestamp (audit)
    read_permission: Permission  # listing the source's files (and so their links) needs it

    @property
    def slug(self) -> str:
        """``incident-20220525``: the part after ``text/csv+``, used in file names."""
        return self.name.split("+", 1)[1]


NIGHTLY_SOURCES: dict[str, NightlySource] = {
    spec.source: NightlySource(spec.source, dataset, spec.columns, "updated_at", Permission.INCIDENTS_READ)
    for dataset, spec in DATASETS.items()
}
NIGHTLY_SOURCES[AUDIT_SOURCE] = NightlySource(AUDIT_SOURCE, None, AUDIT_COLUMNS, "timestamp", Permission.AUDIT_READ)
SOURCE_NAMES: tuple[str, ...] = tuple(NIGHTLY_SOURCES)
# An export request's documented fields, in their order (the listing adds records and sha256).
REQUEST_FIELDS = ("id", "created_at", "window_starts_at", "window_ends_at", "source", "status", "url")
MIN_PAGE = len(SOURCE_NAMES)  # a page of the listing always holds whole nights
MAX_PAGE = 600


class ExportRequestsQuery(QueryModel):
    """GET /v1/export-requests."""

    newer_than: str | None = Field(
        None, description="ISO 8601 date-time (no offset means UTC); only reports created after it. Default: all"
    )
    limit: int = Field(300, ge=MIN_PAGE, le=MAX_PAGE, description=f"Most reports in one page ({MIN_PAGE}-{MAX_PAGE})")


class NightlyConfig(BaseModel):
    """A tenant's nightly export setting and progress."""

    tenant: str
    enabled: bool
    enabled_at: datetime
    watermark: datetime | None = None  # window end of the last committed night
    last_night: str | None = None  # YYYY-MM-DD of the last committed night
    last_created_at: datetime | None = None  # created_at of the last committed entries (kept strictly increasing)
    format: NightlyFormat = NightlyFormat.CSV  # the files of the nights dispatched from now on


class NightlyRun(BaseModel):
    """The execution input for one tenant and night (built by the dispatcher, fixed for every retry)."""

    mode: str = Field(pattern="^nightly$")
    tenant: str = Field(min_length=1)
    night: str = Field(pattern=r"^\d{4}-\d{2}-\d{2}$")
    enabled_at: AwareDatetime  # the enablement the night was dispatched under (a re-enable starts afresh)
    window_starts_at: AwareDatetime
    window_ends_at: AwareDatetime


class SourceInput(NightlyRun):
    source: str
    format: NightlyFormat = NightlyFormat.CSV  # fixed by the dispatcher for the night: every retry writes the same file

    @field_validator("source")
    @classmethod
    def _known(cls, value: str) -> str:
        if value not in NIGHTLY_SOURCES:
            raise ValueError(f"unknown source {value!r}; sources: {', '.join(NIGHTLY_SOURCES)}")
        return value


class SourceResult(BaseModel):
    source: str
    key: str
    rows: int = Field(ge=0)
    bytes: int = Field(ge=0)
    sha256: str
    format: NightlyFormat = NightlyFormat.CSV


class CommitInput(NightlyRun):
    files: list[SourceResult]


class ExportRequest(BaseModel):
    """One listed report: the nightly data export's fields (``url`` is presigned when listed)."""

    id: str
    created_at: str
    window_starts_at: str
    window_ends_at: str
    source: str
    status: str
    url: str | None = None
