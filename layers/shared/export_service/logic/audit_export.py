"""The synchronous audit export: validate the request, plan the Queries, stream records into the body."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from export_service.dal.query import QueryPartition
from export_service.errors import ExportTooLargeError, InvalidParameterError, InvalidRangeError
from export_service.logic.audit_pdf import MAX_PDF_RECORDS, PdfOverflow, PdfReport, render_audit_pdf
from export_service.logic.export_engine import ExportBody, ExportLimits, ExportPlan, clamp_to_bounds, export_filename
from export_service.logic.formats import ExportFormat
from export_service.logic.localize import (
    DEFAULT_LOCALE,
    DEFAULT_TIMEZONE,
    Localizer,
    parse_locale,
    parse_timezone,
    with_local_time,
)
from export_service.models.audit import (
    AUDIT_COLUMNS,
    AUDIT_LIST_FILTERS,
    LOCAL_TIME_COLUMN,
    METADATA_KEYS,
    AuditExportQuery,
    metadata_parameter,
)
from export_service.timefmt import ceil_to_millisecond, format_instant, parse_instant

AUDIT_FILTERS = ("action", "user", "namespace")
MAX_FILTER_CHARS = 256  # keeps every index key far below DynamoDB's 2,048-byte partition key limit
MAX_LIST_VALUES = 50  # values of one repeatable filter: DynamoDB allows 100 operands in an IN
NARROW = "'from'/'to' or add filters (action, user, namespace, event_type, sub_type, system_source, auditee_id)"


class AuditQueryStore(Protocol):
    def plan(
        self,
        tenant: str,
        start: datetime,
        end: datetime,
        filters: Mapping[str, str],
        any_of: Mapping[str, Sequence[str]] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> list[QueryPartition]: ...

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
    any_of: dict[str, list[str]] = {}  # record field -> any of these values (repeatable filters)
    metadata: dict[str, str] = {}  # metadata key -> value, all must match
    locale: str | None = None
    timezone: str | None = None

    @property
    def localized(self) -> bool:
        """Whether the caller asked for local times (csv/json/jsonl then carry a ``localTime`` column)."""
        return self.locale is not None or self.timezone is not None

    @property
    def columns(self) -> tuple[str, ...]:
        return (*AUDIT_COLUMNS, LOCAL_TIME_COLUMN) if self.localized else AUDIT_COLUMNS

    def applied_filters(self) -> list[tuple[str, str]]:
        """(parameter, value) of every filter, in the API's names, for people (the PDF's first page)."""
        fields = {field: name for name, field in AUDIT_LIST_FILTERS.items()}
        applied = [(name, value) for name, value in self.filters.items()]
        applied += [(fields[field], ", ".join(values)) for field, values in self.any_of.items()]
        applied += [(metadata_parameter(key), value) for key, value in self.metadata.items()]
        return applied


def localize_pages(
    request: AuditExportRequest, pages: Iterable[Sequence[Mapping[str, Any]]]
) -> Iterable[Sequence[Mapping[str, Any]]]:
    """The pages as the request's columns need them: with ``localTime`` when the caller gave a locale or zone."""
    if not request.localized:
        return pages
    return with_local_time(pages, Localizer(request.locale, request.timezone), LOCAL_TIME_COLUMN)


def _check_length(name: str, value: str) -> None:
    if len(value) > MAX_FILTER_CHARS:
        raise InvalidParameterError(
            f"query parameter '{name}' is longer than {MAX_FILTER_CHARS} characters", parameter=name
        )


def _list_filters(lists: Mapping[str, Sequence[str] | None]) -> dict[str, list[str]]:
    """The audit-event export's repeatable filters (repeated or comma-separated) as record field -> values."""
    any_of: dict[str, list[str]] = {}
    for name, raw in lists.items():
        if name not in AUDIT_LIST_FILTERS:
            raise InvalidParameterError(f"unknown filter '{name}'", parameter=name)
        values = list(dict.fromkeys(v.strip() for item in raw or () for v in item.split(",") if v.strip()))
        for value in values:
            _check_length(name, value)
        if len(values) > MAX_LIST_VALUES:
            raise InvalidParameterError(
                f"query parameter '{name}' takes at most {MAX_LIST_VALUES} values, got {len(values)}", parameter=name
            )
        if values:
            any_of[AUDIT_LIST_FILTERS[name]] = values
    return any_of


def _metadata_filters(metadata: Mapping[str, str | None]) -> dict[str, str]:
    checked: dict[str, str] = {}
    for key, value in metadata.items():
        parameter = metadata_parameter(key)
        if key not in METADATA_KEYS:
            raise InvalidParameterError(
                f"'{parameter}' is not a metadata filter; metadata keys: {', '.join(METADATA_KEYS)}",
                parameter=parameter,
            )
        if value:
            _check_length(parameter, value)
            checked[key] = value
    return checked


def build_audit_request(tenant_id: str, query: AuditExportQuery, now: datetime) -> AuditExportRequest:
    """Check times, range, filters, locale and zone of a request whose synonyms the query model resolved."""
    start_given = query.start_bound()
    end_given = query.end_bound()
    start_at = ceil_to_millisecond(parse_instant(start_given[1], start_given[0])) if start_given else None
    end_at = parse_instant(end_given[1], end_given[0]) if end_given else now
    if start_at is not None and start_at > end_at:
        start_name = start_given[0] if start_given else "from"
        end_name = end_given[0] if end_given else "to"
        raise InvalidRangeError(
            f"'{start_name}' ({format_instant(start_at)}) is after '{end_name}' ({format_instant(end_at)})",
            parameter=start_name,
        )
    filters = query.exact_filters()
    for name, value in filters.items():
        if value is not None:
            _check_length(name, value)
    return AuditExportRequest(
        tenant_id=tenant_id,
        fmt=query.fmt,
        start=start_at,
        end=end_at,
        bounded=bool(start_given or end_given),
        filters={name: value for name, value in filters.items() if value},
        bom=query.bom,
        any_of=_list_filters(query.list_filters()),
        metadata=_metadata_filters(query.metadata_filters()),
        locale=parse_locale(query.locale),
        timezone=parse_timezone(query.timezone),
    )


def plan_audit(request: AuditExportRequest, store: AuditQueryStore) -> ExportPlan:
    """The Queries of a request, clamped to the tenant's days; and the start date that names the file."""
    # Only days that can hold records are planned: an unbounded or very wide range costs no empty Queries.
    window, name_start = clamp_to_bounds(request.start, request.end, store.bounds(request.tenant_id))
    parts = store.plan(request.tenant_id, *window, request.filters, request.any_of, request.metadata) if window else []
    return ExportPlan(parts, name_start)


def audit_envelope(request: AuditExportRequest) -> dict[str, Any]:
    return {
        "from": format_instant(request.start) if request.start else None,
        "to": format_instant(request.end),
        **envelope_locale(request),
    }


def export_audit_pdf(
    request: AuditExportRequest, store: AuditQueryStore, limits: ExportLimits, now: datetime, parameter: str = "format"
) -> ExportBody:
    """The PDF report (synchronous only): at most 5,000 records, else a 400 telling to narrow or use CSV.

    The records are read once: the renderer stops at the 5,001st (memory is bounded by the cap)."""
    plan = plan_audit(request, store)
    report = PdfReport(
        tenant=request.tenant_id,
        start=request.start,
        end=request.end,
        filters=request.applied_filters(),
        generated_at=now,
    )
    records = store.read_plan(plan.parts, limits.prefetch)
    try:
        body, written = render_audit_pdf(
            records, report, Localizer(request.locale, request.timezone), max_records=MAX_PDF_RECORDS
        )
    except PdfOverflow:
        raise _pdf_too_large(parameter) from None
    finally:
        if hasattr(records, "close"):
            records.close()  # stop any read-ahead at once, above all when the cap stopped the report early
    if (len(body) + 2) // 3 * 4 > limits.max_body_bytes:  # sent base64-encoded
        raise ExportTooLargeError(
            f"the PDF is larger than a synchronous response allows ({limits.max_body_bytes:,} bytes); "
            f"narrow the filters or set '{parameter}' to csv (file_type=csv)",
            parameter=parameter,
            matchedRecords=written,
        )
    return ExportBody(
        body=body,
        content_type=PDF_CONTENT_TYPE,
        filename=export_filename(
            "audit", request.fmt, start=plan.name_start, end=request.end, bounded=request.bounded, now=now
        ),
        records=written,
    )


PDF_CONTENT_TYPE = "application/pdf"


def _pdf_too_large(parameter: str) -> ExportTooLargeError:
    return ExportTooLargeError(
        f"more than {MAX_PDF_RECORDS:,} events match, the most a PDF export holds. Narrow the filters "
        f"({NARROW}) or set '{parameter}' to csv (file_type=csv), which has no such limit.",
        parameter=parameter,
        matchedRecords=MAX_PDF_RECORDS + 1,
        limit=MAX_PDF_RECORDS,
    )


def envelope_locale(request: AuditExportRequest) -> dict[str, str]:
    """``locale`` and ``timezone`` in the JSON envelope's metadata, only when the caller gave them (so the default
    envelope stays as it was)."""
    if not request.localized:
        return {}
    return {
        "locale": request.locale or DEFAULT_LOCALE,
        "timezone": request.timezone or DEFAULT_TIMEZONE,
        "localTimeColumn": LOCAL_TIME_COLUMN,
    }
