"""The extras stored beside an incident row (the incident API's fields), never exported in the row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_service.logic.incident_records import export_row, incident_extras
from export_service.models.incidents import Dataset
from tests.unit.incident_records_support import _incident

pytestmark = pytest.mark.unit


def test_incident_extras_are_the_incident_api_fields():
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
