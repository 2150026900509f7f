"""The synchronous audit export: validate the request, plan the Queries, stream records into the body."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from export_service.dal.audit_store import QueryPartition
from export_service.errors import ExportTooLargeError, InvalidParameterError, InvalidRangeError
from export_service.logic.formats import CONTENT_TYPES, ExportFormat, make_writer, wrap_envelope
from export_service.logic.timefmt import ceil_to_millisecond, format_instant, parse_instant
from export_service.models.audit import AUDIT_COLUMNS

AUDIT_FILTERS = ("action", "user", "namespace")


class AuditQueryStore(Protocol):
    def plan(self, tenant: str, start: datetime, end: datetime, filters: Mapping[str, str]) -> list[QueryPartition]: ...

    def read_plan(self, parts: Sequence[QueryPartition], prefetch: int = 2) -> Iterator[list[dict[str, str]]]: ...

    def count(self, part: QueryPartition, cap: int) -> int: ...

    def bounds(self, tenant: str) -> tuple[date, date] | None: ...


class AuditExportRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    fmt: ExportFormat
    start: datetime | None  # None: from the tenant's first record
    end: datetime
    bounded: bool  # the caller gave at least one bound (names the file by range, else by today's date)
    filters: dict[str, str]
    bom: bool = False


@dataclass(frozen=True)
class ExportLimits:
    max_records: int
    max_body_bytes: int
    count_cap: int
    prefetch: int = 2  # partitions read ahead while a page is formatted


def lambda_payload_size(body: str) -> int:
    """Bytes the body takes in the Lambda response, which the python3.11 runtime serialises as JSON with
    non-ASCII characters escaped (``\\uXXXX``), quotes and control characters backslash-escaped."""
    return len(json.dumps(body))


@dataclass(frozen=True)
class ExportBody:
    body: str
    content_type: str
    filename: str
    records: int


def _pick(first: tuple[str, str | None], second: tuple[str, str | None]) -> tuple[str, str] | None:
    """One of two synonymous parameters (``from``/``range_start``); both at once is ambiguous."""
    (name_a, value_a), (name_b, value_b) = first, second
    if value_a is not None and value_b is not None:
        raise InvalidParameterError(f"give either '{name_a}' or '{name_b}', not both", parameter=name_b)
    if value_a is not None:
        return name_a, value_a
    if value_b is not None:
        return name_b, value_b
    return None


def build_audit_request(
    tenant_id: str,
    *,
    fmt: ExportFormat,
    start: tuple[tuple[str, str | None], tuple[str, str | None]],
    end: tuple[tuple[str, str | None], tuple[str, str | None]],
    filters: Mapping[str, str | None],
    bom: bool,
    now: datetime,
) -> AuditExportRequest:
    """Check times and range; ``start``/``end`` are pairs of (parameter name, raw value) for the synonyms."""
    start_given = _pick(*start)
    end_given = _pick(*end)
    start_at = ceil_to_millisecond(parse_instant(start_given[1], start_given[0])) if start_given else None
    end_at = parse_instant(end_given[1], end_given[0]) if end_given else now
    if start_at is not None and start_at > end_at:
        start_name = start_given[0] if start_given else "from"
        end_name = end_given[0] if end_given else "to"
        raise InvalidRangeError(
            f"'{start_name}' ({format_instant(start_at)}) is after '{end_name}' ({format_instant(end_at)})",
            parameter=start_name,
        )
    return AuditExportRequest(
        tenant_id=tenant_id,
        fmt=fmt,
        start=start_at,
        end=end_at,
        bounded=bool(start_given or end_given),
        filters={name: value for name, value in filters.items() if value},
        bom=bom,
    )


def export_filename(resource: str, request: AuditExportRequest, start: datetime, now: datetime) -> str:
    ext = request.fmt.value
    if not request.bounded:
        return f"{resource}-{now.date().isoformat()}.{ext}"
    return f"{resource}-{start.date().isoformat()}_{request.end.date().isoformat()}.{ext}"


def export_audit(
    request: AuditExportRequest, store: AuditQueryStore, limits: ExportLimits, now: datetime
) -> ExportBody:
    """Render the whole (bounded) result; never truncates: too many records or bytes is an error with a count."""
    # Only days that can hold records are planned: an unbounded or very wide range costs no empty Queries.
    bounds = store.bounds(request.tenant_id)
    start = request.start
    parts: list[QueryPartition] = []
    if bounds is not None:
        first = datetime.combine(bounds[0], time.min, tzinfo=UTC)
        last = datetime.combine(bounds[1], time.max, tzinfo=UTC)
        start = max(start, first) if start else first
        end = min(request.end, last)
        if start <= end:
            parts = store.plan(request.tenant_id, start, end, request.filters)
    # The file is named after the range asked for (the tenant's first day when there was no lower bound).
    name_start = request.start or (start if start is not None and start <= request.end else request.end)
    out = io.StringIO()
    writer = make_writer(request.fmt, out, AUDIT_COLUMNS, bom=request.bom)
    written = 0
    for page in store.read_plan(parts, limits.prefetch):
        written += len(page)
        if written > limits.max_records:
            raise _too_large(_count(store, parts, limits.count_cap), limits, limits.count_cap)
        writer.write_many(page)
        # Characters never outnumber the body's serialised bytes, so this cheap check stops early, never wrongly.
        if out.tell() > limits.max_body_bytes:
            raise _too_many_bytes(_count(store, parts, limits.count_cap), limits)
    body = out.getvalue()
    if request.fmt is ExportFormat.JSON:
        metadata = {
            "exportedAt": format_instant(now),
            "from": format_instant(request.start) if request.start else None,
            "to": format_instant(request.end),
            "totalRecords": written,
            "format": request.fmt.value,
        }
        body = wrap_envelope("AuditExport", metadata, body)
    if lambda_payload_size(body) > limits.max_body_bytes:
        raise _too_many_bytes(_count(store, parts, limits.count_cap), limits)
    return ExportBody(
        body=body,
        content_type=CONTENT_TYPES[request.fmt],
        filename=export_filename("audit", request, name_start, now),
        records=written,
    )


def _count(store: AuditQueryStore, parts: list[QueryPartition], cap: int) -> int:
    total = 0
    for part in parts:
        total += store.count(part, cap - total)
        if total >= cap:
            return cap
    return total


def _matched_text(matched: int, cap: int) -> str:
    return f"at least {matched:,}" if matched >= cap else f"{matched:,}"


def _too_large(matched: int, limits: ExportLimits, cap: int) -> ExportTooLargeError:
    return ExportTooLargeError(
        f"{_matched_text(matched, cap)} records match, more than the synchronous limit of {limits.max_records:,}. "
        "Narrow 'from'/'to' or add filters (action, user, namespace) and export in several requests.",
        matchedRecords=matched,
        limit=limits.max_records,
    )


def _too_many_bytes(matched: int, limits: ExportLimits) -> ExportTooLargeError:
    return ExportTooLargeError(
        f"the export is larger than a synchronous response allows ({limits.max_body_bytes:,} bytes); "
        f"{_matched_text(matched, limits.count_cap)} records match. Narrow 'from'/'to' or add filters "
        "(action, user, namespace) and export in several requests.",
        matchedRecords=matched,
        limit=limits.max_records,
    )
