"""GET /v1/export/{dataset} through the real handler against moto: over the synchronous limit, a job or a 400."""

from __future__ import annotations

import json

import pytest

from export_service.api.deps import reset_dependencies
from tests.integration.dataset_export_support import DESC, _error, _get, _rows, write_bundles

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(stack) -> None:
    write_bundles(stack)


def test_without_a_state_machine_over_the_limit_is_refused_with_the_true_count(data, monkeypatch):
    monkeypatch.setenv("STATE_MACHINE_ARN", "")
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "4")
    body = _error(_get("incident-events"), 400, "EXPORT_TOO_LARGE")
    assert body["matchedRecords"] == 9
    assert body["limit"] == 4
    assert body["message"].startswith("9 records match, more than the synchronous limit of 4.")


def test_over_the_sync_limit_becomes_a_job_with_the_true_count(data, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "4")
    body = _accepted(_get("incident-events"))
    assert body["status"]["estimatedRecords"] == 9
    # the count follows the filters and the incident
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "2")
    reset_dependencies()
    body = _accepted(_get("incidents", {"statuses": "OPEN", "format": "json"}))
    assert body["status"]["estimatedRecords"] == 3
    body = _accepted(_get("incident-events", {"incident_id": "inc-acme-001", "sort": DESC}))
    assert body["status"]["estimatedRecords"] == 3
    assert body["metadata"]["filename"].startswith("incident-events-")
    assert len(_rows("incident-events", {"incident_id": "inc-acme-002"})) == 2
    body = _accepted(_get("incident-role-assignments", {"sort": DESC}, tenant="globex"))
    assert body["status"]["estimatedRecords"] == 4


def test_exactly_the_sync_limit_is_served(data, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "5")
    assert len(_rows("incidents")) == 5
    # over the limit as a whole, but one incident's rows are few enough
    _accepted(_get("incident-role-assignments"))
    assert len(_rows("incident-role-assignments", {"incident_id": "inc-acme-001"})) == 2


response_stage_prefix = ""


def _accepted(response: dict) -> dict:
    """A synchronous export over the limit became a job: 202, Location, the ExportJob body."""
    assert response["statusCode"] == 202, response["body"]
    headers = {
        **(response.get("headers") or {}),
        **{k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    body = json.loads(response["body"])
    assert body["kind"] == "ExportJob" and body["status"]["state"] == "processing"
    # Location keeps the stage the caller used (the sample API Gateway event is on stage "prod")
    stage = response_stage_prefix
    assert headers["Location"] == f"{stage}/v1/exports/{body['metadata']['jobId']}"
    return body
