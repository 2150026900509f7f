"""Incident rows as exported: the documented columns in their order, and how values are written (times, durations)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from export_service.logic.incident_records import export_row
from export_service.models.incidents import DATASETS, Dataset
from tests.helpers import DOCUMENTED_DATASET_COLUMNS, DOCUMENTED_DATASET_SOURCES
from tests.unit.incident_records_support import T0, _event, _impact, _incident, _retrospective, _role

pytestmark = pytest.mark.unit


# The documented columns and source names (tests/helpers.py), written out independently of the product's models.
COLUMNS = {dataset: DOCUMENTED_DATASET_COLUMNS[dataset.value] for dataset in Dataset}
SOURCES = {dataset: DOCUMENTED_DATASET_SOURCES[dataset.value] for dataset in Dataset}


MODELS = {
    Dataset.INCIDENTS: _incident,
    Dataset.INCIDENT_EVENTS: _event,
    Dataset.INCIDENT_ROLE_ASSIGNMENTS: _role,
    Dataset.INCIDENT_IMPACTS: _impact,
    Dataset.RETROSPECTIVES: _retrospective,
}


@pytest.mark.parametrize("dataset", list(Dataset))
def test_exactly_the_documented_columns_in_their_order(dataset):
    assert list(DATASETS[dataset].columns) == COLUMNS[dataset]
    assert DATASETS[dataset].source == SOURCES[dataset]
    row = export_row(dataset, MODELS[dataset]())
    assert list(row) == COLUMNS[dataset]
    assert all(isinstance(value, str) for value in row.values())


def test_the_five_datasets_by_name():
    assert [dataset.value for dataset in Dataset] == [
        "incidents",
        "incident-events",
        "incident-role-assignments",
        "incident-impacts",
        "retrospectives",
    ]


def test_incident_row():
    incident = _incident(
        severity="HIGH",
        priority="LOW",
        started_at=datetime(2026, 3, 1, 7, 50, tzinfo=UTC),
        detected_at=datetime(2026, 3, 1, 9, 55, 0, 123456, tzinfo=timezone(timedelta(hours=2))),
        acknowledged_at=datetime(2026, 3, 1, 8, 3, 0, 999999, tzinfo=UTC),
        resolved_at=datetime(2026, 3, 2, 10, 3, 7, tzinfo=UTC),
        opened_at=T0,
        started_by="ana.silva@acme.example.com",
        active_duration=timedelta(hours=26, minutes=3, seconds=7),
        status="CLOSED",
        tags=["PROD"],
        project_id=24,
    )
    assert export_row(Dataset.INCIDENTS, incident) == {
        "id": "inc-1",
        "account_id": "acct-1",
        "organization_id": "org-1",
        "created_at": "2026-03-01T08:00:00.000Z",
        "updated_at": "2026-03-01T10:00:00.250Z",
        "number": "42",
        "name": "Checkout latency",
        "severity": "HIGH",
        "priority": "LOW",
        "started_at": "2026-03-01T07:50:00.000Z",
        "detected_at": "2026-03-01T07:55:00.123Z",  # +02:00 converted, microseconds truncated
        "acknowledged_at": "2026-03-01T08:03:00.999Z",
        "investigating_at": "",
        "identified_at": "",
        "mitigated_at": "",
        "resolved_at": "2026-03-02T10:03:07.000Z",
        "retrospective_started_at": "",
        "retrospective_completed_at": "",
        "opened_at": "2026-03-01T08:00:00.000Z",
        "started_by": "ana.silva@acme.example.com",
        "active_duration": "PT26H3M7S",
    }


def test_an_incident_with_nothing_optional_set():
    row = export_row(Dataset.INCIDENTS, _incident())
    optional = COLUMNS[Dataset.INCIDENTS][7:]
    assert {column: row[column] for column in optional} == dict.fromkeys(optional, "")


@pytest.mark.parametrize(
    ("duration", "text"),
    [
        (timedelta(hours=26, minutes=3, seconds=7), "PT26H3M7S"),
        (timedelta(0), "PT0S"),
        (timedelta(days=2), "PT48H"),
        (timedelta(minutes=5), "PT5M"),
        (timedelta(seconds=59, microseconds=999_999), "PT59S"),
        (timedelta(hours=1, seconds=1), "PT1H1S"),
        (timedelta(milliseconds=400), "PT0S"),
        (None, ""),
    ],
)
def test_active_duration_is_an_iso_8601_duration(duration, text):
    assert export_row(Dataset.INCIDENTS, _incident(active_duration=duration))["active_duration"] == text


def test_date_times_with_offsets_are_written_in_utc():
    eastern = timezone(timedelta(hours=-5))
    row = export_row(
        Dataset.INCIDENT_IMPACTS,
        _impact().model_copy(update={"created_at": datetime(2026, 2, 28, 23, 30, tzinfo=eastern)}),
    )
    assert row["created_at"] == "2026-03-01T04:30:00.000Z"


@pytest.fixture
def new_york_clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# A naive date-time is UTC for format_instant, as for parse_instant: an export must not depend on the TZ of the
# machine that wrote the rows (the generator or an importer run outside Lambda). A regression test of a fixed bug.
def test_naive_date_times_are_taken_as_utc_whatever_the_host_zone(new_york_clock):
    row = export_row(Dataset.INCIDENTS, _incident(created_at=datetime(2026, 3, 1, 8, 0), opened_at=None))
    assert row["created_at"] == "2026-03-01T08:00:00.000Z"
