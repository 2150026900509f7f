"""GET /v1/incidents (JSON pages with signed cursors, or CSV) and GET /v1/incidents/{incidentId}."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from export_service.dal.incident_store import IncidentQuery
from export_service.dal.query import QueryPartition
from export_service.errors import NotFoundError
from export_service.logic.cursor import CursorPosition, open_cursor, seal_cursor
from export_service.logic.export_engine import ExportPlan, clamp_to_bounds
from export_service.logic.incident_filters import IncidentFilter
from export_service.models.incident_api import LIST_FIELDS
from export_service.models.incidents import Dataset
from export_service.timefmt import format_instant, parse_instant

# Stored attribute names of the list fields (created_time is stored as the nightly data export's created_at).
STORED_FIELDS = tuple("created_at" if name == "created_time" else name for name in LIST_FIELDS)
MAX_ID_CHARS = 200


class IncidentReader(Protocol):
    def plan(
        self, tenant: str, dataset: Dataset, start: datetime, end: datetime, query: IncidentQuery, descending: bool
    ) -> list[QueryPartition]: ...

    def read_fields(
        self,
        parts: Sequence[QueryPartition],
        fields: Sequence[str],
        *,
        start_after: Mapping[str, str] | None = None,
        page_size: int | None = None,
        prefetch: int = 1,
    ) -> Iterator[list[dict[str, Any]]]: ...

    def count(self, part: QueryPartition, cap: int) -> int: ...

    def bounds(self, tenant: str, dataset: Dataset) -> tuple[date, date] | None: ...

    def get_incident(self, tenant: str, incident_id: str) -> dict[str, Any] | None: ...


def plan_incidents(
    request: IncidentFilter, store: IncidentReader, *, descending: bool, end: datetime | None = None
) -> list[QueryPartition]:
    """The request's Queries, clamped to the days that hold the tenant's incidents (none when nothing can match)."""
    window, _ = clamp_to_bounds(request.start, end or request.end, store.bounds(request.tenant_id, Dataset.INCIDENTS))
    if window is None:
        return []
    return store.plan(request.tenant_id, Dataset.INCIDENTS, *window, request.query, descending)


def list_item(record: Mapping[str, Any]) -> dict[str, Any]:
    """A stored incident as the incident API's list object (numbers as integers, no value as null or [])."""
    item = {name: record.get("created_at" if name == "created_time" else name, "") for name in LIST_FIELDS}
    item["project_id"] = int(record.get("project_id", 0))
    item["ticket_id"] = int(record["ticket_id"]) if record.get("ticket_id") is not None else None
    item["tags"] = [str(tag) for tag in record.get("tags") or []]
    item["last_upload_timestamp"] = record.get("last_upload_timestamp") or None
    return item


def list_incidents(
    request: IncidentFilter, store: IncidentReader, key: bytes, limit: int, cursor: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page, newest first (created_time, then id, both descending), and the cursor of the next page (None on
    the last). The cursor resumes strictly after the page's last incident, so a walk sees each incident once."""
    fingerprint = request.fingerprint()
    end = request.end
    position = None
    if cursor is not None:
        position = open_cursor(key, cursor, request.tenant_id, fingerprint)
        end = min(parse_instant(position.end, "cursor"), parse_instant(position.sk[:24], "cursor"))
    parts = plan_incidents(request, store, descending=True, end=end)
    start_after = {"pk": position.pk, "sk": position.sk} if position else None
    taken: list[dict[str, Any]] = []
    # One more than the page: whether it exists decides if there is a next page.
    pages = store.read_fields(parts, (*STORED_FIELDS, "pk", "sk"), start_after=start_after, page_size=limit + 1)
    for page in pages:
        taken.extend(page[: limit + 1 - len(taken)])
        if len(taken) > limit:
            break
    if hasattr(pages, "close"):
        pages.close()  # stop any read-ahead
    if len(taken) <= limit:
        return [list_item(record) for record in taken], None
    last = taken[limit - 1]
    frozen = position.end if position else format_instant(request.end)
    next_cursor = seal_cursor(
        key, request.tenant_id, fingerprint, CursorPosition(pk=last["pk"], sk=last["sk"], end=frozen)
    )
    return [list_item(record) for record in taken[:limit]], next_cursor


NARROW = "the time range (from_time/to_time) or add filters"


def plan_list_export(request: IncidentFilter, store: IncidentReader) -> ExportPlan:
    """Every match, newest first, as the list orders them."""
    return ExportPlan(plan_incidents(request, store, descending=True), request.start)


def read_list_items(
    store: IncidentReader, parts: Sequence[QueryPartition], prefetch: int
) -> Iterator[list[dict[str, Any]]]:
    for page in store.read_fields(parts, STORED_FIELDS, prefetch=prefetch):
        yield [list_item(record) for record in page]


def list_envelope(request: IncidentFilter) -> dict[str, Any]:
    return {
        "from": format_instant(request.start) if request.start else None,
        "to": format_instant(request.end),
        "filter": request.query.model_dump(exclude_defaults=True),
        "sort": {"field": "created_time", "direction": "desc"},
    }


def get_incident_record(store: IncidentReader, tenant: str, incident_id: str) -> dict[str, Any]:
    """The tenant's incident, or 404 (another tenant's incident is not found either: keys start with the tenant)."""
    record = store.get_incident(tenant, incident_id) if 0 < len(incident_id) <= MAX_ID_CHARS else None
    if record is None:
        raise NotFoundError(f"no incident '{incident_id[:MAX_ID_CHARS]}'", parameter="incidentId")
    return record


def incident_detail(store: IncidentReader, tenant: str, incident_id: str) -> dict[str, Any]:
    """The list fields plus ``metrics`` and the state ``history`` with its alert_refs."""
    record = get_incident_record(store, tenant, incident_id)
    return {
        **list_item(record),
        "metrics": json.loads(record.get("metrics") or "[]"),
        "history": json.loads(record.get("history") or "[]"),
    }
