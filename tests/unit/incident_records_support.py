"""Shared by the incident record tests (test_incident_*.py): one of each model, with fixed owner and stamps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from export_service.models.incidents import (
    Incident,
    IncidentEvent,
    IncidentImpact,
    IncidentRoleAssignment,
    Retrospective,
)

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
