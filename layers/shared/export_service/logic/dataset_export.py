"""The incident datasets' exports: their filters (lists, an incident, the Validio-style JSON filter and sort)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict

from export_service.dal.incident_store import IncidentQuery
from export_service.dal.query import QueryPartition
from export_service.errors import InvalidParameterError, InvalidRangeError, NotFoundError
from export_service.logic.export_engine import ExportPlan, clamp_to_bounds
from export_service.logic.formats import ExportFormat
from export_service.models.incidents import DATASETS, PRIORITIES, SEVERITIES, STATUSES, Dataset, DatasetExportQuery
from export_service.timefmt import ceil_to_millisecond, format_instant, parse_instant

LIST_FILTERS: dict[str, tuple[str, ...] | None] = {
    "severities": SEVERITIES,
    "priorities": PRIORITIES,
    "statuses": STATUSES,
    "tags": None,  # free text
    "project_ids": None,  # integers
}
FILTER_FIELDS = (*LIST_FILTERS, "incident_id", "range")
INCIDENT_ONLY_FILTERS = frozenset(LIST_FILTERS)
# Only created_at can be ordered without loading the result: rows are stored and read in created_at order.
SORTABLE_FIELDS = ("created_at",)
MAX_FILTER_VALUES = 100  # DynamoDB's limit of operands in an IN
MAX_TAGS = 20  # each tag is a contains() of its own: 20 keeps the filter expression well under 4 KB
MAX_VALUE_CHARS = 128
MAX_JSON_CHARS = 8192
MAX_ID_CHARS = 200
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")  # fits DynamoDB's 38-digit numbers and a 64-bit integer
NARROW = "the time range ('from'/'to') or add filters (filter, severities, incident_id, ...)"


class DatasetQueryStore(Protocol):
    def plan(
        self, tenant: str, dataset: Dataset, start: datetime, end: datetime, query: IncidentQuery, descending: bool
    ) -> list[QueryPartition]: ...

    def read_plan(
        self, dataset: Dataset, parts: Sequence[QueryPartition], prefetch: int = 2
    ) -> Iterator[list[dict[str, str]]]: ...

    def count(self, part: QueryPartition, cap: int) -> int: ...

    def bounds(self, tenant: str, dataset: Dataset) -> tuple[date, date] | None: ...

    def get_incident(self, tenant: str, incident_id: str) -> dict[str, Any] | None: ...


class DatasetExportRequest(BaseModel):
    model_config = ConfigDict(frozen=True)

    tenant_id: str
    dataset: Dataset
    fmt: ExportFormat
    start: datetime | None
    end: datetime
    bounded: bool
    query: IncidentQuery
    descending: bool = False
    bom: bool = False


def parse_dataset(name: str) -> Dataset:
    try:
        return Dataset(name)
    except ValueError:
        raise NotFoundError(
            f"unknown dataset '{name}'; datasets: {', '.join(d.value for d in Dataset)}",
            parameter="dataset",
            datasets=[d.value for d in Dataset],
        ) from None


def _json_parameter(name: str, raw: str | None) -> Any:
    if raw is None:
        return None
    problem = "too long" if len(raw) > MAX_JSON_CHARS else None
    if problem is None:
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            problem = f"{exc.msg} at position {exc.pos}"
        except (ValueError, RecursionError):  # integers over 4,300 digits, nesting deeper than Python's stack
            problem = "nested too deeply or a number too large"
    raise InvalidParameterError(
        f"query parameter '{name}' is not valid JSON ({problem}); URL-encode a JSON object "
        'such as {"severities":["HIGH"],"range":{"start":"2026-03-01T00:00:00Z"}}',
        parameter=name,
    )


def split_values(values: Sequence[str] | None) -> list[str] | None:
    """The incident API's comma-separated lists, also accepted as repeated parameters."""
    if values is None:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def list_filter(
    name: str,
    value: Any,
    where: str,
    choices: Mapping[str, tuple[str, ...] | None] = LIST_FILTERS,
    most: int | None = None,
) -> list[Any]:
    """A validated list filter: distinct values, bounded in number and length; ``project_ids`` as integers, and
    only the ``choices`` of the name when it has any."""
    if isinstance(value, str | int) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidParameterError(f"{where} must be a non-empty list", parameter=name)
    if not all(isinstance(entry, str | int) and not isinstance(entry, bool) for entry in value):
        kind = "integers" if name == "project_ids" else "non-empty strings"
        raise InvalidParameterError(f"{where} must be {kind}", parameter=name)
    # DynamoDB allows 100 operands in an IN and 4 KB of expression: bound what a caller can ask for.
    distinct = list(dict.fromkeys(value))
    most = most or (MAX_TAGS if name == "tags" else MAX_FILTER_VALUES)
    if len(distinct) > most:
        raise InvalidParameterError(f"{where} has {len(distinct)} values; at most {most} per request", parameter=name)
    if name == "project_ids":
        numbers = []
        for entry in distinct:
            text = str(entry) if isinstance(entry, int | str) and not isinstance(entry, bool) else ""
            if not _INTEGER.match(text):
                raise InvalidParameterError(f"{where} must be integers, got {entry!r}", parameter=name)
            numbers.append(int(text))
        return list(dict.fromkeys(numbers))
    if not all(isinstance(entry, str) and 0 < len(entry) <= MAX_VALUE_CHARS for entry in distinct):
        raise InvalidParameterError(
            f"{where} must be non-empty strings of at most {MAX_VALUE_CHARS} characters", parameter=name
        )
    value = distinct
    allowed = choices.get(name)
    if allowed is not None:
        unknown = [entry for entry in value if entry not in allowed]
        if unknown:
            raise InvalidParameterError(
                f"{where} has unknown value {unknown[0]!r}; accepted: {', '.join(allowed)}", parameter=name
            )
    return list(value)


def _filter_object(raw: str | None) -> dict[str, Any]:
    document = _json_parameter("filter", raw)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InvalidParameterError("query parameter 'filter' must be a JSON object", parameter="filter")
    for key in document:
        if key not in FILTER_FIELDS:
            raise InvalidParameterError(
                f"filter field '{key}' is unknown; accepted: {', '.join(FILTER_FIELDS)}", parameter="filter"
            )
    time_range = document.get("range")
    if time_range is not None:
        if not isinstance(time_range, dict) or not set(time_range) <= {"start", "end"}:
            raise InvalidParameterError(
                "filter field 'range' must be an object with 'start' and/or 'end'", parameter="filter"
            )
        for key, value in time_range.items():
            if value is not None and not isinstance(value, str):
                raise InvalidParameterError(f"filter.range.{key} must be an ISO 8601 string", parameter="filter")
    if "incident_id" in document and not (isinstance(document["incident_id"], str) and document["incident_id"]):
        raise InvalidParameterError("filter field 'incident_id' must be a non-empty string", parameter="filter")
    return document


def parse_sort(raw: str | None) -> bool:
    """Validio's sort: ``{"field": "created_at", "direction": "asc"|"desc"}`` (or a one-element list of it).
    Returns True for descending."""
    document = _json_parameter("sort", raw)
    if document is None:
        return False
    if isinstance(document, list) and len(document) == 1:
        document = document[0]
    if not isinstance(document, dict) or not isinstance(document.get("field"), str):
        raise InvalidParameterError(
            'query parameter \'sort\' must be a JSON object such as {"field":"created_at","direction":"desc"}',
            parameter="sort",
        )
    unknown = set(document) - {"field", "direction"}
    if unknown:
        raise InvalidParameterError(f"sort has unknown key '{sorted(unknown)[0]}'", parameter="sort")
    if document["field"] not in SORTABLE_FIELDS:
        raise InvalidParameterError(
            f"sort field '{document['field']}' cannot be sorted without loading the whole export into memory; "
            f"sortable: {', '.join(SORTABLE_FIELDS)}",
            parameter="sort",
        )
    direction = str(document.get("direction", "asc")).lower()
    if direction not in ("asc", "desc"):
        raise InvalidParameterError("sort direction must be 'asc' or 'desc'", parameter="sort")
    return direction == "desc"


def _one_bound(candidates: Mapping[str, str | None], which: str) -> tuple[str, datetime] | None:
    given = [(name, value) for name, value in candidates.items() if value is not None]
    if len(given) > 1:
        names = " and ".join(f"'{name}'" for name, _ in given)
        raise InvalidParameterError(f"{names} both give the {which} of the range; use one", parameter=given[1][0])
    if not given:
        return None
    name, value = given[0]
    return name, parse_instant(value, name)


def build_dataset_request(
    tenant_id: str, dataset_name: str, query: DatasetExportQuery, now: datetime
) -> DatasetExportRequest:
    """Validate everything a caller can send (the query model gives the parameters, typed)."""
    dataset = parse_dataset(dataset_name)
    document = _filter_object(query.filter)
    lists = query.list_filters()
    incident_id = query.incident_id
    time_range = document.get("range") or {}
    chosen: dict[str, Any] = {}
    for name in LIST_FILTERS:
        from_query, from_filter = split_values(lists.get(name)), document.get(name)
        if from_query is not None and from_filter is not None:
            raise InvalidParameterError(f"'{name}' is given both as a parameter and in 'filter'", parameter=name)
        if from_query is not None:
            chosen[name] = list_filter(name, from_query, f"query parameter '{name}'")
        elif from_filter is not None:
            chosen[name] = list_filter(name, from_filter, f"filter field '{name}'")
    if incident_id is not None and "incident_id" in document:
        raise InvalidParameterError(
            "'incident_id' is given both as a parameter and in 'filter'", parameter="incident_id"
        )
    chosen_incident = incident_id if incident_id is not None else document.get("incident_id")
    where = "query parameter 'incident_id'" if incident_id is not None else "filter field 'incident_id'"
    if chosen_incident is not None and not chosen_incident.strip():
        raise InvalidParameterError(
            f"{where} must not be empty", parameter="incident_id" if incident_id is not None else "filter"
        )
    if chosen_incident is not None and len(chosen_incident) > MAX_ID_CHARS:
        raise InvalidParameterError(
            f"{where} is longer than an id can be ({MAX_ID_CHARS} characters)",
            parameter="incident_id" if incident_id is not None else "filter",
        )
    if dataset is not Dataset.INCIDENTS:
        for name in INCIDENT_ONLY_FILTERS & set(chosen):
            raise InvalidParameterError(
                f"'{name}' filters incidents; it applies to dataset 'incidents' only (use incident_id here)",
                parameter=name,
            )
    start_candidates = {**query.start_candidates(), "filter.range.start": time_range.get("start")}
    end_candidates = {**query.end_candidates(), "filter.range.end": time_range.get("end")}
    start = _one_bound(start_candidates, "start")
    end = _one_bound(end_candidates, "end")
    start_at = ceil_to_millisecond(start[1]) if start else None
    end_at = end[1] if end else now
    if start_at is not None and start_at > end_at:
        raise InvalidRangeError(
            f"'{start[0] if start else 'from'}' ({format_instant(start_at)}) is after "
            f"'{end[0] if end else 'to'}' ({format_instant(end_at)})",
            parameter=start[0] if start else "from",
        )
    return DatasetExportRequest(
        tenant_id=tenant_id,
        dataset=dataset,
        fmt=query.fmt,
        start=start_at,
        end=end_at,
        bounded=bool(start or end),
        query=IncidentQuery(**chosen, incident_id=chosen_incident),
        descending=parse_sort(query.sort),
        bom=query.bom,
    )


def plan_dataset(request: DatasetExportRequest, store: DatasetQueryStore) -> ExportPlan:
    """The Queries of a request clamped to the tenant's days, the start date naming the file, and the entity name
    (the incident's number when the export is scoped to one incident)."""
    window, name_start = clamp_to_bounds(request.start, request.end, store.bounds(request.tenant_id, request.dataset))
    parts = store.plan(request.tenant_id, request.dataset, *window, request.query, request.descending) if window else []
    entity = None
    if request.query.incident_id:
        incident = store.get_incident(request.tenant_id, request.query.incident_id)
        entity = str(incident.get("number") or request.query.incident_id) if incident else request.query.incident_id
    return ExportPlan(parts, name_start, entity)


def dataset_envelope(request: DatasetExportRequest) -> dict[str, Any]:
    return {
        "dataset": request.dataset.value,
        "source": DATASETS[request.dataset].source,
        "from": format_instant(request.start) if request.start else None,
        "to": format_instant(request.end),
        "filter": request.query.model_dump(exclude_defaults=True),
        "sort": {"field": "created_at", "direction": "desc" if request.descending else "asc"},
    }
