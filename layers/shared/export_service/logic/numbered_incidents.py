"""The incident API where incidents are addressed by number (``/api/backend/{tenant}/...``): the same reads as the
product's incident routes, answered in the documented shapes exactly. An incident's ``id`` there is the integer of
its number (unique in the tenant, never reused), the list is every match in one JSON array (refused, never cut, when
it cannot fit one answer), and alerts, distribution and summary carry the documented fields only."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from export_service.errors import ExportTooLargeError, InvalidParameterError, NotFoundError
from export_service.logic.export_engine import ExportLimits, count_capped, lambda_payload_size
from export_service.logic.incident_filters import IncidentFilter
from export_service.logic.incident_list import STORED_FIELDS, IncidentReader, list_item, plan_incidents
from export_service.models.alerts import ALERT_OBJECT_FIELDS
from export_service.models.incident_api import (
    NUMBERED_DETAIL_FIELDS,
    NUMBERED_LIST_FIELDS,
    IncidentListQuery,
    incident_number,
)

_PATH_NUMBER = re.compile(r"[0-9]{1,15}")
# GET /v1/incidents parameters that page or format; this list answers every match as JSON, so they mean nothing here.
PAGING_PARAMETERS = ("limit", "cursor", "format")
WHERE_ELSE = (
    "GET /v1/incidents takes the same filters and pages through every match with a cursor (X-Next-Cursor), and "
    "GET /v1/incidents?format=csv returns every match as one file (as an export job when it is large)"
)


class NumberedReader(IncidentReader, Protocol):
    def incident_id_by_number(self, tenant: str, number: int) -> str | None: ...


def numbered_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored incident as the documented list object: ``id`` the integer of its number, exactly those fields."""
    item = list_item(record)
    item["id"] = incident_number(str(record.get("number") or ""))
    return {name: item[name] for name in NUMBERED_LIST_FIELDS}


def refuse_paging(query: IncidentListQuery) -> None:
    """This list has no pages: a paging or format parameter is a 400 that says where pages are."""
    for name in PAGING_PARAMETERS:
        if name in query.model_fields_set:
            raise InvalidParameterError(
                f"query parameter '{name}' is not accepted here: this path answers every matching incident in one "
                f"JSON array. {WHERE_ELSE}",
                parameter=name,
            )


def every_match(request: IncidentFilter, store: IncidentReader, limits: ExportLimits) -> str:
    """Every matching incident, newest first, as one JSON array; more than ``limits.max_records`` incidents, or more
    bytes than a Lambda response holds, is EXPORT_TOO_LARGE (400) saying how many match and how to get them."""
    parts = plan_incidents(request, store, descending=True)
    items: list[str] = []
    size = 2
    pages = store.read_fields(parts, STORED_FIELDS, prefetch=limits.prefetch)
    try:
        for page in pages:
            for record in page:
                text = json.dumps(numbered_item(record))
                items.append(text)
                size += len(text) + 2
            if len(items) > limits.max_records or size > limits.max_body_bytes:
                break
    finally:
        if hasattr(pages, "close"):
            pages.close()  # stop any read-ahead
    body = "[" + ", ".join(items) + "]"
    if len(items) > limits.max_records:
        raise _too_large(store, limits, parts, f"the limit of {limits.max_records:,} incidents an answer holds")
    if size > limits.max_body_bytes or lambda_payload_size(body) > limits.max_body_bytes:
        raise _too_large(store, limits, parts, f"what one answer holds ({limits.max_body_bytes:,} bytes)")
    return body


def _too_large(store: IncidentReader, limits: ExportLimits, parts: list[Any], bound: str) -> ExportTooLargeError:
    matched = count_capped(store.count, parts, limits.count_cap)
    counted = f"at least {matched:,}" if matched >= limits.count_cap else f"{matched:,}"
    return ExportTooLargeError(
        f"{counted} incidents match, more than {bound}; this list is never cut short. Narrow the query: a shorter "
        f"time range (from_time/to_time) or more filters (severities, impacts, project_ids, connection_types, "
        f"connection_ids, alert_policy_ids, text_to_search). Or: {WHERE_ELSE}.",
        matchedRecords=matched,
        limit=limits.max_records,
    )


def path_number(text: str) -> int:
    """The incident number a path gives (``1311``); 400 naming incidentId for anything else."""
    if not _PATH_NUMBER.fullmatch(text):
        raise InvalidParameterError(
            f"path parameter 'incidentId' must be an incident's integer id as the list returns it (e.g. 1311), got "
            f"{text[:64]!r}",
            parameter="incidentId",
        )
    return int(text)


def numbered_detail(store: NumberedReader, tenant: str, text: str) -> dict[str, Any]:
    """The documented details of the tenant's incident with this number (another tenant's is not found: the
    lookup is in the key's tenant only)."""
    number = path_number(text)
    incident_id = store.incident_id_by_number(tenant, number)
    record = store.get_incident(tenant, incident_id) if incident_id else None
    if record is None or incident_number(str(record.get("number") or "")) != number:
        raise NotFoundError(f"no incident {number}", parameter="incidentId")
    detail = {
        **numbered_item(record),
        "metrics": json.loads(record.get("metrics") or "[]"),
        "history": json.loads(record.get("history") or "[]"),
    }
    return {name: detail[name] for name in NUMBERED_DETAIL_FIELDS}


def alert_objects(alerts: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Alerts with exactly the documented alert object's fields."""
    return [{name: alert.get(name) for name in ALERT_OBJECT_FIELDS} for alert in alerts]


def distribution_days(body: Mapping[str, Any]) -> dict[str, Any]:
    """The distribution as documented: ``{"incidents": [...]}``."""
    return {"incidents": body["incidents"]}


SUMMARY_FIELDS = (
    "total",
    "open",
    "closed",
    "mean_time_to_resolve",
    "previous_mean_time_to_resolve",
    "open_by_tag",
    "closed_by_tag",
)


def summary_counts(body: Mapping[str, Any]) -> dict[str, Any]:
    """The summary's documented fields (the periods used are left out)."""
    return {name: body[name] for name in SUMMARY_FIELDS}
