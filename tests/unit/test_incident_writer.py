"""Writing incident bundles (every row, extras on incidents only) and deleting an incident."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest

from export_service.logic.incident_records import (
    IncidentBundle,
    delete_incident,
    export_row,
    incident_extras,
    write_incident_bundles,
)
from export_service.models.incidents import EVENT_DETAILS_SCHEMAS, Dataset, IncidentEvent
from tests.unit.incident_records_support import _event, _impact, _incident, _retrospective, _role

pytestmark = pytest.mark.unit


class RecordingStore:
    """Keeps what the writer puts, by tenant and dataset; deletes like IncidentStore (the incident row only)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Dataset, list[tuple[dict[str, str], dict[str, Any]]]]] = []
        self.incidents: dict[tuple[str, str], dict[str, str]] = {}

    def put_rows(self, tenant: str, dataset: Dataset, rows: Iterable[tuple[dict[str, str], dict[str, Any]]]) -> int:
        batch = list(rows)
        self.calls.append((tenant, dataset, batch))
        if dataset is Dataset.INCIDENTS:
            for row, _ in batch:
                self.incidents[(tenant, row["id"])] = row
        return len(batch)

    def delete_incident(self, tenant: str, incident_id: str) -> dict[str, str] | None:
        return self.incidents.pop((tenant, incident_id), None)


def _bundle(number: int, *, children: bool = True) -> IncidentBundle:
    incident = _incident(id=f"inc-{number}", number=str(number), severity="HIGH", tags=["PROD"])
    if not children:
        return IncidentBundle(incident)
    return IncidentBundle(
        incident,
        events=[_event(id=f"evt-{number}-{n}", incident_id=incident.id) for n in range(3)],
        role_assignments=[_role().model_copy(update={"id": f"role-{number}", "incident_id": incident.id})],
        impacts=[_impact().model_copy(update={"id": f"imp-{number}", "incident_id": incident.id})],
        retrospectives=[_retrospective(id=f"retro-{number}", incident_id=incident.id)],
    )


def test_writer_puts_every_row_with_extras_on_incidents_only():
    store = RecordingStore()
    counts = write_incident_bundles(store, "acme", [_bundle(1), _bundle(2, children=False)])
    assert counts == {
        "incidents": 2,
        "incident-events": 3,
        "incident-role-assignments": 1,
        "incident-impacts": 1,
        "retrospectives": 1,
    }
    assert [(tenant, dataset, len(rows)) for tenant, dataset, rows in store.calls] == [
        ("acme", Dataset.INCIDENTS, 1),
        ("acme", Dataset.INCIDENT_EVENTS, 3),
        ("acme", Dataset.INCIDENT_ROLE_ASSIGNMENTS, 1),
        ("acme", Dataset.INCIDENT_IMPACTS, 1),
        ("acme", Dataset.RETROSPECTIVES, 1),
        ("acme", Dataset.INCIDENTS, 1),  # no empty puts for a bundle without children
    ]
    first = _bundle(1)
    assert store.calls[0][2] == [(export_row(Dataset.INCIDENTS, first.incident), incident_extras(first.incident))]
    assert store.calls[1][2] == [(export_row(Dataset.INCIDENT_EVENTS, event), {}) for event in first.events]
    assert all(extras == {} for _, dataset, rows in store.calls[1:5] for _, extras in rows)


def test_writer_with_nothing_to_write():
    assert write_incident_bundles(RecordingStore(), "acme", []) == dict.fromkeys(
        [dataset.value for dataset in Dataset], 0
    )


def test_delete_incident_records_a_generic_resource_change_under_the_old_name():
    store = RecordingStore()
    write_incident_bundles(store, "acme", [_bundle(1)])
    store.incidents[("acme", "inc-1")]["name"] = '=cmd|"/c calc"!A1'  # the name it had when deleted
    now = datetime(2026, 3, 5, 9, 30, 15, 123000, tzinfo=UTC)
    event = delete_incident(store, "acme", "inc-1", "Ana Silva", now, "evt-del-1")
    assert event == IncidentEvent(
        id="evt-del-1",
        account_id="acct-1",
        organization_id="org-1",
        created_at=now,
        updated_at=now,
        incident_id="inc-1",
        created_by_name="Ana Silva",
        type="GenericResourceChange",
        event_details={
            "operation": "deleted",
            "resource_type": "incident",
            "resource_id": "inc-1",
            "fields": {"number": "1", "name": '=cmd|"/c calc"!A1'},
        },
    )
    tenant, dataset, rows = store.calls[-1]
    assert (tenant, dataset) == ("acme", Dataset.INCIDENT_EVENTS)
    assert rows == [(export_row(Dataset.INCIDENT_EVENTS, event), {})]
    assert rows[0][0]["created_at"] == "2026-03-05T09:30:15.123Z"
    jsonschema.validate(json.loads(rows[0][0]["event_details"]), EVENT_DETAILS_SCHEMAS["GenericResourceChange"])


def test_deleting_what_is_not_there_writes_nothing():
    store = RecordingStore()
    write_incident_bundles(store, "acme", [_bundle(1)])
    calls = len(store.calls)
    now = datetime(2026, 3, 5, tzinfo=UTC)
    assert delete_incident(store, "globex", "inc-1", "x", now, "evt-a") is None  # another tenant's
    assert delete_incident(store, "acme", "inc-1", "x", now, "evt-b") is not None
    assert delete_incident(store, "acme", "inc-1", "x", now, "evt-c") is None  # twice
    assert len(store.calls) == calls + 1
