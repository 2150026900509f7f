"""The catalog lists as export datasets: sources, validators, incident groups and activities.

Sources, validators and incident groups are small per tenant (one partition each): they are read whole, joined
(a validator's source name, a group's validator, source and namespace, a source's validator count, a group's
counts folded from its incidents), filtered and sorted by any column in memory. Activities are a time series, read
a day partition at a time in time order, filtered by DynamoDB, and scoped per row: only the resource types whose
read permission the key holds (``resource_type IN (...)``), so counts, files and jobs hold the same rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from export_service.dal.catalog_store import GROUPS, SOURCES, VALIDATORS
from export_service.dal.query import QueryPartition
from export_service.logic.catalog_filters import ListFields, parse_filter, parse_sort, sort_rows, sortable
from export_service.logic.export_engine import ExportPlan, ExportSpec, RowScope, clamp_to_bounds
from export_service.models.api_keys import Permission
from export_service.models.catalog import (
    ACTIVITY_COLUMNS,
    ACTIVITY_PERMISSIONS,
    ACTIVITY_TYPES,
    INCIDENT_GROUP_COLUMNS,
    RESOURCE_PERMISSIONS,
    SOURCE_COLUMNS,
    VALIDATOR_COLUMNS,
    ActorType,
    CatalogListQuery,
    GroupStatus,
    Level,
    ResourceType,
    ValidatorType,
)
from export_service.models.export import ExportFormat
from export_service.timefmt import format_instant

SOURCES_DATASET, VALIDATORS_DATASET = "sources", "validators"
GROUPS_DATASET, ACTIVITIES_DATASET = "incident-groups", "activities"
PAGE = 1000
NARROW = "the filter (namespace, source, ...) or its time range, and export in several requests"
_LEVELS = tuple(level.value for level in Level)

SOURCE_FIELDS = ListFields(
    filters={
        "id": "the source's id",
        "name": "its name",
        "namespace": "its namespace",
        "owner": "its owner's email",
        "tags": "any of its tags",
        "credentialType": "its credential's type (e.g. SNOWFLAKE)",
    },
    ranges=("range",),
    sortable=sortable(SOURCE_COLUMNS),
)
VALIDATOR_FIELDS = ListFields(
    filters={
        "id": "the validator's id",
        "name": "its name",
        "namespace": "its namespace",
        "source": "its source, by id or name",
        "owner": "its owner's email",
        "tags": "any of its tags",
        "type": "its type",
        "segmentation": "its segmentation's name (Unsegmented)",
        "window": "its window's name",
    },
    ranges=("range",),
    sortable=sortable(VALIDATOR_COLUMNS),
    choices={"type": tuple(t.value for t in ValidatorType)},
)
GROUP_FIELDS = ListFields(
    filters={
        "id": "the group's id",
        "namespace": "its validator's namespace",
        "status": "its status",
        "priority": "its priority",
        "owner": "its owner's email",
        "source": "its source, by id or name",
        "validator": "its validator, by id or name",
        "validatorType": "its validator's type",
    },
    ranges=("range",),
    sortable=sortable(INCIDENT_GROUP_COLUMNS),
    choices={
        "status": tuple(s.value for s in GroupStatus),
        "priority": _LEVELS,
        "validatorType": tuple(t.value for t in ValidatorType),
    },
)
ACTIVITY_FIELDS = ListFields(
    filters={
        "namespace": "the namespace the resource belonged to",
        "source": "activities of a source and of what belongs to it, by id or by the name it had",
        "validator": "activities of a validator and of its incident groups, by id or by the name it had",
        "resourceType": "the kind of resource",
        "activityType": "the event type",
        "action": "the action verb",
        "actorType": "User, API key or System",
        "actor": "the user's email or the API key's name",
    },
    ranges=("timeRange", "range"),
    sortable={"timestamp": "Timestamp"},
    choices={
        "resourceType": tuple(r.value for r in ResourceType),
        "activityType": tuple(ACTIVITY_TYPES),
        "actorType": tuple(a.value for a in ActorType),
    },
)
LIST_FIELDS: dict[str, ListFields] = {
    SOURCES_DATASET: SOURCE_FIELDS,
    VALIDATORS_DATASET: VALIDATOR_FIELDS,
    GROUPS_DATASET: GROUP_FIELDS,
    ACTIVITIES_DATASET: ACTIVITY_FIELDS,
}
COLUMNS: dict[str, tuple[str, ...]] = {
    SOURCES_DATASET: SOURCE_COLUMNS,
    VALIDATORS_DATASET: VALIDATOR_COLUMNS,
    GROUPS_DATASET: INCIDENT_GROUP_COLUMNS,
    ACTIVITIES_DATASET: ACTIVITY_COLUMNS,
}
DEFAULT_SORT: dict[str, tuple[tuple[str, bool], ...]] = {
    SOURCES_DATASET: (("Created at", False), ("ID", False)),
    VALIDATORS_DATASET: (("Created at", False), ("ID", False)),
    GROUPS_DATASET: (("Created At", False), ("ID", False)),
    ACTIVITIES_DATASET: (("Timestamp", False),),
}


@dataclass(frozen=True)
class CatalogRequest:
    tenant_id: str
    dataset: str
    fmt: ExportFormat
    filters: Mapping[str, tuple[str, ...]]
    start: datetime | None
    end: datetime
    bounded: bool
    sort: tuple[tuple[str, bool], ...]
    resource_types: tuple[str, ...] = tuple(r.value for r in ResourceType)  # activities: what the key may read

    @property
    def descending(self) -> bool:
        return bool(self.sort) and self.sort[0][1]


def build_catalog_request(dataset: str, tenant_id: str, query: CatalogListQuery, now: datetime) -> CatalogRequest:
    fields = LIST_FIELDS[dataset]
    parsed = parse_filter(query.filter, fields)
    return CatalogRequest(
        tenant_id=tenant_id,
        dataset=dataset,
        fmt=query.fmt,
        filters=parsed.values,
        start=parsed.start,
        end=parsed.end or now,
        bounded=parsed.start is not None or parsed.end is not None,
        sort=_with_ties_broken(parse_sort(query.sort, fields), DEFAULT_SORT[dataset]),
    )


def _with_ties_broken(given: tuple[tuple[str, bool], ...], default: tuple[tuple[str, bool], ...]) -> tuple:
    """The caller's sort keys, then the default order (creation time, id) for rows they leave tied."""
    named = {column for column, _ in given}
    return given + tuple(key for key in default if key[0] not in named)


def scope_activities(request: CatalogRequest, held: frozenset[Permission]) -> CatalogRequest:
    """The request limited to the resource types whose read permission is in ``held``."""
    types = tuple(kind.value for kind, permission in RESOURCE_PERMISSIONS.items() if permission in held)
    return replace(request, resource_types=types)


# ---------------------------------------------------------------- rows


def _tags(record: Mapping[str, Any]) -> list[str]:
    return [str(tag) for tag in record.get("tags") or ()]


def source_row(record: Mapping[str, Any], validator_count: int) -> dict[str, Any]:
    return {
        "ID": record["id"],
        "Name": record.get("name", ""),
        "Namespace": record.get("namespace", ""),
        "Owner": record.get("owner", ""),
        "Tags": ",".join(_tags(record)),
        "Credential type": record.get("credential_type", ""),
        "Validator count": str(validator_count),
        "Created at": record.get("created_at", ""),
        "_tags": _tags(record),
    }


def validator_row(record: Mapping[str, Any], sources: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    source = sources.get(record.get("source_id", ""), {})
    return {
        "ID": record["id"],
        "Name": record.get("name", ""),
        "Namespace": record.get("namespace", ""),
        "Source": source.get("name", ""),
        "Segmentation": record.get("segmentation", ""),
        "Window": record.get("window", ""),
        "Type": record.get("type", ""),
        "Owner": record.get("owner", ""),
        "Tags": ",".join(_tags(record)),
        "Created at": record.get("created_at", ""),
        "_tags": _tags(record),
        "_source_id": record.get("source_id", ""),
    }


def fold_groups(records: Iterator[Mapping[str, Any]]) -> Iterator[tuple[dict[str, Any], list[Mapping[str, Any]]]]:
    """(group, its incidents) from the IG partition in key order: each group item is followed by its incidents."""
    group: dict[str, Any] | None = None
    incidents: list[Mapping[str, Any]] = []
    for record in records:
        if "group_id" in record:
            if group is not None and record["group_id"] == group["id"]:
                incidents.append(record)
            continue  # an incident whose group is gone: not exported
        if group is not None:
            yield group, incidents
        group, incidents = dict(record), []
    if group is not None:
        yield group, incidents


def group_row(
    group: Mapping[str, Any],
    incidents: Sequence[Mapping[str, Any]],
    validators: Mapping[str, Mapping[str, Any]],
    sources: Mapping[str, Mapping[str, Any]],
) -> dict[str, Any]:
    validator = validators.get(group.get("validator_id", ""), {})
    source = sources.get(validator.get("source_id", ""), {})
    latest = max(incidents, key=lambda incident: (incident["start_time"], incident["id"]), default=None)
    counts = {level: sum(1 for incident in incidents if incident.get("severity") == level) for level in _LEVELS}
    return {
        "ID": group["id"],
        "Status": group.get("status", ""),
        "Priority": group.get("priority", ""),
        "Owner": group.get("owner", ""),
        "Source": source.get("name", ""),
        "Validator": validator.get("name", ""),
        "Validator Type": validator.get("type", ""),
        "Namespace": validator.get("namespace", ""),
        "First Seen": min((incident["start_time"] for incident in incidents), default=""),
        "Last Seen": latest["start_time"] if latest else "",
        "Last End Time": latest["end_time"] if latest else "",
        "Created At": group.get("created_at", ""),
        "Incident Count": str(len(incidents)),
        "High Severity Count": str(counts["HIGH"]),
        "Medium Severity Count": str(counts["MEDIUM"]),
        "Low Severity Count": str(counts["LOW"]),
        "Muted Until": group.get("muted_until", ""),
        "_source_id": validator.get("source_id", ""),
        "_validator_id": group.get("validator_id", ""),
        "_starts": [incident["start_time"] for incident in incidents],
    }


def activity_row(record: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "Timestamp": record.get("timestamp", ""),
        "Action": record.get("action", ""),
        "Activity type": record.get("activity_type", ""),
        "Entity name": record.get("entity_name", ""),
        "Entity ID": record.get("entity_id", ""),
        "Actor type": record.get("actor_type", ""),
        "Actor": record.get("actor", ""),
        "Namespace": record.get("namespace", ""),
        "Description": record.get("description", ""),
    }


# ---------------------------------------------------------------- filters on the small lists

_MATCHED_BY: dict[str, Mapping[str, tuple[str, ...]]] = {
    SOURCES_DATASET: {
        "id": ("ID",),
        "name": ("Name",),
        "namespace": ("Namespace",),
        "owner": ("Owner",),
        "tags": ("_tags",),
        "credentialType": ("Credential type",),
    },
    VALIDATORS_DATASET: {
        "id": ("ID",),
        "name": ("Name",),
        "namespace": ("Namespace",),
        "source": ("_source_id", "Source"),
        "owner": ("Owner",),
        "tags": ("_tags",),
        "type": ("Type",),
        "segmentation": ("Segmentation",),
        "window": ("Window",),
    },
    GROUPS_DATASET: {
        "id": ("ID",),
        "namespace": ("Namespace",),
        "status": ("Status",),
        "priority": ("Priority",),
        "owner": ("Owner",),
        "source": ("_source_id", "Source"),
        "validator": ("_validator_id", "Validator"),
        "validatorType": ("Validator Type",),
    },
}


def _row_values(row: Mapping[str, Any], keys: Sequence[str]) -> set[str]:
    values: set[str] = set()
    for key in keys:
        value = row.get(key)
        values.update(value if isinstance(value, list) else [value] if value else [])
    return values


def _in_range(request: CatalogRequest, row: Mapping[str, Any]) -> bool:
    if not request.bounded:
        return True
    lo = format_instant(request.start) if request.start else ""
    hi = format_instant(request.end)
    # groups: one of their incidents started in the range; sources and validators: created in it
    times = row["_starts"] if request.dataset == GROUPS_DATASET else [row.get("Created at", "")]
    return any(lo <= moment <= hi for moment in times)


def matches(request: CatalogRequest, row: Mapping[str, Any]) -> bool:
    fields = _MATCHED_BY[request.dataset]
    for name, wanted in request.filters.items():
        if not _row_values(row, fields[name]) & set(wanted):
            return False
    return _in_range(request, row)


# ---------------------------------------------------------------- plans and reads


def plan_catalog(request: CatalogRequest, store: Any) -> ExportPlan:
    if request.dataset != ACTIVITIES_DATASET:
        kind = {SOURCES_DATASET: SOURCES, VALIDATORS_DATASET: VALIDATORS, GROUPS_DATASET: GROUPS}[request.dataset]
        return ExportPlan([store.list_partition(request.tenant_id, kind)], request.start)
    window, _name_start = clamp_to_bounds(request.start, request.end, store.activity_bounds(request.tenant_id))
    asked = request.filters.get("resourceType", request.resource_types)
    wanted_types = [kind for kind in request.resource_types if kind in asked]
    if window is None or not wanted_types:
        return ExportPlan([], request.start)
    one_of: dict[str, list[str | int]] = {"resource_type": list(wanted_types)}
    for name, attribute in (
        ("namespace", "namespace"),
        ("activityType", "activity_type"),
        ("action", "action"),
        ("actorType", "actor_type"),
        ("actor", "actor"),
    ):
        if name in request.filters:
            one_of[attribute] = list(request.filters[name])
    contains_any = {
        attribute: list(request.filters[name])
        for name, attribute in (("source", "source_keys"), ("validator", "validator_keys"))
        if name in request.filters
    }
    parts = store.plan_activities(
        request.tenant_id, *window, one_of=one_of, contains_any=contains_any, descending=request.descending
    )
    return ExportPlan(parts, request.start)


def _by_id(records: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    return {str(record["id"]): record for record in records}


def catalog_rows(request: CatalogRequest, store: Any) -> list[dict[str, Any]]:
    """A small list's rows: joined, filtered and sorted."""
    tenant = request.tenant_id
    validators = store.read_all(tenant, VALIDATORS)
    if request.dataset == VALIDATORS_DATASET:
        sources = _by_id(store.read_all(tenant, SOURCES))
        rows = [validator_row(record, sources) for record in validators]
    elif request.dataset == SOURCES_DATASET:
        bound: dict[str, int] = {}
        for validator in validators:
            bound[validator.get("source_id", "")] = bound.get(validator.get("source_id", ""), 0) + 1
        rows = [source_row(record, bound.get(record["id"], 0)) for record in store.read_all(tenant, SOURCES)]
    else:
        sources, by_validator = _by_id(store.read_all(tenant, SOURCES)), _by_id(validators)
        records = (record for page in store.read_items(tenant, GROUPS) for record in page)
        rows = [group_row(group, incidents, by_validator, sources) for group, incidents in fold_groups(records)]
    return sort_rows([row for row in rows if matches(request, row)], request.sort)


def read_catalog(
    request: CatalogRequest, stores: Any, parts: Sequence[QueryPartition], prefetch: int
) -> Iterator[list[dict[str, Any]]]:
    if not parts:
        return
    store = stores.catalog
    if request.dataset == ACTIVITIES_DATASET:
        for page in store.read_activities(parts, prefetch):
            yield [activity_row(record) for record in page]
        return
    rows = catalog_rows(request, store)
    for start in range(0, len(rows), PAGE):
        yield rows[start : start + PAGE]


def catalog_envelope(request: CatalogRequest) -> dict[str, Any]:
    return {
        "dataset": request.dataset,
        "from": format_instant(request.start) if request.start else None,
        "to": format_instant(request.end),
        "filter": {name: list(values) for name, values in request.filters.items()},
        "sort": [{"field": column, "direction": "desc" if desc else "asc"} for column, desc in request.sort],
    }


_PERMISSIONS = {
    SOURCES_DATASET: Permission.SOURCES_READ,
    VALIDATORS_DATASET: Permission.VALIDATORS_READ,
    GROUPS_DATASET: Permission.INCIDENTS_READ,
}
_KINDS = {
    SOURCES_DATASET: "SourceExport",
    VALIDATORS_DATASET: "ValidatorExport",
    GROUPS_DATASET: "IncidentGroupExport",
    ACTIVITIES_DATASET: "ActivityExport",
}


def _spec(dataset: str) -> ExportSpec[CatalogRequest]:
    activities = dataset == ACTIVITIES_DATASET
    return ExportSpec(
        name=dataset,
        resource=dataset,
        permission=None if activities else _PERMISSIONS[dataset],
        query=CatalogListQuery,
        kind=_KINDS[dataset],
        narrow=NARROW,
        build=lambda tenant, query, now: build_catalog_request(dataset, tenant, query, now),
        plan=lambda request, stores: plan_catalog(request, stores.catalog),
        read=read_catalog,
        counter=(lambda stores: stores.catalog.count) if activities else None,
        columns=lambda _request: COLUMNS[dataset],
        envelope=catalog_envelope,
        bounds=lambda request: (request.start, request.end, request.bounded),
        row_scope=RowScope(ACTIVITY_PERMISSIONS, scope_activities) if activities else None,
    )


CATALOG_EXPORTS: dict[str, ExportSpec[Any]] = {
    name: _spec(name) for name in (SOURCES_DATASET, VALIDATORS_DATASET, GROUPS_DATASET, ACTIVITIES_DATASET)
}
