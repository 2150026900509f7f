"""GET /v1/export/{dataset} through the real handler against moto: what is exported after an incident is deleted."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from export_service.logic.incident_records import delete_incident, event_details_schema, write_incident_bundles
from tests.integration.dataset_export_support import _ok, _rows, write_bundles
from tests.integration.incident_support import ALL_DATASETS, HOSTILE_NAME, bundles, expected, incident_store, parse_csv

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(stack) -> None:
    write_bundles(stack)


def test_deleted_incident_leaves_its_children_and_a_deletion_event(stack, data):
    # Given a tenant of its own with acme's data
    store = incident_store(stack)
    data_set = bundles("acme")
    write_incident_bundles(store, "umbrella", data_set)
    target = data_set[1].incident  # number 102, the hostile name
    children = {name: _rows(name, tenant="umbrella") for name in ALL_DATASETS if name != "incidents"}
    # When it is deleted
    now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    event = delete_incident(store, "umbrella", target.id, "Ana Silva", now, "evt-umbrella-deleted-102")
    assert event is not None
    # Then the incidents export no longer has it
    incidents = _rows("incidents", tenant="umbrella")
    assert [row["id"] for row in incidents] == [
        row["id"] for row in expected(data_set, "incidents") if row["id"] != target.id
    ]
    assert _rows("incidents", {"incident_id": target.id}, tenant="umbrella") == []
    # its role assignments, impacts and retrospectives are exported unchanged, names preserved
    for name in ("incident-role-assignments", "incident-impacts", "retrospectives"):
        assert _rows(name, tenant="umbrella") == children[name]
        assert any(row["incident_id"] == target.id for row in children[name])
    # and its events too, plus the GenericResourceChange that records the deletion under its old number and name
    events = _rows("incident-events", tenant="umbrella")
    assert events[:-1] == children["incident-events"]
    deletion = events[-1]
    assert {key: value for key, value in deletion.items() if key != "event_details"} == {
        "id": "evt-umbrella-deleted-102",
        "account_id": "acct-acme",
        "organization_id": "org-acme",
        "created_at": "2026-03-05T09:00:00.000Z",
        "updated_at": "2026-03-05T09:00:00.000Z",
        "incident_id": target.id,
        "created_by_name": "Ana Silva",
        "type": "GenericResourceChange",
        "event_details_schema": event_details_schema("GenericResourceChange"),
    }
    assert json.loads(deletion["event_details"]) == {
        "operation": "deleted",
        "resource_type": "incident",
        "resource_id": target.id,
        "fields": {"number": "102", "name": HOSTILE_NAME},
    }
    one = _rows("incident-events", {"incident_id": target.id}, tenant="umbrella")
    assert one == [*expected(data_set, "incident-events", incident_id=target.id), deletion]
    # in CSV, the old name inside the JSON cell is left as it is (the cell starts with '{')
    csv_events = parse_csv(_ok("incident-events", {"incident_id": target.id}, tenant="umbrella")["body"])
    assert json.loads(csv_events[-1][9])["fields"]["name"] == HOSTILE_NAME
    # Deleting twice does nothing more
    assert delete_incident(store, "umbrella", target.id, "Ana Silva", now, "evt-umbrella-deleted-again") is None
    assert len(_rows("incident-events", tenant="umbrella")) == len(events)
