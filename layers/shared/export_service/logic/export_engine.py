"""The one export pipeline: a dataset's spec (columns, planner, reader, envelope, filename) run as plan -> read ->
render -> count -> filename, inline within the synchronous limits, or as a "too large" result that carries the
validated request into an export job. The job's steps use the same spec."""

from __future__ import annotations

import base64
import gzip
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any, Generic, TypeVar

from export_service.dal.count_budget import count_budget, current_budget
from export_service.dal.query import QueryPartition
from export_service.errors import ExportTooLargeError, ForbiddenError
from export_service.logic.balance import estimate, filtered
from export_service.logic.formats import CONTENT_TYPES, ExportFormat, make_writer, wrap_envelope
from export_service.models.api_keys import Permission, Principal
from export_service.models.export import QueryModel
from export_service.observability import phase
from export_service.timefmt import format_instant

Request = TypeVar("Request")
Pages = Iterable[Sequence[Mapping[str, Any]]]


# A gzip-encoded answer is rendered up to this many times the response limit before it is compressed (the datasets
# compress 4-11x, docs/benchmark.md); past it the export is a job. Bounds the function's memory.
GZIP_RAW_FACTOR = 12


@dataclass(frozen=True)
class ExportLimits:
    max_records: int
    max_body_bytes: int
    count_cap: int
    prefetch: int = 2  # partitions read ahead while a page is formatted
    # the caller accepts gzip: max_body_bytes then applies to the compressed body as Lambda returns it (base64)
    gzip: bool = False
    count_seconds: float = 0.25  # what counting the matches of a too-large export may take (then "at least N")

    @property
    def max_render_chars(self) -> int:
        """How much text may be rendered before the body is known to be too large for a response."""
        return self.max_body_bytes * GZIP_RAW_FACTOR if self.gzip else self.max_body_bytes


@dataclass(frozen=True)
class ExportBody:
    body: str | bytes  # bytes: a binary file (PDF) or a gzip-encoded body, sent base64-encoded through API Gateway
    content_type: str
    filename: str
    records: int
    encoding: str | None = None  # "gzip": body is the gzip-compressed file (Content-Encoding)


class Overflow(Exception):  # noqa: N818 - internal signal, always turned into ExportTooLargeError
    def __init__(self, reason: str, written: int = 0) -> None:
        super().__init__(reason)
        self.reason = reason  # "records" or "bytes"
        self.written = written  # records rendered when it stopped: at least this many match


def clamp_to_bounds(
    start: datetime | None, end: datetime, bounds: tuple[date, date] | None
) -> tuple[tuple[datetime, datetime] | None, datetime]:
    """The part of [start, end] (no start: from the first day) inside the days that hold data, or None when no such
    day can match; and the start date that names the file (the first day when the request had no lower bound)."""
    if bounds is None:
        return None, start or end
    first = datetime.combine(bounds[0], time.min, tzinfo=UTC)
    last = datetime.combine(bounds[1], time.max, tzinfo=UTC)
    lo, hi = (max(start, first) if start else first), min(end, last)
    return ((lo, hi) if lo <= hi else None), start or (first if first <= end else end)


def lambda_payload_size(body: str) -> int:
    """Bytes the body takes in the Lambda response, which the python3.11 runtime serialises as JSON with
    non-ASCII characters escaped (``\\\\uXXXX``), quotes and control characters backslash-escaped."""
    return len(json.dumps(body))


def fits_escaped(body: str, limit: int) -> bool:
    """Whether the body fits ``limit`` bytes as Lambda returns it. JSON escaping makes a character at most 12 (an
    astral one: two ``\\uXXXX``), so a body that fits even then is not escaped to be measured (a pass over all of
    it, and a copy as large as the body and more)."""
    return len(body) * 12 + 2 <= limit or lambda_payload_size(body) <= limit


def gzip_body(text: str, limits: ExportLimits) -> bytes:
    """The body gzip-compressed, or Overflow when even compressed it would not fit the response (base64-encoded, as a
    binary body leaves Lambda). Level 6: 10,000 audit records in CSV (3.7 MB) compress to 0.90 MB in about 50 ms
    here, level 9 to 0.88 MB in 70 ms, level 1 to 1.10 MB in 25 ms."""
    packed = gzip.compress(text.encode("utf-8"), compresslevel=6, mtime=0)
    if len(base64.b64encode(packed)) + 2 > limits.max_body_bytes:
        raise Overflow("bytes")
    return packed


def render(
    pages: Iterable[Sequence[Mapping[str, Any]]],
    fmt: ExportFormat,
    columns: Sequence[str],
    *,
    limits: ExportLimits,
    kind: str,
    metadata: Callable[[int], Mapping[str, Any]],
    bom: bool = False,
) -> tuple[str, int]:
    """The whole body and its record count; raises Overflow rather than truncate."""
    out = io.StringIO()
    writer = make_writer(fmt, out, columns, bom=bom)
    written = 0
    for page in pages:
        written += len(page)
        if written > limits.max_records:
            raise Overflow("records", written)
        with phase("format"):  # the read is its own subsegment (## read, in the store)
            writer.write_many(page)
        # Characters never outnumber the body's serialised bytes, so this cheap check stops early, never wrongly
        # (gzip: a body that would need more than GZIP_RAW_FACTOR times compression to fit goes to a job).
        if out.tell() > limits.max_render_chars:
            raise Overflow("bytes", written)
    body = out.getvalue()
    if fmt is ExportFormat.JSON:
        body = wrap_envelope(kind, metadata(written), body)
    if not limits.gzip and not fits_escaped(body, limits.max_body_bytes):
        raise Overflow("bytes")  # gzip: the compressed size is checked by gzip_body
    return body, written


def too_large(
    reason: str, matched: int, limits: ExportLimits, narrow: str, complete: bool = True
) -> ExportTooLargeError:
    """The 4xx for an over-limit synchronous export: how many records match (``complete``: counted to the end, else
    at least ``matched``) and how to narrow the request."""
    counted = f"at least {matched:,}" if matched >= limits.count_cap or not complete else f"{matched:,}"
    if reason == "records":
        message = (
            f"{counted} records match, more than the synchronous limit of {limits.max_records:,}. "
            f"Narrow {narrow} and export in several requests."
        )
    else:
        message = (
            f"the export is larger than a synchronous response allows ({limits.max_body_bytes:,} bytes); "
            f"{counted} records match. Narrow {narrow} and export in several requests."
        )
    return ExportTooLargeError(message, matchedRecords=matched, limit=limits.max_records)


def count_capped(count: Callable[[Any, int], int], parts: Sequence[Any], cap: int) -> int:
    """Matches of ``parts`` up to ``cap``; partitions left uncounted once the count budget in force is spent."""
    total = 0
    budget = current_budget()
    for part in parts:
        if budget is not None and budget.spent():
            return total
        before = budget.counted if budget is not None else 0
        counted = count(part, cap - total)
        if budget is not None and budget.counted == before:  # a counter that does not report to the budget
            budget.add(counted)
        total += counted
        if total >= cap:
            return cap
    return total


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def export_filename(
    resource: str,
    fmt: StrEnum,
    *,
    start: datetime | None,
    end: datetime,
    bounded: bool,
    now: datetime,
    entity: str | None = None,
) -> str:
    """``<resource>[-<entity>]-<start>_<end>.<ext>``, or ``<resource>[-<entity>]-<today>.<ext>`` without bounds
    (``ext``: the format's value)."""
    safe = _UNSAFE.sub("_", entity or "").strip("_")[:80]
    name = f"{resource}-{safe}" if safe else resource
    if not bounded or start is None:
        return f"{name}-{now.date().isoformat()}.{fmt.value}"
    return f"{name}-{start.date().isoformat()}_{end.date().isoformat()}.{fmt.value}"


def content_type(fmt: ExportFormat) -> str:
    return CONTENT_TYPES[fmt]


@dataclass(frozen=True)
class ExportPlan:
    parts: list[QueryPartition]
    name_start: datetime | None  # the start date that names the file
    entity: str | None = None  # names the file too (an incident's number)


@dataclass(frozen=True)
class RowScope:
    """A dataset whose rows are each read with their own permission (an activity with the permission of the kind of
    resource it is about): a key reads the rows of the permissions it holds among ``permissions``. ``narrow`` limits
    a built request to the rows of the permissions given (the key's, or the ones a job recorded when it started)."""

    permissions: frozenset[Permission]
    narrow: Callable[[Any, frozenset[Permission]], Any]


@dataclass(frozen=True)
class ExportSpec(Generic[Request]):
    """What a dataset supplies to the pipeline; everything else (limits, formats, jobs) is shared."""

    name: str  # the dataset's name in export jobs
    resource: str  # what its files are named after
    permission: Permission | None  # reads its rows, on every path (None: each row needs its own, see row_scope)
    query: type[QueryModel]  # its parameters: validated the same way inline and in a job
    kind: str  # the JSON envelope's kind
    narrow: str  # how to narrow a request that is too large
    build: Callable[[str, Any, datetime], Request]  # (tenant, query, now) -> a validated request
    plan: Callable[[Request, Any], ExportPlan]  # (request, stores)
    read: Callable[[Request, Any, Sequence[QueryPartition], int], Pages]  # (request, stores, parts, prefetch)
    # stores -> count(part, cap); None: matches are counted by reading them (rows filtered after the read)
    counter: Callable[[Any], Callable[[QueryPartition, int], int]] | None
    columns: Callable[[Request], tuple[str, ...]]
    envelope: Callable[[Request], dict[str, Any]]  # the JSON envelope's metadata (besides counts and format)
    bounds: Callable[[Request], tuple[datetime | None, datetime, bool]]  # start, end, whether the caller bounded it
    bom: Callable[[Request], bool] = lambda _request: False
    row_scope: RowScope | None = None  # rows read with one of several permissions (each row its own)
    dated_name: bool = False  # files named <resource>-YYYYMMDD by the day of the export, whatever the range
    # stores -> what sizes its partitions (dal/split.py): a job's parts balanced by items, busy partitions cut by
    # sort-key ranges; None: parts of consecutive partitions, as many partitions each
    prober: Callable[[Any], Any] | None = None


def read_scope(spec: ExportSpec[Any], held: frozenset[Permission]) -> frozenset[Permission]:
    """The permissions among ``held`` that read rows of the dataset (empty: it may read none)."""
    if spec.row_scope is not None:
        return held & spec.row_scope.permissions
    return held & {spec.permission} if spec.permission is not None else frozenset()


def require_read(spec: ExportSpec[Any], principal: Principal) -> frozenset[Permission]:
    """The permissions the principal reads the dataset's rows with; 403 naming what is missing when none."""
    scope = read_scope(spec, principal.permissions)
    if not scope:
        needed = sorted(spec.row_scope.permissions) if spec.row_scope else [spec.permission]
        names = " or ".join(str(permission) for permission in needed)
        raise ForbiddenError(f"this API key lacks the {names} permission to read {spec.name}")
    return scope


def build_request(
    spec: ExportSpec[Request], tenant: str, held: frozenset[Permission], query: Any, now: datetime
) -> Any:
    """The validated request, limited to the rows ``held`` reads when the dataset's rows carry their own permission."""
    request = spec.build(tenant, query, now)
    return spec.row_scope.narrow(request, read_scope(spec, held)) if spec.row_scope else request


def count_matches(
    spec: ExportSpec[Request], request: Request, stores: Any, parts: Sequence[QueryPartition], cap: int
) -> int:
    """How many rows the request matches, counted up to ``cap``."""
    if spec.counter is not None:
        return count_capped(spec.counter(stores), parts, cap)
    total = 0
    budget = current_budget()
    pages = spec.read(request, stores, parts, 1)
    try:
        for page in pages:
            total += len(page)
            if total >= cap:
                return cap
            if budget is not None:
                budget.add(len(page))
                if budget.spent():
                    return total
    finally:
        if hasattr(pages, "close"):
            pages.close()
    return total


def bounded_count(
    spec: ExportSpec[Request],
    request: Request,
    stores: Any,
    parts: Sequence[QueryPartition],
    cap: int,
    seconds: float,
    floor: int = 0,
) -> tuple[int, bool]:
    """How many rows the request matches, counted up to ``cap`` within ``seconds`` (between pages; but always up to
    ``floor``), and whether the count was finished (else the number is a lower bound): what a 202 can say at once,
    whatever the size."""
    with count_budget(seconds, floor) as budget:
        total = count_matches(spec, request, stores, parts, cap)
    return total, not budget.cut and total < cap


@dataclass(frozen=True)
class TooLarge:
    """An export over the synchronous limits, never truncated: the error to answer where no job can run, and the
    validated request to hand to an export job."""

    error: ExportTooLargeError
    matched: int
    query: QueryModel
    complete: bool = True  # matched was counted to the end (else it is a lower bound)


def over_the_limit(
    spec: ExportSpec[Request], request: Request, stores: Any, parts: Sequence[QueryPartition], limits: ExportLimits
) -> tuple[int, bool] | None:
    """When more records match than an answer holds, how many (and whether counted to the end); else None.

    A count that runs to the limit (Select=COUNT pages: the items are not sent) decides before anything is read and
    rendered, so a request far over the limit answers its 202 at once, whatever its size; past the limit it counts
    on only within the count budget (the job's estimate, "at least N" when cut). Where the limit is beyond what is
    counted (``count_cap``, as the benchmark lifts it) the rendering alone decides, as it always can (it stops at
    the limit)."""
    if limits.max_records >= limits.count_cap:
        return None
    prober = _prober(spec, stores) if not filtered(parts) else None
    if prober is not None:  # the planner's probes: a few small Queries, no paging through a busy day
        probed = estimate(parts, prober)
        if probed.exact:
            return (probed.rows, True) if probed.rows > limits.max_records else None
        if probed.at_least > limits.max_records:  # certainly over: the job's estimate is the probes'
            return max(probed.rows, probed.at_least), True
    floor = limits.max_records + 1  # counted to the end up to here, on within the budget beyond
    counted, complete = bounded_count(spec, request, stores, parts, limits.count_cap, limits.count_seconds, floor)
    return (counted, complete) if counted > limits.max_records else None


def _prober(spec: ExportSpec[Any], stores: Any) -> Any:
    try:
        return spec.prober(stores) if spec.prober is not None else None
    except AttributeError:  # a store that sizes no partitions (a test double)
        return None


def spec_filename(spec: ExportSpec[Any], request: Any, plan: ExportPlan, fmt: StrEnum, now: datetime) -> str:
    if spec.dated_name:
        return f"{spec.resource}-{now:%Y%m%d}.{fmt.value}"
    _start, end, bounded = spec.bounds(request)
    return export_filename(
        spec.resource, fmt, start=plan.name_start, end=end, bounded=bounded, now=now, entity=plan.entity
    )


def envelope_metadata(spec: ExportSpec[Any], request: Any, now: datetime) -> dict[str, Any]:
    """The JSON envelope's metadata before the counts: when, and what the request selected."""
    return {"exportedAt": format_instant(now), **spec.envelope(request)}


def export_inline(
    spec: ExportSpec[Request],
    request: Request,
    query: QueryModel,
    fmt: ExportFormat,
    stores: Any,
    limits: ExportLimits,
    now: datetime,
) -> ExportBody | TooLarge:
    """Plan, read, render and name the whole (bounded) export; too many records or bytes is a TooLarge carrying
    the count and ``query``, never a truncated file."""
    plan = spec.plan(request, stores)

    def metadata(total: int) -> dict[str, Any]:
        return {**envelope_metadata(spec, request, now), "totalRecords": total, "format": fmt.value}

    over = over_the_limit(spec, request, stores, plan.parts, limits)
    if over is not None:  # more records than an answer holds: a job at once, nothing rendered
        return TooLarge(too_large("records", over[0], limits, spec.narrow, over[1]), over[0], query, over[1])
    try:
        text, written = render(
            spec.read(request, stores, plan.parts, limits.prefetch),
            fmt,
            spec.columns(request),
            limits=limits,
            kind=spec.kind,
            metadata=metadata,
            bom=spec.bom(request),
        )
        body: str | bytes = gzip_body(text, limits) if limits.gzip else text
    except Overflow as overflow:
        # counted within a budget (an answer well under a second whatever the size): at least what was rendered
        counted, complete = bounded_count(spec, request, stores, plan.parts, limits.count_cap, limits.count_seconds)
        matched = max(counted, overflow.written)
        complete = complete and counted >= overflow.written
        return TooLarge(too_large(overflow.reason, matched, limits, spec.narrow, complete), matched, query, complete)
    filename = spec_filename(spec, request, plan, fmt, now)
    encoding = "gzip" if limits.gzip else None
    return ExportBody(body=body, content_type=content_type(fmt), filename=filename, records=written, encoding=encoding)
