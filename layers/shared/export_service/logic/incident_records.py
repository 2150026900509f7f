"""Incident data: write models -> exported rows (the nightly data export's types), and the writer (with deletion)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from export_service.models.alerts import Alert
from export_service.models.incidents import (
    DATASETS,
    EVENT_DETAILS_SCHEMAS,
    Dataset,
    Incident,
    IncidentEvent,
    IncidentImpact,
    IncidentRoleAssignment,
    Retrospective,
)
from export_service.timefmt import format_duration, format_instant

_JSON = {"separators": (",", ":"), "ensure_ascii": False}


@dataclass
class IncidentBundle:
    """An incident with its children, as the generator (or an importer) produces them."""

    incident: Incident
    events: list[IncidentEvent] = field(default_factory=list)
    role_assignments: list[IncidentRoleAssignment] = field(default_factory=list)
    impacts: list[IncidentImpact] = field(default_factory=list)
    retrospectives: list[Retrospective] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)  # the incident API: the alerts behind the history's alert_refs


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, list | dict):
        return json.dumps(value, **_JSON)  # type: ignore[arg-type]
    return str(value)


def event_details_schema(event_type: str) -> str:
    """The JSON-encoded JSON Schema of an event type's details."""
    return json.dumps(EVENT_DETAILS_SCHEMAS[event_type], **_JSON)  # type: ignore[arg-type]


def export_row(dataset: Dataset, model: Any) -> dict[str, str]:
    """The row as exported: exactly the dataset's columns, every value a string (ISO 8601 UTC date-times,
    ISO 8601 durations, JSON-encoded objects and arrays, "" for none)."""
    data = model.model_dump()
    if dataset is Dataset.INCIDENT_EVENTS:
        data["event_details_schema"] = event_details_schema(data["type"])
    return {column: _text(data.get(column)) for column in DATASETS[dataset].columns}


def incident_extras(incident: Incident) -> dict[str, Any]:
    """The incident fields beyond the nightly data export's columns, stored beside the row for filters and the API."""
    return {
        "status": incident.status,
        "impact": incident.impact,
        "project_id": incident.project_id,
        "tags": list(incident.tags),
        "asset_id": incident.asset_id,
        "connection_type": incident.connection_type,
        "connection_id": incident.connection_id,
        "alert_policy_id": incident.alert_policy_id,
        "alert_policy_name": incident.alert_policy_name,
        "source_name": incident.source_name,
        "description": incident.description,
        "ticket_id": incident.ticket_id,
        "last_upload_timestamp": _text(incident.last_upload_timestamp),
        "metrics": _text(incident.metrics),
        "history": _text(incident.history),
        # text_to_search matches policy and source names case-insensitively: stored lower-cased once,
        # so a Query's FilterExpression can use contains() on it. A newline separates the two names.
        "search_text": search_text(incident.alert_policy_name, incident.source_name),
    }


def search_text(policy_name: str, source_name: str) -> str:
    return f"{policy_name.lower()}\n{source_name.lower()}"


class IncidentWriterStore(Protocol):
    def put_rows(self, tenant: str, dataset: Dataset, rows: Iterable[tuple[dict[str, str], dict[str, Any]]]) -> int: ...

    def delete_incident(self, tenant: str, incident_id: str) -> dict[str, str] | None: ...

    def put_alerts(self, tenant: str, alerts: Iterable[Mapping[str, Any]]) -> int: ...


def write_incident_bundles(
    store: IncidentWriterStore, tenant: str, bundles: Iterable[IncidentBundle]
) -> dict[str, int]:
    """Write incidents and their children; returns rows written per dataset. Idempotent (same ids overwrite)."""
    counts = {dataset.value: 0 for dataset in Dataset}
    for bundle in bundles:
        counts[Dataset.INCIDENTS] += store.put_rows(
            tenant,
            Dataset.INCIDENTS,
            [(export_row(Dataset.INCIDENTS, bundle.incident), incident_extras(bundle.incident))],
        )
        for dataset, models in (
            (Dataset.INCIDENT_EVENTS, bundle.events),
            (Dataset.INCIDENT_ROLE_ASSIGNMENTS, bundle.role_assignments),
            (Dataset.INCIDENT_IMPACTS, bundle.impacts),
            (Dataset.RETROSPECTIVES, bundle.retrospectives),
        ):
            if models:
                counts[dataset] += store.put_rows(tenant, dataset, [(export_row(dataset, m), {}) for m in models])
        if bundle.alerts:
            counts["alerts"] = counts.get("alerts", 0) + store.put_alerts(
                tenant, [alert.model_dump() for alert in bundle.alerts]
            )
    return counts


def delete_incident(
    store: IncidentWriterStore, tenant: str, incident_id: str, actor: str, now: datetime, event_id: str
) -> IncidentEvent | None:
    """Delete an incident. Its children stay exportable with the names they were written with (the catalog export's rule
    for activities), and a GenericResourceChange event records what was deleted, under the incident's old name."""
    deleted = store.delete_incident(tenant, incident_id)
    if deleted is None:
        return None
    event = IncidentEvent(
        id=event_id,
        account_id=deleted["account_id"],
        organization_id=deleted["organization_id"],
        created_at=now,
        updated_at=now,
        incident_id=incident_id,
        created_by_name=actor,
        type="GenericResourceChange",
        event_details={
            "operation": "deleted",
            "resource_type": "incident",
            "resource_id": incident_id,
            "fields": {"number": deleted["number"], "name": deleted["name"]},
        },
    )
    store.put_rows(tenant, Dataset.INCIDENT_EVENTS, [(export_row(Dataset.INCIDENT_EVENTS, event), {})])
    return event
