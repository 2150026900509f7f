"""What every synchronous export shares: rendering pages into one bounded body, the size limits, filenames."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from enum import StrEnum
from typing import Any

from export_service.errors import ExportTooLargeError
from export_service.logic.formats import CONTENT_TYPES, ExportFormat, make_writer, wrap_envelope


@dataclass(frozen=True)
class ExportLimits:
    max_records: int
    max_body_bytes: int
    count_cap: int
    prefetch: int = 2  # partitions read ahead while a page is formatted


@dataclass(frozen=True)
class ExportBody:
    body: str | bytes  # bytes: a binary file (PDF), sent base64-encoded through API Gateway
    content_type: str
    filename: str
    records: int


class Overflow(Exception):  # noqa: N818 - internal signal, always turned into ExportTooLargeError
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason  # "records" or "bytes"


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
            raise Overflow("records")
        writer.write_many(page)
        # Characters never outnumber the body's serialised bytes, so this cheap check stops early, never wrongly.
        if out.tell() > limits.max_body_bytes:
            raise Overflow("bytes")
    body = out.getvalue()
    if fmt is ExportFormat.JSON:
        body = wrap_envelope(kind, metadata(written), body)
    if lambda_payload_size(body) > limits.max_body_bytes:
        raise Overflow("bytes")
    return body, written


def too_large(reason: str, matched: int, limits: ExportLimits, narrow: str) -> ExportTooLargeError:
    """The 4xx for an over-limit synchronous export: how many records match and how to narrow the request."""
    counted = f"at least {matched:,}" if matched >= limits.count_cap else f"{matched:,}"
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
    total = 0
    for part in parts:
        total += count(part, cap - total)
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
