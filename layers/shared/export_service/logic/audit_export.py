"""The synchronous audit export: validate the request, plan the Queries, stream records into the body."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from export_service.dal.query import QueryPartition
from export_service.errors import InvalidParameterError, InvalidRangeError
from export_service.logic.export_engine import (
    ExportBody,
    ExportLimits,
    Overflow,
    clamp_to_bounds,
    content_type,
    count_capped,
    export_filename,
    lambda_payload_size,
    render,
    too_large,
)
from export_service.logic.formats import ExportFormat
from export_service.models.audit import AUDIT_COLUMNS
from export_service.timefmt import ceil_to_millisecond, format_instant, parse_instant

__all__ = ["ExportBody", "ExportLimits", "build_audit_request", "export_audit", "lambda_payload_size"]

AUDIT_FILTERS = ("action", "user", "namespace")
MAX_FILTER_CHARS = 256  # keeps every index key far below DynamoDB's 2,048-byte partition key limit
_NARROW = "'from'/'to' or add filters (action, user, namespace)"


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
    for name, value in filters.items():
        if value is not None and len(value) > MAX_FILTER_CHARS:
            raise InvalidParameterError(
                f"query parameter '{name}' is longer than {MAX_FILTER_CHARS} characters", parameter=name
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


def plan_audit(request: AuditExportRequest, store: AuditQueryStore) -> tuple[list[QueryPartition], datetime]:
    """The Queries of a request, clamped to the tenant's days; and the start date that names the file."""
    # Only days that can hold records are planned: an unbounded or very wide range costs no empty Queries.
    window, name_start = clamp_to_bounds(request.start, request.end, store.bounds(request.tenant_id))
    parts = store.plan(request.tenant_id, *window, request.filters) if window else []
    return parts, name_start


def export_audit(
    request: AuditExportRequest, store: AuditQueryStore, limits: ExportLimits, now: datetime
) -> ExportBody:
    """Render the whole (bounded) result; never truncates: too many records or bytes is an error with a count."""
    parts, name_start = plan_audit(request, store)

    def metadata(total: int) -> dict[str, object]:
        return {
            "exportedAt": format_instant(now),
            "from": format_instant(request.start) if request.start else None,
            "to": format_instant(request.end),
            "totalRecords": total,
            "format": request.fmt.value,
        }

    try:
        body, written = render(
            store.read_plan(parts, limits.prefetch),
            request.fmt,
            AUDIT_COLUMNS,
            limits=limits,
            kind="AuditExport",
            metadata=metadata,
            bom=request.bom,
        )
    except Overflow as overflow:
        matched = count_capped(store.count, parts, limits.count_cap)
        raise too_large(overflow.reason, matched, limits, _NARROW) from None
    return ExportBody(
        body=body,
        content_type=content_type(request.fmt),
        filename=export_filename(
            "audit", request.fmt, start=name_start, end=request.end, bounded=request.bounded, now=now
        ),
        records=written,
    )
