"""The children's rows as exported: events and their details' schema, role assignments, impacts, retrospectives."""

from __future__ import annotations

import json

import jsonschema
import pytest

from export_service.logic.incident_records import event_details_schema, export_row
from export_service.models.incidents import EVENT_DETAILS_SCHEMAS, Dataset
from tests.unit.incident_records_support import _event, _impact, _retrospective, _role

pytestmark = pytest.mark.unit


# ---- events ---------------------------------------------------------------------------------------------------


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
