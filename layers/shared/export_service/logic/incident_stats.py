"""GET /v1/incidents/distribution and GET /v1/incidents/summary: aggregates streamed over the matching incidents.

Both read only the attributes they count (a ProjectionExpression), page by page, and keep one counter per day,
severity, impact or tag: memory does not grow with the number of incidents, only with days and distinct tags.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from export_service.errors import InvalidParameterError
from export_service.logic.incident_filters import IncidentFilter
from export_service.logic.incident_list import IncidentReader, plan_incidents
from export_service.models.incidents import IMPACTS, SEVERITIES
from export_service.timefmt import format_instant

DEFAULT_SUMMARY_PERIOD = timedelta(days=30)
_HOUR_MS = 3_600_000
_MILLISECOND = timedelta(milliseconds=1)


def parse_timezone(name: str) -> ZoneInfo:
    """An IANA time zone (``Europe/Berlin``, ``UTC``); 400 naming 'timezone' otherwise."""
    try:
        if 0 < len(name) <= 64 and not name.startswith(("/", ".")):
            return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise InvalidParameterError(
        f"query parameter 'timezone' must be an IANA time zone such as UTC or Europe/Berlin, got '{name[:64]}'",
        parameter="timezone",
    )


def _records(request: IncidentFilter, store: IncidentReader, fields: tuple[str, ...], prefetch: int) -> Iterable[Any]:
    parts = plan_incidents(request, store, descending=False)
    for page in store.read_fields(parts, fields, prefetch=prefetch):
        yield from page


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


def incident_distribution(
    request: IncidentFilter, store: IncidentReader, zone: ZoneInfo, prefetch: int = 2
) -> dict[str, Any]:
    """Per calendar day in ``zone`` (days with incidents, oldest first): counts by severity, with "" for none, and
    by impact. A day is a local day, so across a DST change it is 23 or 25 hours long."""
    by_day: dict[str, tuple[Counter[str], Counter[str]]] = {}
    for record in _records(request, store, ("created_at", "severity", "impact"), prefetch):
        day = _instant(record["created_at"]).astimezone(zone).date().isoformat()
        severities, impacts = by_day.setdefault(day, (Counter(), Counter()))
        severities[record.get("severity") or ""] += 1
        impacts[record.get("impact") or ""] += 1
    keys = (*SEVERITIES, "")
    impact_keys = (*IMPACTS, "")
    return {
        "incidents": [
            {
                "date": day,
                "counts": {key: by_day[day][0][key] for key in keys},
                "counts_by_impact": {key: by_day[day][1][key] for key in impact_keys},
            }
            for day in sorted(by_day)
        ],
        "timezone": zone.key,
    }


def _period_stats(request: IncidentFilter, store: IncidentReader, prefetch: int) -> dict[str, Any]:
    total = 0
    status_counts: Counter[str] = Counter()
    by_tag: dict[str, Counter[str]] = {"OPEN": Counter(), "CLOSED": Counter()}
    resolved_ms = resolved = 0
    for record in _records(request, store, ("created_at", "status", "tags", "resolved_at"), prefetch):
        total += 1
        status = record.get("status") or "OPEN"
        status_counts[status] += 1
        by_tag.setdefault(status, Counter()).update(str(tag) for tag in record.get("tags") or [])
        if status == "CLOSED" and record.get("resolved_at"):
            delta = _instant(record["resolved_at"]) - _instant(record["created_at"])
            resolved_ms += delta // _MILLISECOND
            resolved += 1
    return {
        "total": total,
        "open": status_counts["OPEN"],
        "closed": status_counts["CLOSED"],
        "mean_time_to_resolve": mean_hours(resolved_ms, resolved),
        "open_by_tag": dict(sorted(by_tag["OPEN"].items())),
        "closed_by_tag": dict(sorted(by_tag["CLOSED"].items())),
    }


def mean_hours(total_ms: int, count: int) -> int | None:
    """The mean in whole hours, halves rounded up (integer arithmetic: no float drift); None for no values."""
    if count == 0:
        return None
    return (2 * total_ms + count * _HOUR_MS) // (2 * count * _HOUR_MS)


def summary_periods(request: IncidentFilter) -> tuple[tuple[datetime, datetime], tuple[datetime, datetime]]:
    """The period (the request's range; without from_time the 30 days up to its end) and the previous one: the
    same length, ending a millisecond before the period starts."""
    try:
        start = request.start if request.start is not None else request.end - DEFAULT_SUMMARY_PERIOD + _MILLISECOND
        length = request.end - start + _MILLISECOND  # both ends are inclusive
        return (start, request.end), (start - length, start - _MILLISECOND)
    except OverflowError:  # the previous period would begin before the year 1
        name = "from_time" if request.start is not None else "to_time"
        raise InvalidParameterError(
            f"query parameter '{name}' is too early: the summary's previous period (as long as the period, just "
            "before it) would begin before the year 1",
            parameter=name,
        ) from None


def incident_summary(request: IncidentFilter, store: IncidentReader, prefetch: int = 2) -> dict[str, Any]:
    (start, end), (previous_start, previous_end) = summary_periods(request)
    current = _period_stats(request.model_copy(update={"start": start}), store, prefetch)
    previous = _period_stats(request.model_copy(update={"start": previous_start, "end": previous_end}), store, prefetch)
    return {
        "total": current["total"],
        "open": current["open"],
        "closed": current["closed"],
        "mean_time_to_resolve": current["mean_time_to_resolve"],
        "previous_mean_time_to_resolve": previous["mean_time_to_resolve"],
        "open_by_tag": current["open_by_tag"],
        "closed_by_tag": current["closed_by_tag"],
        "from_time": format_instant(start),
        "to_time": format_instant(end),
        "previous_from_time": format_instant(previous_start),
        "previous_to_time": format_instant(previous_end),
    }
