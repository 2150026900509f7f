"""Incident rows as exported (seed 004's columns and types), the stored extras, the writer, deletion, filenames."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import jsonschema
import pytest

from export_service.logic.export_engine import export_filename
from export_service.logic.formats import ExportFormat
from export_service.logic.incident_records import (
    IncidentBundle,
    delete_incident,
    event_details_schema,
    export_row,
    incident_extras,
    write_incident_bundles,
)
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

pytestmark = pytest.mark.unit

COMMON = ["id", "account_id", "organization_id", "created_at", "updated_at"]
# Seed 004, written out independently of the product's models.
SEED_COLUMNS = {
    Dataset.INCIDENTS: [
        *COMMON,
        "number",
        "name",
        "severity",
        "priority",
        "started_at",
        "detected_at",
        "acknowledged_at",
        "investigating_at",
        "identified_at",
        "mitigated_at",
        "resolved_at",
        "retrospective_started_at",
        "retrospective_completed_at",
        "opened_at",
        "started_by",
        "active_duration",
    ],
    Dataset.INCIDENT_ROLE_ASSIGNMENTS: [
        *COMMON,
        "status",
        "incident_role_id",
        "incident_role_name",
        "incident_id",
        "assigned_user_id",
        "assigned_user_name",
    ],
    Dataset.INCIDENT_EVENTS: [
        *COMMON,
        "incident_id",
        "created_by_name",
        "type",
        "event_details_schema",
        "event_details",
    ],
    Dataset.INCIDENT_IMPACTS: [
        *COMMON,
        "incident_id",
        "impacted_id",
        "impacted_type",
        "impacted_slug",
        "condition_name",
    ],
    Dataset.RETROSPECTIVES: [
        *COMMON,
        "name",
        "summary",
        "tags",
        "incident_id",
        "additional_details",
        "questions",
    ],
}
SEED_SOURCES = {
    Dataset.INCIDENTS: "text/csv+incident-20220525",
    Dataset.INCIDENT_ROLE_ASSIGNMENTS: "text/csv+incident_role_assignment-20220525",
    Dataset.INCIDENT_EVENTS: "text/csv+incident_event-20220525",
    Dataset.INCIDENT_IMPACTS: "text/csv+incident_impact-20220525",
    Dataset.RETROSPECTIVES: "text/csv+retrospective-20220525",
}
SEED_EVENT_TYPES = {
    "IncidentStatus",
    "BulkMilestoneUpdate",
    "ImpactUpdate",
    "GeneralUpdate",
    "Note",
    "RoleUpdate",
    "ChatMessage",
    "AddTaskList",
    "RunbookAttachment",
    "RunbookStepExecutionUpdate",
    "TaskUpdate",
    "TeamAssignment",
    "TicketUpdate",
    "GenericResourceChange",
}

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
OWNER = {"account_id": "acct-1", "organization_id": "org-1"}
STAMPS = {"created_at": T0, "updated_at": T0 + timedelta(hours=2, milliseconds=250)}


def _incident(**fields: Any) -> Incident:
    base: dict[str, Any] = {"id": "inc-1", "number": "42", "name": "Checkout latency", **OWNER, **STAMPS}
    return Incident(**{**base, **fields})


def _event(event_type: str = "Note", details: dict[str, Any] | None = None, **fields: Any) -> IncidentEvent:
    base: dict[str, Any] = {
        "id": "evt-1",
        "incident_id": "inc-1",
        "created_by_name": "Ana Silva",
        "type": event_type,
        "event_details": {"body": "hello"} if details is None else details,
        **OWNER,
        **STAMPS,
    }
    return IncidentEvent(**{**base, **fields})


def _role() -> IncidentRoleAssignment:
    return IncidentRoleAssignment(
        id="role-1",
        status="assigned",
        incident_role_id="r-commander",
        incident_role_name="Incident Commander",
        incident_id="inc-1",
        assigned_user_id="u-1",
        assigned_user_name="Ana Silva",
        **OWNER,
        **STAMPS,
    )


def _impact() -> IncidentImpact:
    return IncidentImpact(
        id="imp-1",
        incident_id="inc-1",
        impacted_id="svc-1",
        impacted_type="service",
        impacted_slug="checkout",
        condition_name="Degraded",
        **OWNER,
        **STAMPS,
    )


def _retrospective(**fields: Any) -> Retrospective:
    base: dict[str, Any] = {
        "id": "retro-1",
        "name": "Retro of 42",
        "summary": "Expired certificate",
        "tags": ["dns", "größe"],
        "incident_id": "inc-1",
        "additional_details": "see the doc",
        "questions": [
            {"title": "What went well?", "body": 'Fast "rollback"', "question_type_id": "q-1"},
            {"title": "Next?", "body": "Alerting,\nagain", "question_type_id": "q-2"},
        ],
        **OWNER,
        **STAMPS,
    }
    return Retrospective(**{**base, **fields})


MODELS = {
    Dataset.INCIDENTS: _incident,
    Dataset.INCIDENT_EVENTS: _event,
    Dataset.INCIDENT_ROLE_ASSIGNMENTS: _role,
    Dataset.INCIDENT_IMPACTS: _impact,
    Dataset.RETROSPECTIVES: _retrospective,
}


# ---- columns --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", list(Dataset))
def test_exactly_the_seed_columns_in_the_seed_order(dataset):
    assert list(DATASETS[dataset].columns) == SEED_COLUMNS[dataset]
    assert DATASETS[dataset].source == SEED_SOURCES[dataset]
    row = export_row(dataset, MODELS[dataset]())
    assert list(row) == SEED_COLUMNS[dataset]
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
    optional = SEED_COLUMNS[Dataset.INCIDENTS][7:]
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


# ---- events ---------------------------------------------------------------------------------------------------


def test_the_schemas_cover_the_seed_event_types():
    assert set(EVENT_DETAILS_SCHEMAS) == SEED_EVENT_TYPES
    for schema in EVENT_DETAILS_SCHEMAS.values():
        jsonschema.Draft7Validator.check_schema(schema)
        assert schema["type"] == "object"
        assert all("$comment" in prop for prop in schema["properties"].values())


@pytest.mark.parametrize("event_type", sorted(SEED_EVENT_TYPES))
def test_event_details_schema_is_the_json_of_the_type_schema(event_type):
    row = export_row(Dataset.INCIDENT_EVENTS, _event(event_type, {}))
    assert row["type"] == event_type
    assert row["event_details_schema"] == event_details_schema(event_type)
    assert json.loads(row["event_details_schema"]) == EVENT_DETAILS_SCHEMAS[event_type]
    assert row["event_details_schema"] == json.dumps(
        EVENT_DETAILS_SCHEMAS[event_type], separators=(",", ":"), ensure_ascii=False
    )


def test_event_row_with_json_encoded_details():
    details = {
        "update_type": "addition",
        "impacted_type": "service",
        "impacted_id": "svc-1",
        "old_condition_name": None,
        "new_condition_name": 'Dégradé, "partial"\nsee ☕',
    }
    row = export_row(Dataset.INCIDENT_EVENTS, _event("ImpactUpdate", details))
    assert row == {
        "id": "evt-1",
        "account_id": "acct-1",
        "organization_id": "org-1",
        "created_at": "2026-03-01T08:00:00.000Z",
        "updated_at": "2026-03-01T10:00:00.250Z",
        "incident_id": "inc-1",
        "created_by_name": "Ana Silva",
        "type": "ImpactUpdate",
        "event_details_schema": row["event_details_schema"],
        "event_details": (
            '{"update_type":"addition","impacted_type":"service","impacted_id":"svc-1","old_condition_name":null,'
            '"new_condition_name":"Dégradé, \\"partial\\"\\nsee ☕"}'
        ),
    }
    assert json.loads(row["event_details"]) == details
    jsonschema.validate(json.loads(row["event_details"]), json.loads(row["event_details_schema"]))


def test_generic_resource_change_fields_are_an_object():
    details = {"operation": "deleted", "resource_type": "incident", "resource_id": "inc-1", "fields": {"number": "42"}}
    row = export_row(Dataset.INCIDENT_EVENTS, _event("GenericResourceChange", details))
    jsonschema.validate(json.loads(row["event_details"]), json.loads(row["event_details_schema"]))
    assert json.loads(row["event_details"])["fields"] == {"number": "42"}


# ---- the other children ---------------------------------------------------------------------------------------


def test_role_assignment_row():
    assert export_row(Dataset.INCIDENT_ROLE_ASSIGNMENTS, _role()) == {
        "id": "role-1",
        "account_id": "acct-1",
        "organization_id": "org-1",
        "created_at": "2026-03-01T08:00:00.000Z",
        "updated_at": "2026-03-01T10:00:00.250Z",
        "status": "assigned",
        "incident_role_id": "r-commander",
        "incident_role_name": "Incident Commander",
        "incident_id": "inc-1",
        "assigned_user_id": "u-1",
        "assigned_user_name": "Ana Silva",
    }


def test_impact_row():
    assert export_row(Dataset.INCIDENT_IMPACTS, _impact()) == {
        "id": "imp-1",
        "account_id": "acct-1",
        "organization_id": "org-1",
        "created_at": "2026-03-01T08:00:00.000Z",
        "updated_at": "2026-03-01T10:00:00.250Z",
        "incident_id": "inc-1",
        "impacted_id": "svc-1",
        "impacted_type": "service",
        "impacted_slug": "checkout",
        "condition_name": "Degraded",
    }


def test_retrospective_row_with_json_encoded_tags_and_questions():
    row = export_row(Dataset.RETROSPECTIVES, _retrospective())
    assert row == {
        "id": "retro-1",
        "account_id": "acct-1",
        "organization_id": "org-1",
        "created_at": "2026-03-01T08:00:00.000Z",
        "updated_at": "2026-03-01T10:00:00.250Z",
        "name": "Retro of 42",
        "summary": "Expired certificate",
        "tags": '["dns","größe"]',
        "incident_id": "inc-1",
        "additional_details": "see the doc",
        "questions": (
            '[{"title":"What went well?","body":"Fast \\"rollback\\"","question_type_id":"q-1"},'
            '{"title":"Next?","body":"Alerting,\\nagain","question_type_id":"q-2"}]'
        ),
    }
    assert json.loads(row["questions"]) == _retrospective().questions


def test_empty_retrospective_lists_are_empty_json_arrays():
    row = export_row(Dataset.RETROSPECTIVES, _retrospective(tags=[], questions=[], summary=""))
    assert (row["tags"], row["questions"], row["summary"]) == ("[]", "[]", "")


# ---- incident extras ------------------------------------------------------------------------------------------


def test_incident_extras_are_the_seed_002_fields():
    incident = _incident(
        status="CLOSED",
        impact="HIGH",
        project_id=24,
        tags=["T1", "PROD"],
        asset_id="5x0e34yk1re4",
        connection_type="BIGQUERY",
        connection_id="conn-123",
        alert_policy_id="4",
        alert_policy_name="Test_Policy",
        source_name="SNOWFLAKE.Sales.ORDERS",
        description="…",
        ticket_id=2411,
        last_upload_timestamp=datetime(2025, 6, 30, 14, 12, 51, 871000, tzinfo=UTC),
        metrics=[{"metric_name": "contains_pii", "segment": None}],
        history=[{"timestamp": "2025-06-30T14:12:51.871Z", "state": "NEW", "alert_refs": []}],
    )
    extras = incident_extras(incident)
    assert extras == {
        "status": "CLOSED",
        "impact": "HIGH",
        "project_id": 24,
        "tags": ["T1", "PROD"],
        "asset_id": "5x0e34yk1re4",
        "connection_type": "BIGQUERY",
        "connection_id": "conn-123",
        "alert_policy_id": "4",
        "alert_policy_name": "Test_Policy",
        "source_name": "SNOWFLAKE.Sales.ORDERS",
        "description": "…",
        "ticket_id": 2411,
        "last_upload_timestamp": "2025-06-30T14:12:51.871Z",
        "metrics": '[{"metric_name":"contains_pii","segment":null}]',
        "history": '[{"timestamp":"2025-06-30T14:12:51.871Z","state":"NEW","alert_refs":[]}]',
        # text_to_search's case-insensitive match: both names lower-cased, one a line
        "search_text": "test_policy\nsnowflake.sales.orders",
    }
    extras["tags"].append("changed")
    assert incident.tags == ["T1", "PROD"]  # a copy


def test_incident_extras_defaults():
    assert incident_extras(_incident()) == {
        "status": "OPEN",
        "impact": "",
        "project_id": 0,
        "tags": [],
        "asset_id": "",
        "connection_type": "",
        "connection_id": "",
        "alert_policy_id": "",
        "alert_policy_name": "",
        "source_name": "",
        "description": "",
        "ticket_id": None,
        "last_upload_timestamp": "",
        "metrics": "[]",
        "history": "[]",
        "search_text": "\n",
    }


def test_extras_never_leak_into_the_row():
    row = export_row(Dataset.INCIDENTS, _incident(status="CLOSED", tags=["PROD"], project_id=7))
    assert not set(row) & {"status", "tags", "project_id", "impact", "metrics", "history"}


# ---- writer and deletion --------------------------------------------------------------------------------------


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


# ---- filenames ------------------------------------------------------------------------------------------------

NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("entity", "name"),
    [
        (None, "incidents-2026-03-01_2026-04-01.csv"),
        ("", "incidents-2026-03-01_2026-04-01.csv"),
        ("42", "incidents-42-2026-03-01_2026-04-01.csv"),
        ("INC-42", "incidents-INC-42-2026-03-01_2026-04-01.csv"),
        ("inc_01J9.v2", "incidents-inc_01J9.v2-2026-03-01_2026-04-01.csv"),
        ('Checkout "EU" / café', "incidents-Checkout_EU_caf-2026-03-01_2026-04-01.csv"),
        ("../../etc/passwd", "incidents-.._.._etc_passwd-2026-03-01_2026-04-01.csv"),
        ('a";\r\nX-Injected: 1', "incidents-a_X-Injected_1-2026-03-01_2026-04-01.csv"),
        ("x" * 200, f"incidents-{'x' * 80}-2026-03-01_2026-04-01.csv"),
    ],
)
def test_filename_with_a_sanitised_entity(entity, name):
    got = export_filename(
        "incidents",
        ExportFormat.CSV,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        bounded=True,
        now=NOW,
        entity=entity,
    )
    assert got == name
    assert not set(got) & set('"\\/\r\n;: ')


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_filename_without_bounds_is_named_by_today(fmt):
    assert (
        export_filename("incident-events", fmt, start=None, end=NOW, bounded=False, now=NOW)
        == f"incident-events-2026-03-19.{fmt.value}"
    )
    assert (
        export_filename("incident-events", fmt, start=None, end=NOW, bounded=False, now=NOW, entity="42")
        == f"incident-events-42-2026-03-19.{fmt.value}"
    )
    # bounded by an end only but nothing to start from: today as well
    assert export_filename("retrospectives", fmt, start=None, end=NOW, bounded=True, now=NOW).endswith(
        f"-2026-03-19.{fmt.value}"
    )
