"""IncidentStore against moto (IncidentsTable from template.yaml), written through write_incident_bundles."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from export_service.dal.incident_store import IncidentQuery, IncidentStore
from export_service.logic.incident_records import (
    IncidentBundle,
    delete_incident,
    event_details_schema,
    export_row,
    write_incident_bundles,
)
from export_service.models.incidents import Dataset, IncidentEvent
from tests.integration.incident_support import ALL_DATASETS, COLUMNS, at, bundles, expected, incident_store

pytestmark = pytest.mark.integration

FIRST = datetime(2026, 3, 1, tzinfo=UTC)
LAST = datetime(2026, 3, 5, tzinfo=UTC)
# Rows per dataset in the hand-built data (acme: five incidents, two closed; globex: two, one closed).
ACME_COUNTS = {
    "incidents": 5,
    "incident-events": 9,
    "incident-role-assignments": 10,
    "incident-impacts": 5,
    "retrospectives": 2,
}


@pytest.fixture(scope="module")
def store(stack) -> IncidentStore:
    store = incident_store(stack)
    for tenant in ("acme", "globex"):
        write_incident_bundles(store, tenant, bundles(tenant))
    return store


def _read(
    store: IncidentStore,
    tenant: str,
    dataset: str,
    start: datetime = FIRST,
    end: datetime = LAST,
    descending: bool = False,
    **query: Any,
) -> list[dict[str, str]]:
    parts = store.plan(tenant, Dataset(dataset), start, end, IncidentQuery(**query), descending)
    return [row for page in store.read_plan(Dataset(dataset), parts) for row in page]


def test_writer_counts_rows_per_dataset(stack):
    store = incident_store(stack)
    counts = write_incident_bundles(store, "counting-co", bundles("acme"))
    assert counts == ACME_COUNTS


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_rows_come_back_in_created_at_then_id_order_with_exactly_the_columns(store, dataset):
    got = _read(store, "acme", dataset)
    want = expected(bundles("acme"), dataset)
    assert len(want) == ACME_COUNTS[dataset]
    assert got == want
    assert all(set(row) == set(COLUMNS[dataset]) for row in got)  # no keys, no extras
    assert [(row["created_at"], row["id"]) for row in got] == sorted((row["created_at"], row["id"]) for row in got)


def test_same_millisecond_is_ordered_by_id(store):
    ids = [row["id"] for row in _read(store, "acme", "incidents")]
    assert ids == ["inc-acme-001", "inc-acme-002", "inc-acme-0025", "inc-acme-003", "inc-acme-004"]


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_descending_is_the_exact_reverse(store, dataset):
    got = _read(store, "acme", dataset, descending=True)
    assert got == expected(bundles("acme"), dataset, descending=True)
    assert got == list(reversed(_read(store, "acme", dataset)))


def test_descending_plan_walks_days_newest_first(store):
    parts = store.plan("acme", Dataset.INCIDENTS, FIRST, FIRST + timedelta(days=2), IncidentQuery(), True)
    assert [part.pk for part in parts] == [f"T#acme#INC#D#2026-03-0{day}" for day in (3, 2, 1)]
    assert not any(part.forward for part in parts)


def test_bounds_are_inclusive_to_the_millisecond(store):
    # a2 is created at 23:59:59.999 and a4 at 00:00:00.000 two days later
    start, end = at("2026-03-01T23:59:59.999Z"), at("2026-03-03T00:00:00Z")
    got = [row["id"] for row in _read(store, "acme", "incidents", start, end)]
    assert got == ["inc-acme-002", "inc-acme-0025", "inc-acme-003", "inc-acme-004"]
    one_ms = timedelta(milliseconds=1)
    got = [row["id"] for row in _read(store, "acme", "incidents", start + one_ms, end - one_ms)]
    assert got == ["inc-acme-0025", "inc-acme-003"]
    # a range of a single instant holding two incidents
    instant = at("2026-03-02T12:00:00Z")
    assert [row["id"] for row in _read(store, "acme", "incidents", instant, instant)] == [
        "inc-acme-0025",
        "inc-acme-003",
    ]


@pytest.mark.parametrize(
    "query",
    [
        {"severities": ["HIGH"]},
        {"severities": ["LOW", "MEDIUM"]},
        {"priorities": ["HIGH"]},
        {"priorities": ["LOW", "MEDIUM"]},
        {"statuses": ["CLOSED"]},
        {"statuses": ["OPEN"]},
        {"project_ids": [24]},
        {"project_ids": [0, 7]},
        {"tags": ["PROD"]},  # contains, on the tag list: not "PROD-EU"
        {"tags": ["dns", "T1"]},
        {"severities": ["LOW"], "statuses": ["CLOSED"], "project_ids": [24], "tags": ["PROD"]},
        {"severities": ["HIGH"], "statuses": ["CLOSED"]},  # nothing
    ],
    ids=lambda query: json.dumps(query, separators=(",", ":")),
)
def test_incident_filters(store, query):
    want = expected(bundles("acme"), "incidents", **query)
    assert _read(store, "acme", "incidents", **query) == want
    assert _read(store, "acme", "incidents", descending=True, **query) == list(reversed(want))


def test_tag_filter_matches_whole_tags_only(store):
    assert [row["id"] for row in _read(store, "acme", "incidents", tags=["PROD"])] == [
        "inc-acme-001",
        "inc-acme-004",
    ]
    assert [row["id"] for row in _read(store, "acme", "incidents", tags=["PROD-EU"])] == ["inc-acme-0025"]
    assert _read(store, "acme", "incidents", tags=["prod"]) == []


@pytest.mark.parametrize("dataset", ALL_DATASETS)
@pytest.mark.parametrize("incident_id", ["inc-acme-001", "inc-acme-004"])
def test_one_incident_through_by_incident(store, dataset, incident_id):
    parts = store.plan("acme", Dataset(dataset), FIRST, LAST, IncidentQuery(incident_id=incident_id))
    assert [part.index for part in parts] == ["ByIncident"]
    want = expected(bundles("acme"), dataset, incident_id=incident_id)
    assert _read(store, "acme", dataset, incident_id=incident_id) == want
    assert _read(store, "acme", dataset, incident_id=incident_id, descending=True) == list(reversed(want))


def test_one_incident_within_a_time_range(store):
    # inc-acme-001's events: +15 min, +1 h (2026-03-01) and +26 h (2026-03-02)
    start, end = at("2026-03-01T09:00:00Z"), at("2026-03-02T10:00:00Z")
    got = _read(store, "acme", "incident-events", start, end, incident_id="inc-acme-001")
    assert got == expected(bundles("acme"), "incident-events", start, end, incident_id="inc-acme-001")
    assert [row["id"] for row in got] == ["evt-inc-acme-001-1", "evt-inc-acme-001-2"]


def test_incident_id_with_incident_filters(store):
    assert _read(store, "acme", "incidents", incident_id="inc-acme-001", severities=["HIGH"]) == expected(
        bundles("acme"), "incidents", incident_id="inc-acme-001"
    )
    assert _read(store, "acme", "incidents", incident_id="inc-acme-001", severities=["LOW"]) == []


def test_tenants_are_apart(store):
    for dataset in ALL_DATASETS:
        assert _read(store, "globex", dataset) == expected(bundles("globex"), dataset)
    assert _read(store, "globex", "incident-events", incident_id="inc-acme-001") == []
    assert store.get_incident("globex", "inc-acme-001") is None
    assert _read(store, "initech", "incidents") == []


def test_count_matches_the_read_and_stops_at_the_cap(store):
    parts = store.plan("acme", Dataset.INCIDENT_EVENTS, FIRST, LAST, IncidentQuery())
    assert sum(store.count(part, 1000) for part in parts) == ACME_COUNTS["incident-events"]
    filtered = store.plan("acme", Dataset.INCIDENTS, FIRST, LAST, IncidentQuery(statuses=["OPEN"]))
    assert sum(store.count(part, 1000) for part in filtered) == 3
    by_incident = store.plan("acme", Dataset.INCIDENT_EVENTS, FIRST, LAST, IncidentQuery(incident_id="inc-acme-001"))
    assert store.count(by_incident[0], 1000) == 3


def test_bounds_are_the_days_of_the_earliest_and_latest_rows(store):
    assert store.bounds("acme", Dataset.INCIDENTS) == (date(2026, 3, 1), date(2026, 3, 3))
    # inc-acme-004's last children are 30 h and 31 h after it
    assert store.bounds("acme", Dataset.INCIDENT_EVENTS) == (date(2026, 3, 1), date(2026, 3, 4))
    assert store.bounds("acme", Dataset.RETROSPECTIVES) == (date(2026, 3, 2), date(2026, 3, 4))
    assert store.bounds("globex", Dataset.INCIDENTS) == (date(2026, 3, 1), date(2026, 3, 2))
    assert store.bounds("initech", Dataset.INCIDENTS) is None


def test_bounds_only_widen(stack):
    store = incident_store(stack)
    one = bundles("acme")[0]

    def shifted(days: int) -> IncidentBundle:
        moment = one.incident.created_at + timedelta(days=days)
        incident = one.incident.model_copy(
            update={
                "id": f"inc-widen-{days}",
                "number": f"INC-{900 + days}",
                "created_at": moment,
                "updated_at": moment,
            }
        )
        return IncidentBundle(incident)

    write_incident_bundles(store, "widening", [shifted(4)])
    assert store.bounds("widening", Dataset.INCIDENTS) == (date(2026, 3, 5), date(2026, 3, 5))
    write_incident_bundles(store, "widening", [shifted(0)])
    assert store.bounds("widening", Dataset.INCIDENTS) == (date(2026, 3, 1), date(2026, 3, 5))
    write_incident_bundles(store, "widening", [shifted(2), shifted(9)])
    assert store.bounds("widening", Dataset.INCIDENTS) == (date(2026, 3, 1), date(2026, 3, 10))
    assert store.bounds("widening", Dataset.INCIDENT_EVENTS) is None  # no children were written


def test_rewriting_is_idempotent_and_overwrites_by_id(stack):
    store = incident_store(stack)
    data = bundles("globex")
    write_incident_bundles(store, "rewrite", data)
    before = {dataset: _read(store, "rewrite", dataset) for dataset in ALL_DATASETS}
    write_incident_bundles(store, "rewrite", data)
    assert {dataset: _read(store, "rewrite", dataset) for dataset in ALL_DATASETS} == before
    # the same ids again with a new name: one row, the new name
    renamed = data[0].incident.model_copy(update={"name": "Globex billing down (renamed)"})
    write_incident_bundles(store, "rewrite", [IncidentBundle(renamed)])
    rows = _read(store, "rewrite", "incidents")
    assert [row["name"] for row in rows] == ["Globex billing down (renamed)", "Globex search slow"]


def test_a_batch_over_25_rows_is_written_whole(stack):
    store = incident_store(stack)
    incident = bundles("globex")[0].incident
    events = [
        IncidentEvent(
            id=f"evt-many-{n:03d}",
            account_id=incident.account_id,
            organization_id=incident.organization_id,
            created_at=incident.created_at + timedelta(hours=n),
            updated_at=incident.created_at + timedelta(hours=n),
            incident_id=incident.id,
            type="GeneralUpdate",
            event_details={"description": f"update {n}"},
        )
        for n in range(30)
    ]
    written = store.put_rows(
        "many", Dataset.INCIDENT_EVENTS, [(export_row(Dataset.INCIDENT_EVENTS, e), {}) for e in events]
    )
    assert written == 30
    got = _read(store, "many", "incident-events", FIRST, LAST)
    assert got == [export_row(Dataset.INCIDENT_EVENTS, event) for event in events]
    assert store.bounds("many", Dataset.INCIDENT_EVENTS) == (date(2026, 3, 1), date(2026, 3, 2))


def test_get_incident_returns_the_row_and_the_extras(store):
    incident = bundles("acme")[0].incident
    got = store.get_incident("acme", incident.id)
    assert got is not None
    assert {column: got[column] for column in COLUMNS["incidents"]} == export_row(Dataset.INCIDENTS, incident)
    assert got["status"] == "OPEN"
    assert got["project_id"] == 0
    assert got["tags"] == ["PROD", "T1"]
    assert got["ticket_id"] == 2411
    assert got["description"] == "p99 above 2 s"
    assert store.get_incident("acme", "inc-acme-999") is None


def test_delete_incident_keeps_children_and_records_the_deletion(stack):
    # Given a tenant of its own with acme's data
    store = incident_store(stack)
    data = bundles("acme")
    write_incident_bundles(store, "deleting", data)
    target = data[1].incident  # the one with the hostile name
    children = {dataset: _read(store, "deleting", dataset) for dataset in ALL_DATASETS if dataset != "incidents"}
    now = datetime(2026, 3, 6, 10, 30, tzinfo=UTC)
    # When it is deleted
    event = delete_incident(store, "deleting", target.id, "Ana Silva", now, "evt-deletion-0001")
    # Then the incident is gone, the others are still there
    assert store.get_incident("deleting", target.id) is None
    remaining = [row["id"] for row in _read(store, "deleting", "incidents", FIRST, now)]
    assert remaining == [row["id"] for row in expected(data, "incidents") if row["id"] != target.id]
    # its children are exported unchanged, names included
    for dataset in ("incident-role-assignments", "incident-impacts", "retrospectives"):
        assert _read(store, "deleting", dataset, FIRST, now) == children[dataset]
    assert any(row["assigned_user_name"] == '\tTabby, the "cat"' for row in children["incident-role-assignments"])
    # and the events gained one GenericResourceChange under the incident's old number and name
    assert event is not None
    row = export_row(Dataset.INCIDENT_EVENTS, event)
    assert _read(store, "deleting", "incident-events", FIRST, now) == [*children["incident-events"], row]
    assert row == {
        "id": "evt-deletion-0001",
        "account_id": "acct-acme",
        "organization_id": "org-acme",
        "created_at": "2026-03-06T10:30:00.000Z",
        "updated_at": "2026-03-06T10:30:00.000Z",
        "incident_id": target.id,
        "created_by_name": "Ana Silva",
        "type": "GenericResourceChange",
        "event_details_schema": event_details_schema("GenericResourceChange"),
        "event_details": row["event_details"],
    }
    assert json.loads(row["event_details"]) == {
        "operation": "deleted",
        "resource_type": "incident",
        "resource_id": target.id,
        "fields": {"number": "102", "name": target.name},
    }
    by_incident = _read(store, "deleting", "incident-events", FIRST, now, incident_id=target.id)
    assert by_incident == [*expected(data, "incident-events", incident_id=target.id), row]
    assert store.bounds("deleting", Dataset.INCIDENT_EVENTS) == (date(2026, 3, 1), date(2026, 3, 6))
    # Deleting again changes nothing
    assert delete_incident(store, "deleting", target.id, "Ana Silva", now, "evt-deletion-0002") is None
    assert store.delete_incident("deleting", target.id) is None
    assert len(_read(store, "deleting", "incident-events", FIRST, now)) == len(children["incident-events"]) + 1


def test_store_delete_returns_the_row_it_had(stack):
    store = incident_store(stack)
    data = bundles("globex")
    write_incident_bundles(store, "store-delete", data)
    incident = data[1].incident
    assert store.delete_incident("store-delete", incident.id) == export_row(Dataset.INCIDENTS, incident)
    assert store.delete_incident("store-delete", incident.id) is None
    assert [row["id"] for row in _read(store, "store-delete", "incidents")] == [data[0].incident.id]
    assert delete_incident(store, "other-tenant", data[0].incident.id, "x", datetime.now(UTC), "evt-x") is None
    assert store.get_incident("store-delete", data[0].incident.id) is not None
