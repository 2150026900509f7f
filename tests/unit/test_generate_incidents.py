"""The incident demo generator: deterministic, exact counts, realistic lifecycles, valid event details, exportable."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest

from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles
from export_service.logic.incident_records import IncidentBundle, export_row
from export_service.models.incidents import (
    DATASETS,
    EVENT_DETAILS_SCHEMAS,
    IMPACTS,
    MILESTONES,
    PRIORITIES,
    SEVERITIES,
    Dataset,
)

pytestmark = pytest.mark.unit

START = datetime(2026, 1, 1, tzinfo=UTC)
END = datetime(2026, 3, 1, tzinfo=UTC)
SAMPLE = 200
CONDITIONS = {"Unavailable", "Partial Outage", "Degraded Performance", "Operational"}


def _generate(tenant: str = "acme", count: int = SAMPLE, start: datetime = START, end: datetime = END, **kw):
    return list(incident_bundles(tenant, count, start, end, **kw))


@pytest.fixture(scope="module")
def bundles() -> list[IncidentBundle]:
    return _generate()


def _rows(bundle: IncidentBundle) -> Iterator[tuple[Dataset, Any]]:
    yield Dataset.INCIDENTS, bundle.incident
    for dataset, models in (
        (Dataset.INCIDENT_EVENTS, bundle.events),
        (Dataset.INCIDENT_ROLE_ASSIGNMENTS, bundle.role_assignments),
        (Dataset.INCIDENT_IMPACTS, bundle.impacts),
        (Dataset.RETROSPECTIVES, bundle.retrospectives),
    ):
        for model in models:
            yield dataset, model


def _exported(bundles: list[IncidentBundle]) -> list[tuple[Dataset, dict[str, str]]]:
    return [(dataset, export_row(dataset, model)) for bundle in bundles for dataset, model in _rows(bundle)]


def _instants(bundle: IncidentBundle) -> Iterator[datetime]:
    """Every date-time of a bundle, including those inside the incident API's history (as parsed text)."""
    for _, model in _rows(bundle):
        for value in model.model_dump().values():
            if isinstance(value, datetime):
                yield value
    for entry in bundle.incident.history:
        yield datetime.fromisoformat(entry["timestamp"])
        for ref in entry["alert_refs"]:
            yield datetime.fromisoformat(ref["metric_time"])


def test_demo_sizes_differ_per_tenant():
    assert DEMO_INCIDENTS == {"acme": 400, "globex": 250, "initech": 120}


@pytest.mark.parametrize("count", [0, 1, 7, 60])
def test_exactly_count_incidents_in_created_order(count):
    bundles = _generate(count=count)
    assert len(bundles) == count
    created = [bundle.incident.created_at for bundle in bundles]
    assert created == sorted(created)
    numbers = [int(bundle.incident.number.removeprefix("INC-")) for bundle in bundles]
    assert numbers == list(range(numbers[0], numbers[0] + count) if numbers else [])  # a per-tenant sequence


def test_same_arguments_give_the_same_rows_and_others_differ(bundles):
    again = _exported(_generate())
    assert again == _exported(bundles)
    assert _exported(_generate(count=20, seed=7)) != _exported(_generate(count=20))
    assert _exported(_generate(count=20, tenant="globex")) != _exported(_generate(count=20))
    # the first bundles do not depend on how many are consumed
    first = list(itertools.islice(incident_bundles("acme", SAMPLE, START, END), 5))
    assert _exported(first) == _exported(bundles[:5])


@pytest.mark.parametrize(
    ("count", "start", "end"),
    [
        (SAMPLE, START, END),
        # a short window with an odd start: most incidents still open, every time clamped into the window
        (40, datetime(2026, 2, 27, 22, 0, 0, 123456, tzinfo=UTC), datetime(2026, 2, 28, 0, 0, 0, 999, tzinfo=UTC)),
        (5, datetime(2026, 2, 28, tzinfo=UTC), datetime(2026, 2, 28, 0, 0, 0, 3000, tzinfo=UTC)),
    ],
)
def test_every_instant_is_utc_whole_milliseconds_in_the_window(count, start, end):
    bundles = _generate(count=count, start=start, end=end)
    assert len(bundles) == count
    for bundle in bundles:
        for moment in _instants(bundle):
            assert moment.utcoffset() == timedelta(0)
            assert moment.microsecond % 1000 == 0
            assert start <= moment < end


def test_window_must_be_aware_and_not_empty():
    with pytest.raises(ValueError, match="timezone-aware"):
        _generate(count=1, start=datetime(2026, 1, 1), end=datetime(2026, 1, 2))
    with pytest.raises(ValueError, match="millisecond"):
        _generate(count=1, start=END, end=END)
    assert _generate(count=0, start=END, end=END) == []


def test_milestones_in_lifecycle_order_and_status_follows_resolution(bundles):
    last_reached = Counter()
    for bundle in bundles:
        incident = bundle.incident
        reached = [(m, getattr(incident, f"{m}_at")) for m in MILESTONES if getattr(incident, f"{m}_at") is not None]
        times = [at for _, at in reached]
        assert times == sorted(times), incident.number
        assert incident.started_at is not None
        assert incident.detected_at is not None
        assert incident.started_at <= incident.detected_at <= incident.created_at
        assert incident.opened_at == incident.created_at
        assert incident.updated_at >= max(incident.created_at, *times)
        assert (incident.status == "CLOSED") == (incident.resolved_at is not None)
        if incident.retrospective_started_at is not None:
            assert incident.resolved_at is not None
        if incident.retrospective_completed_at is not None:
            assert incident.retrospective_started_at is not None
        until = incident.resolved_at or incident.updated_at
        assert incident.active_duration == until - incident.started_at
        last_reached[reached[-1][0]] += 1
    # a mix: mostly resolved, some retrospectives (done and in progress), some still open
    assert last_reached["resolved"] > SAMPLE / 3
    assert last_reached["retrospective_completed"] > 0
    assert last_reached["retrospective_started"] > 0
    assert sum(n for m, n in last_reached.items() if MILESTONES.index(m) < MILESTONES.index("resolved")) > 0


def test_recent_incidents_are_open_at_the_end_of_the_window():
    bundles = _generate(count=30, start=END - timedelta(hours=2), end=END)
    assert Counter(bundle.incident.status for bundle in bundles)["OPEN"] > 10


def test_incident_fields(bundles):
    severities = Counter(bundle.incident.severity for bundle in bundles)
    assert set(severities) == {"", *SEVERITIES}
    for bundle in bundles:
        incident = bundle.incident
        assert incident.priority in PRIORITIES
        assert incident.impact in IMPACTS
        assert incident.name
        assert incident.started_by
        assert incident.project_id in (0, 7, 24, 31)
        assert len(incident.asset_id) == 12
        assert incident.asset_id.isalnum()
        assert incident.connection_type in ("GCS", "BIGQUERY", "SNOWFLAKE", "S3", "POSTGRES", "DATABRICKS")
        assert incident.connection_id.startswith("conn-")
        assert incident.source_name.startswith(incident.connection_type + ".")
        assert incident.alert_policy_id
        assert incident.alert_policy_name
        assert incident.ticket_id is None or isinstance(incident.ticket_id, int)
        assert incident.metrics
        for metric in incident.metrics:
            assert set(metric) == {
                "metric_name",
                "metric_aggregation",
                "display_metric_name",
                "segment",
                "rule",
                "attribute",
            }
        history = incident.history
        assert history[0]["state"] == "NEW"
        assert history[0]["timestamp"] == export_row(Dataset.INCIDENTS, incident)["created_at"]
        stamps = [entry["timestamp"] for entry in history]
        assert stamps == sorted(stamps)
        assert {entry["state"] for entry in history} <= {"NEW", "ONGOING", "RESOLVED", "REOPENED"}
        if incident.status == "CLOSED":
            assert history[-1]["state"] == "RESOLVED"
            assert history[-1]["timestamp"] == export_row(Dataset.INCIDENTS, incident)["resolved_at"]
        for entry in history:
            for ref in entry["alert_refs"]:
                assert set(ref) == {"metric_time", "violation_name"}
                assert ref["metric_time"] <= entry["timestamp"]
        last_upload = max(ref["metric_time"] for entry in history for ref in entry["alert_refs"])
        assert export_row(Dataset.INCIDENTS, incident)["number"] == incident.number
        assert incident.last_upload_timestamp == datetime.fromisoformat(last_upload)
    assert any(entry["state"] == "REOPENED" for bundle in bundles for entry in bundle.incident.history)
    assert any(bundle.incident.ticket_id is None for bundle in bundles)
    assert any(bundle.incident.ticket_id is not None for bundle in bundles)
    assert len({bundle.incident.alert_policy_id for bundle in bundles} - {str(n) for n in range(100)}) > 0
    assert len({bundle.incident.account_id for bundle in bundles}) == 1
    assert len({bundle.incident.organization_id for bundle in bundles}) == 1


def test_every_event_type_occurs_and_every_details_object_validates(bundles):
    validators = {}
    for kind, schema in EVENT_DETAILS_SCHEMAS.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        validators[kind] = jsonschema.Draft202012Validator(schema)
    seen = Counter()
    nulls = Counter()
    for bundle in bundles:
        for event in bundle.events:
            schema = EVENT_DETAILS_SCHEMAS[event.type]
            validators[event.type].validate(event.event_details)
            assert set(event.event_details) == set(schema["properties"]), event.type
            row = export_row(Dataset.INCIDENT_EVENTS, event)
            assert json.loads(row["event_details_schema"]) == schema
            assert json.loads(row["event_details"]) == event.event_details
            assert event.created_by_name
            seen[event.type] += 1
            nulls.update(f"{event.type}.{key}" for key, value in event.event_details.items() if value is None)
    assert set(seen) == set(EVENT_DETAILS_SCHEMAS)
    assert {"ImpactUpdate.old_condition_name", "ImpactUpdate.new_condition_name"} <= set(nulls)
    assert "TicketUpdate.ticket_provider_id" in nulls
    changes = [
        event.event_details["fields"]
        for bundle in bundles
        for event in bundle.events
        if event.type == "GenericResourceChange"
    ]
    assert any(set(fields) == {"severity"} and set(fields["severity"]) == {"from", "to"} for fields in changes)


def test_event_stream_follows_the_incident(bundles):
    for bundle in bundles:
        incident, events = bundle.incident, bundle.events
        assert 8 <= len(events) <= 40
        assert [e.created_at for e in events] == sorted(e.created_at for e in events)
        assert events[0].type == "IncidentStatus"
        assert events[0].event_details == {"new_status": "OPEN"}
        statuses = [e.event_details["new_status"] for e in events if e.type == "IncidentStatus"]
        assert statuses[-1] == ("CLOSED" if incident.status == "CLOSED" else "OPEN")
        severity_changes = [
            e.event_details["fields"]["severity"]
            for e in events
            if e.type == "GenericResourceChange" and "severity" in e.event_details["fields"]
        ]
        for change in severity_changes:
            assert change["to"] == incident.severity != change["from"]
        milestones = [e for e in events if e.type == "BulkMilestoneUpdate"]
        for event in milestones:
            current = event.event_details["current_milestone"]
            assert getattr(incident, f"{current}_at") == event.created_at
            original = MILESTONES.index(event.event_details["original_milestone"])
            assert original < MILESTONES.index(current)
        assignment_ids = {row.id for row in bundle.role_assignments}
        role_events = [e for e in events if e.type == "RoleUpdate"]
        assert {e.event_details["role_assignment_id"] for e in role_events} == assignment_ids


def test_children_belong_to_their_incident_and_follow_it(bundles):
    for bundle in bundles:
        incident = bundle.incident
        for dataset, model in _rows(bundle):
            assert model.account_id == incident.account_id
            assert model.organization_id == incident.organization_id
            assert model.updated_at >= model.created_at
            if dataset is not Dataset.INCIDENTS:
                assert model.incident_id == incident.id
                assert model.created_at >= incident.created_at


def test_ids_are_unique_per_dataset(bundles):
    ids: dict[Dataset, list[str]] = {dataset: [] for dataset in Dataset}
    for bundle in bundles:
        for dataset, model in _rows(bundle):
            ids[dataset].append(model.id)
    for dataset, values in ids.items():
        assert values, dataset
        assert len(values) == len(set(values)), dataset
    every = [value for values in ids.values() for value in values]
    assert len(every) == len(set(every))


def test_export_row_gives_exactly_the_dataset_columns(bundles):
    seen = set()
    for dataset, row in _exported(bundles):
        assert tuple(row) == DATASETS[dataset].columns
        assert all(isinstance(value, str) for value in row.values())
        seen.add(dataset)
    assert seen == set(Dataset)


def test_role_assignments(bundles):
    role_ids: dict[str, set[str]] = {}
    statuses = Counter()
    for bundle in bundles:
        assert 1 <= len(bundle.role_assignments) <= 8
        assert "Incident Commander" in {row.incident_role_name for row in bundle.role_assignments}
        for row in bundle.role_assignments:
            role_ids.setdefault(row.incident_role_name, set()).add(row.incident_role_id)
            statuses[row.status] += 1
            assert row.assigned_user_id
            assert row.assigned_user_name
            if row.status == "unassigned":
                assert row.updated_at > row.created_at
            else:
                assert row.status == "assigned"
    assert all(len(ids) == 1 for ids in role_ids.values())  # stable role ids
    assert {"Incident Commander", "Communications Lead", "Operations Lead"} <= set(role_ids)
    assert statuses["assigned"] > statuses["unassigned"] > 0
    # the same roles keep their ids whatever the seed
    other = _generate(count=20, seed=99)
    for bundle in other:
        for row in bundle.role_assignments:
            assert role_ids.get(row.incident_role_name, {row.incident_role_id}) == {row.incident_role_id}


def test_impacts(bundles):
    counts = Counter(len(bundle.impacts) for bundle in bundles)
    assert set(counts) <= set(range(5))
    assert counts[0] > 0
    kinds = Counter()
    for bundle in bundles:
        slugs = [row.impacted_slug for row in bundle.impacts]
        assert len(slugs) == len(set(slugs))
        for row in bundle.impacts:
            assert row.impacted_type in ("service", "functionality", "environment")
            assert row.condition_name in CONDITIONS
            assert row.impacted_slug
            assert row.impacted_id
            kinds[row.impacted_type] += 1
    assert set(kinds) == {"service", "functionality", "environment"}


def test_retrospectives_exist_for_incidents_with_one_started(bundles):
    question_types = Counter()
    for bundle in bundles:
        incident = bundle.incident
        assert len(bundle.retrospectives) == (1 if incident.retrospective_started_at is not None else 0)
        for retro in bundle.retrospectives:
            assert retro.created_at == incident.retrospective_started_at
            if incident.retrospective_completed_at is not None:
                assert retro.updated_at == incident.retrospective_completed_at
            assert retro.name
            assert isinstance(retro.tags, list)
            for question in retro.questions:
                assert set(question) == {"title", "body", "question_type_id"}
                question_types[question["question_type_id"]] += 1
            row = export_row(Dataset.RETROSPECTIVES, retro)
            assert json.loads(row["tags"]) == retro.tags
            assert json.loads(row["questions"]) == retro.questions
    assert question_types
    assert all(count > 1 for count in question_types.values())  # retrospectives answer the same questions


def test_some_values_are_hostile_as_users_type_them(bundles):
    rows = [row for _, row in _exported(bundles)]
    texts = [value for row in rows for value in row.values()]
    notes = [event.event_details["body"] for bundle in bundles for event in bundle.events if event.type == "Note"]
    assert any(body[:1] in ("=", "+", "-", "@", "\t", "\r") for body in notes)  # spreadsheet formula prefixes
    assert any("\n" in text for text in texts)
    assert any('"' in text and "," in text for text in texts)
    assert any(not text.isascii() for text in texts)
