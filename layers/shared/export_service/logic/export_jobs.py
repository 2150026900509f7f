"""Asynchronous exports: validate a job, plan it into parts, export a part, stitch the parts into one file.

A job's parameters are its dataset's query model's: they are validated by the same model as the synchronous
request, at the start and again at every step, so an asynchronous export means exactly what the same synchronous
request would have meant, without a row cap.
"""

from __future__ import annotations

import io
import json
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from pydantic import ValidationError

from export_service.dal.query import QueryPartition
from export_service.errors import InvalidParameterError
from export_service.logic.export_engine import ExportPlan, ExportSpec, build_request, spec_filename
from export_service.logic.formats import ExportFormat, csv_header, envelope_parts, make_writer
from export_service.models.api_keys import Permission
from export_service.models.export import TABULAR_FORMATS, QueryModel
from export_service.observability import phase
from export_service.timefmt import format_instant

JOB_RETENTION = timedelta(days=30)
MAX_CHUNKS = 32  # Map items: partitions are grouped into at most this many part files


class JobStoreLike(Protocol):
    def create(self, tenant: str, job_id: str, job: dict[str, Any], ttl: int) -> None: ...

    def get(self, tenant: str, job_id: str) -> dict[str, Any] | None: ...

    def update(self, tenant: str, job_id: str, fields: dict[str, Any]) -> None: ...

    def mark_partition_done(self, tenant: str, job_id: str, index: int) -> None: ...

    def list(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]: ...


class FilesLike(Protocol):
    def upload(self, key: str, content_type: str) -> Any: ...

    def put_json(self, key: str, document: Any) -> None: ...

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None: ...

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
    """A validated job: its dataset's spec, the file format, the parameters and the request they make."""

    spec: ExportSpec[Any]
    fmt: ExportFormat
    query: QueryModel
    request: Any

    @property
    def dataset(self) -> str:
        return self.spec.name

    @property
    def columns(self) -> tuple[str, ...]:
        return self.spec.columns(self.request)


def new_job_id(now: datetime) -> str:
    """Sortable by creation time (jobs list newest first), unguessable."""
    return f"exp-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(6)}"


def _as_parameters(spec: ExportSpec[Any], params: Mapping[str, Any]) -> dict[str, Any]:
    """A JSON body's shapes as the query's: a JSON ``filter``/``sort`` object as its text, and an object
    ``name: {key: value}`` as ``name[key]=value`` parameters where the dataset has no parameter ``name``."""
    fields = spec.query.parameter_names()
    given: dict[str, Any] = {}
    for name, value in params.items():
        if name in fields or not isinstance(value, dict):
            given[name] = json.dumps(value) if isinstance(value, dict | list) and name in ("filter", "sort") else value
            continue
        for key, item in value.items():
            given[f"{name}[{key}]"] = item
    return given


def job_query(spec: ExportSpec[Any], fmt: ExportFormat, params: Mapping[str, Any]) -> QueryModel:
    """A job's parameters (a POST body's or a stored job's) validated by the dataset's query model."""
    given = _as_parameters(spec, params)
    if "format" in spec.query.model_fields and "file_type" not in given:
        # a Parquet file holds the rows the CSV export would (typed): the query renders them as for CSV
        given.setdefault("format", (ExportFormat.CSV if fmt is ExportFormat.PARQUET else fmt).value)
    try:
        query = spec.query.model_validate(given)
    except ValidationError as invalid:
        error = invalid.errors()[0]
        name = str(error["loc"][0]) if error.get("loc") else "parameters"
        if error.get("type") == "extra_forbidden":
            accepted = ", ".join(sorted(spec.query.parameter_names()))
            message = f"unknown parameter '{name}' for dataset '{spec.name}'; accepted: {accepted}"
        else:
            message = f"parameter '{name}': {error.get('msg', 'invalid value')}"
        raise InvalidParameterError(message, parameter=name) from None
    if getattr(query, "fmt", None) not in (None, *TABULAR_FORMATS):
        parameter = getattr(query, "format_parameter", "format")
        raise InvalidParameterError(
            f"a {query.fmt.value} report is made synchronously only; export jobs write csv, json, jsonl or parquet",  # type: ignore[attr-defined]
            parameter=parameter,
        )
    return query


def build_job(
    tenant: str,
    spec: ExportSpec[Any],
    fmt: ExportFormat,
    query: QueryModel,
    now: datetime,
    held: frozenset[Permission] | None = None,
) -> JobSpec:
    """Validate a job exactly as the synchronous endpoint validates the same parameters. ``held``: the permissions
    its rows are read with (a dataset whose rows carry their own permission); by default the dataset's own."""
    scope = held if held is not None else frozenset({spec.permission} if spec.permission else ())
    return JobSpec(spec, fmt, query, build_request(spec, tenant, scope, query, now))


def frozen_parameters(job: JobSpec) -> dict[str, Any]:
    """The parameters with the end of the range fixed, so a retried step reads the same rows as the first try."""
    _start, end, _bounded = job.spec.bounds(job.request)
    return job.query.with_end(format_instant(end)).parameters()


def job_prefix(tenant: str, job_id: str) -> str:
    return f"exports/{tenant}/{job_id}"


def plan_parts(job: JobSpec, stores: SourceStores) -> ExportPlan:
    return job.spec.plan(job.request, stores)


def chunk(parts: Sequence[QueryPartition], most: int = MAX_CHUNKS) -> list[list[QueryPartition]]:
    """Consecutive groups (order is kept: part files concatenate into the export's order)."""
    if not parts:
        return [[]]  # one empty part: the file still gets its header
    size = -(-len(parts) // most)
    return [list(parts[start : start + size]) for start in range(0, len(parts), size)]


def export_part(
    job: JobSpec,
    stores: SourceStores,
    parts: Sequence[QueryPartition],
    upload: Any,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write a part file's body (no header, no envelope) a page at a time; returns the row count. ``progress`` is
    told the rows so far after each page."""
    rows = 0
    buffer = io.StringIO()
    writer = make_writer(job.fmt, buffer, job.columns, header=False)
    for page in job.spec.read(job.request, stores, parts, 1):  # one partition after the other: memory stays flat
        if not page:
            continue
        with phase("format"):  # reads and uploads are subsegments of their own (## read, ## upload)
            writer.write_many(page)
        rows += len(page)
        upload.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
        if progress is not None:
            progress(rows)
    return rows


def stitch(
    job: JobSpec,
    files: FilesLike,
    upload: Any,
    part_keys: Sequence[tuple[str, int]],
    metadata: Mapping[str, Any],
) -> None:
    """One file from the part files, streamed (bounded memory): header or envelope, parts in order, tail."""
    tail = ""
    if job.fmt is ExportFormat.CSV:
        upload.write(csv_header(job.columns, bom=job.spec.bom(job.request)))
    elif job.fmt is ExportFormat.JSON:
        head, tail = envelope_parts(job.spec.kind, metadata)
        upload.write(head)
    first = True
    for key, rows in part_keys:
        if rows == 0:
            continue
        if job.fmt is ExportFormat.JSON and not first:
            upload.write(",")
        first = False
        if hasattr(upload, "append_object"):  # part files of 5 MiB or more are copied inside S3, not sent again
            upload.append_object(key, files.chunks(key))
        else:
            for data in files.chunks(key):
                upload.write(data)
    upload.write(tail)


def filename_for(job: JobSpec, plan: ExportPlan, now: datetime) -> str:
    return spec_filename(job.spec, job.request, plan, job.fmt, now)
