"""POST /v1/alerts/by-filters and GET /v1/incidents/{incidentId}/alerts."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator, Mapping
from typing import Any, Protocol

from export_service.dal.read_ahead import read_ahead
from export_service.errors import ExportTooLargeError, InvalidParameterError
from export_service.models.alerts import MAX_QUERIES, AlertFilter
from export_service.timefmt import format_instant, parse_instant

MAX_VALUE_CHARS = 200
MAX_ALERTS = 5000  # one answer: at most about 2 MB of JSON, well within a Lambda response


class AlertReader(Protocol):
    def find_alerts(self, tenant: str, source: str, metric_time: str) -> list[dict[str, Any]]: ...


def _values(body: AlertFilter, field: str) -> list[str]:
    values = list(dict.fromkeys(getattr(body, field)))
    for index, value in enumerate(values):
        if not value.strip() or len(value) > MAX_VALUE_CHARS:
            raise InvalidParameterError(
                f"request field '{field}[{index}]' must be a non-empty string of at most {MAX_VALUE_CHARS} characters",
                parameter=f"{field}[{index}]",
            )
    return values


def _upload_dates(body: AlertFilter) -> list[str]:
    """Distinct upload dates in the stored form (UTC, milliseconds), oldest first."""
    stamps = set()
    for index, value in enumerate(body.upload_dates):
        name = f"upload_dates[{index}]"
        try:
            stamps.add(format_instant(parse_instant(value, name)))
        except InvalidParameterError:
            raise InvalidParameterError(
                f"request field '{name}' must be an ISO 8601 date-time such as 2025-06-30T14:12:51.871Z, got "
                f"{value[:64]!r}",
                parameter=name,
            ) from None
    return sorted(stamps)


def find_alerts(
    store: AlertReader,
    tenant: str,
    body: AlertFilter,
    prefetch: int = 2,
    max_queries: int | None = MAX_QUERIES,
    too_many: tuple[str, str] = ("body", "ask for fewer sources, upload dates or violation names"),
) -> list[dict[str, Any]]:
    """Alerts of any of the sources, uploaded at any of the dates, with any of the violation names: one Query per
    (source, upload date), in the request's source order, then upload date, then violation name. More than
    MAX_ALERTS is refused (never truncated), naming ``too_many``'s parameter and saying what to do."""
    sources = _values(body, "sources")
    names = set(_values(body, "violation_names"))
    dates = _upload_dates(body)
    if max_queries is not None and len(sources) * len(dates) > max_queries:
        raise InvalidParameterError(
            f"{len(sources)} sources x {len(dates)} upload dates is more than {MAX_QUERIES} uploads per request; "
            "split the request",
            parameter="upload_dates",
        )

    def one(source: str, date: str) -> Iterator[list[dict[str, Any]]]:
        yield [alert for alert in store.find_alerts(tenant, source, date) if alert.get("violation_name") in names]

    sources_of_pages = [functools.partial(one, source, date) for source in sources for date in dates]
    found: list[dict[str, Any]] = []
    for page in read_ahead(sources_of_pages, prefetch):
        found.extend(page)
        if len(found) > MAX_ALERTS:  # one JSON answer must fit a Lambda response (6 MB)
            parameter, advice = too_many
            raise ExportTooLargeError(
                f"more than {MAX_ALERTS:,} alerts match; {advice}", parameter=parameter, limit=MAX_ALERTS
            )
    return found


def incident_alert_filter(record: Mapping[str, Any]) -> AlertFilter | None:
    """The incident API's recipe: the incident's asset_id as the source, and the metric_time and violation_name of every
    alert_ref in its history. None when the history refers to no alert."""
    refs = [ref for entry in json.loads(record.get("history") or "[]") for ref in entry.get("alert_refs", [])]
    if not refs or not record.get("asset_id"):
        return None
    # Built by the service, not sent by a caller: the request-size caps do not apply (model_construct).
    return AlertFilter.model_construct(
        sources=[record["asset_id"]],
        upload_dates=list(dict.fromkeys(ref["metric_time"] for ref in refs)),
        violation_names=list(dict.fromkeys(ref["violation_name"] for ref in refs)),
    )
