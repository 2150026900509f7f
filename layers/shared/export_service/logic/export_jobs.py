"""Asynchronous exports: validate and start a job, plan it into S3, export partitions, stitch, manifest, fail.

A job's parameters are the synchronous endpoint's query parameters; they are validated by the same code, so an
asynchronous export means exactly what the same synchronous request would have meant, without a row cap.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import TypeAdapter, ValidationError

from export_service.dal.query import QueryPartition
from export_service.errors import InvalidParameterError
from export_service.logic.audit_export import (
    AuditExportRequest,
    build_audit_request,
    localize_pages,
    metadata_parameter,
    plan_audit,
)
from export_service.logic.dataset_export import DatasetExportRequest, build_dataset_request, plan_dataset
from export_service.logic.export_engine import export_filename
from export_service.logic.formats import ExportFormat, csv_header, envelope_parts, make_writer
from export_service.logic.incident_filters import INCIDENT_FILTERS, IncidentFilter, build_incident_filter
from export_service.logic.incident_list import STORED_FIELDS, list_item, plan_incidents
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_LIST_FILTERS, METADATA_KEYS
from export_service.models.incident_api import LIST_FIELDS
from export_service.models.incidents import DATASETS, Dataset
from export_service.timefmt import format_instant

JOB_RETENTION = timedelta(days=30)
MAX_CHUNKS = 32  # Map items: partitions are grouped into at most this many part files
AUDIT = "audit"
INCIDENT_LIST = "incident-list"  # GET /v1/incidents?format=csv: seed 002's list fields
DATASET_NAMES = (AUDIT, *(d.value for d in Dataset), INCIDENT_LIST)
# The permission that reads each dataset's rows, whatever the path (sync, job, link, manifest): a job records it.
READ_PERMISSIONS: dict[str, Permission] = {
    AUDIT: Permission.AUDIT_READ,
    **{d.value: Permission.INCIDENTS_READ for d in Dataset},
    INCIDENT_LIST: Permission.INCIDENTS_READ,
}
_END_NAMES = ("to", "range_end", "to_time")


class JobStoreLike(Protocol):
    def create(self, tenant: str, job_id: str, job: dict[str, Any], ttl: int) -> None: ...

    def get(self, tenant: str, job_id: str) -> dict[str, Any] | None: ...

    def update(self, tenant: str, job_id: str, fields: dict[str, Any]) -> None: ...

    def mark_partition_done(self, tenant: str, job_id: str, index: int) -> None: ...

    def list(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]: ...


class FilesLike(Protocol):
    def upload(self, key: str, content_type: str) -> Any: ...

    def put_json(self, key: str, document: Any) -> None: ...

    def get_json(self, key: str) -> Any: ...

    def chunks(self, key: str, size: int = ...) -> Iterator[bytes]: ...

    def presign(self, key: str, filename: str | None = None, expires: int = ...) -> str: ...


class SourceStores(Protocol):
    """The stores a job reads: ``audit`` (AuditStore) and ``incidents`` (IncidentStore)."""

    @property
    def audit(self) -> Any: ...

    @property
    def incidents(self) -> Any: ...


@dataclass(frozen=True)
class JobSpec:
    """A validated job: what to read, how to format it, and what to call the file."""

    dataset: str
    fmt: ExportFormat
    columns: tuple[str, ...]
    kind: str
    request: AuditExportRequest | DatasetExportRequest | IncidentFilter


def new_job_id(now: datetime) -> str:
    """Sortable by creation time (jobs list newest first), unguessable."""
    return f"exp-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"


def _text(params: Mapping[str, Any], name: str) -> str | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, list):
        if len(value) != 1:
            raise InvalidParameterError(f"'{name}' takes one value", parameter=name)
        value = value[0]
    if not isinstance(value, str | int | bool) or isinstance(value, bool):
        raise InvalidParameterError(f"'{name}' must be a string", parameter=name)
    return str(value)


def _texts(params: Mapping[str, Any], name: str) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    values = value if isinstance(value, list) else [value]
    if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in values):
        raise InvalidParameterError(f"'{name}' must be strings", parameter=name)
    return [str(v) for v in values]


def _flag(params: Mapping[str, Any], name: str) -> bool:
    # pydantic's boolean parsing, as the synchronous endpoint's query validation uses (true/false, 1/0, on/off ...)
    try:
        return bool(_BOOL.validate_python(params.get(name, False)))
    except ValidationError:
        raise InvalidParameterError(f"'{name}' must be true or false", parameter=name) from None


_BOOL = TypeAdapter(bool)
_AUDIT_PARAMETERS = frozenset(
    {"from", "to", "range_start", "range_end", "action", "user", "namespace", "bom", "locale", "timezone"}
    | set(AUDIT_LIST_FILTERS)
    | {metadata_parameter(key) for key in METADATA_KEYS}
    | {"metadata"}  # a JSON object of metadata filters, in a POST body
)
_DATASET_PARAMETERS = frozenset(
    {"from", "to", "from_time", "to_time", "range_start", "range_end", "severities", "priorities", "statuses"}
    | {"tags", "project_ids", "incident_id", "filter", "sort", "bom"}
)
_INCIDENT_LIST_PARAMETERS = frozenset(INCIDENT_FILTERS) | {"from_time", "to_time", "text_to_search"}
_ALLOWED = {AUDIT: _AUDIT_PARAMETERS, INCIDENT_LIST: _INCIDENT_LIST_PARAMETERS}


def read_permission(dataset: str) -> Permission:
    """The permission that reads ``dataset`` (400 naming ``dataset`` when there is no such dataset)."""
    permission = READ_PERMISSIONS.get(dataset)
    if permission is None:
        raise InvalidParameterError(
            f"unknown dataset '{dataset}'; datasets: {', '.join(DATASET_NAMES)}",
            parameter="dataset",
            datasets=list(DATASET_NAMES),
        )
    return permission


def build_job_spec(tenant: str, dataset: str, fmt: ExportFormat, params: Mapping[str, Any], now: datetime) -> JobSpec:
    """Validate a job exactly as the synchronous endpoint validates the same parameters."""
    read_permission(dataset)
    allowed = _ALLOWED.get(dataset, _DATASET_PARAMETERS)
    for name in params:
        if name not in allowed:
            raise InvalidParameterError(
                f"unknown parameter '{name}' for dataset '{dataset}'; accepted: {', '.join(sorted(allowed))}",
                parameter=name,
            )
    request: AuditExportRequest | DatasetExportRequest | IncidentFilter
    if dataset == INCIDENT_LIST:
        request = build_incident_filter(
            tenant,
            {name: _texts(params, name) for name in INCIDENT_FILTERS},
            from_time=_text(params, "from_time"),
            to_time=_text(params, "to_time"),
            text_to_search=_text(params, "text_to_search"),
            now=now,
        )
        return JobSpec(dataset, fmt, LIST_FIELDS, "IncidentList", request)
    if dataset == AUDIT:
        request = build_audit_request(
            tenant,
            fmt=fmt,
            start=(("from", _text(params, "from")), ("range_start", _text(params, "range_start"))),
            end=(("to", _text(params, "to")), ("range_end", _text(params, "range_end"))),
            filters={name: _text(params, name) for name in ("action", "user", "namespace")},
            lists={name: _texts(params, name) for name in AUDIT_LIST_FILTERS},
            metadata=_metadata(params),
            locale=_text(params, "locale"),
            timezone=_text(params, "timezone"),
            bom=_flag(params, "bom"),
            now=now,
        )
        return JobSpec(dataset, fmt, request.columns, "AuditExport", request)
    request = build_dataset_request(
        tenant,
        dataset,
        fmt=fmt,
        bounds={
            name: _text(params, name) for name in ("from", "to", "from_time", "to_time", "range_start", "range_end")
        },
        lists={name: _texts(params, name) for name in ("severities", "priorities", "statuses", "tags", "project_ids")},
        incident_id=_text(params, "incident_id"),
        filter_json=_text(params, "filter"),
        sort_json=_text(params, "sort"),
        bom=_flag(params, "bom"),
        now=now,
    )
    return JobSpec(dataset, fmt, DATASETS[Dataset(dataset)].columns, "DatasetExport", request)


def _metadata(params: Mapping[str, Any]) -> dict[str, str | None]:
    """Metadata filters from ``metadata[<key>]`` parameters (a query string) or a ``metadata`` object (a POST body);
    the keys are checked by build_audit_request."""
    given: dict[str, str | None] = {}
    document = params.get("metadata")
    if document is not None:
        if not isinstance(document, dict):
            raise InvalidParameterError("'metadata' must be an object of metadata key -> value", parameter="metadata")
        for key in document:
            given[str(key)] = _text(document, key)
    for name in params:
        if name.startswith("metadata[") and name.endswith("]"):
            given[name[len("metadata[") : -1]] = _text(params, name)
    return given


def freeze_parameters(params: Mapping[str, Any], spec: JobSpec) -> dict[str, Any]:
    """The parameters with the end of the range fixed, so a retried step reads the same rows as the first try."""
    frozen = dict(params)
    if not any(frozen.get(name) for name in _END_NAMES) and not _filter_has_end(frozen.get("filter")):
        frozen["to_time" if spec.dataset == INCIDENT_LIST else "to"] = format_instant(spec.request.end)
    return frozen


def _filter_has_end(raw: Any) -> bool:
    """Whether a (validated) JSON filter gives ``range.end``."""
    if not isinstance(raw, str):
        return False
    document = json.loads(raw)
    time_range = document.get("range") if isinstance(document, dict) else None
    return isinstance(time_range, dict) and time_range.get("end") is not None


def job_prefix(tenant: str, job_id: str) -> str:
    return f"exports/{tenant}/{job_id}"


def plan_parts(spec: JobSpec, stores: SourceStores) -> tuple[list[QueryPartition], datetime | None, str | None]:
    if isinstance(spec.request, IncidentFilter):  # newest first, as the list (and its synchronous CSV) orders them
        return plan_incidents(spec.request, stores.incidents, descending=True), spec.request.start, None
    if isinstance(spec.request, AuditExportRequest):
        parts, name_start = plan_audit(spec.request, stores.audit)
        return parts, name_start, None
    return plan_dataset(spec.request, stores.incidents)


def chunk(parts: Sequence[QueryPartition], most: int = MAX_CHUNKS) -> list[list[QueryPartition]]:
    """Consecutive groups (order is kept: part files concatenate into the export's order)."""
    if not parts:
        return [[]]  # one empty part: the file still gets its header
    size = -(-len(parts) // most)
    return [list(parts[start : start + size]) for start in range(0, len(parts), size)]


def read_pages(spec: JobSpec, stores: SourceStores, part: QueryPartition) -> Iterable[Sequence[Mapping[str, Any]]]:
    if isinstance(spec.request, IncidentFilter):
        return ([list_item(r) for r in page] for page in stores.incidents.read_fields([part], STORED_FIELDS))
    if isinstance(spec.request, AuditExportRequest):
        return localize_pages(spec.request, stores.audit.read_pages(part))
    return stores.incidents.read_pages(Dataset(spec.dataset), part)


def export_part(spec: JobSpec, stores: SourceStores, parts: Sequence[QueryPartition], upload: Any) -> int:
    """Write a part file's body (no header, no envelope) a page at a time; returns the row count."""
    rows = 0
    buffer = io.StringIO()
    writer = make_writer(spec.fmt, buffer, spec.columns, header=False)
    for part in parts:
        for page in read_pages(spec, stores, part):
            if not page:
                continue
            writer.write_many(page)
            rows += len(page)
            upload.write(buffer.getvalue())
            buffer.seek(0)
            buffer.truncate()
    return rows


def stitch(
    spec: JobSpec,
    files: FilesLike,
    upload: Any,
    part_keys: Sequence[tuple[str, int]],
    metadata: Mapping[str, Any],
    bom: bool,
) -> None:
    """One file from the part files, streamed (bounded memory): header or envelope, parts in order, tail."""
    tail = ""
    if spec.fmt is ExportFormat.CSV:
        upload.write(csv_header(spec.columns, bom=bom))
    elif spec.fmt is ExportFormat.JSON:
        head, tail = envelope_parts(spec.kind, metadata)
        upload.write(head)
    first = True
    for key, rows in part_keys:
        if rows == 0:
            continue
        if spec.fmt is ExportFormat.JSON and not first:
            upload.write(",")
        first = False
        for data in files.chunks(key):
            upload.write(data)
    upload.write(tail)


def filename_for(spec: JobSpec, name_start: datetime | None, entity: str | None, now: datetime) -> str:
    resource = "incidents" if spec.dataset == INCIDENT_LIST else spec.dataset  # as the synchronous CSV names it
    return export_filename(
        resource,
        spec.fmt,
        start=name_start,
        end=spec.request.end,
        bounded=spec.request.bounded,
        now=now,
        entity=entity,
    )
