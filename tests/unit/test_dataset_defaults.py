"""build_dataset_request and parse_dataset: the defaults, every dataset by name, a request as a whole."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from export_service.dal.incident_store import IncidentQuery
from export_service.errors import NotFoundError
from export_service.logic.dataset_export import DatasetExportRequest, build_dataset_request, parse_dataset
from export_service.models.export import ExportFormat
from export_service.models.incidents import Dataset, DatasetExportQuery
from tests.unit.dataset_support import DATASETS, NOW, _build

pytestmark = pytest.mark.unit


# ---- the defaults and the dataset --------------------------------------------------------------------------------


def test_defaults_are_everything_up_to_now_in_created_at_order():
    assert _build() == DatasetExportRequest(
        tenant_id="acme",
        dataset=Dataset.INCIDENTS,
        fmt=ExportFormat.CSV,
        start=None,
        end=NOW,
        bounded=False,
        query=IncidentQuery(),
        descending=False,
        bom=False,
    )


@pytest.mark.parametrize("name", DATASETS)
def test_every_dataset_by_name(name):
    assert parse_dataset(name) is Dataset(name)
    assert _build(name, fmt=ExportFormat.JSONL).dataset.value == name


@pytest.mark.parametrize("name", ["incident", "Incidents", "INCIDENTS", "incident_events", "audit", "", "../audit"])
def test_unknown_dataset_is_not_found_listing_the_datasets(name):
    with pytest.raises(NotFoundError) as caught:
        parse_dataset(name)
    error = caught.value
    assert error.status == 404
    assert error.parameter == "dataset"
    assert error.details == {"datasets": DATASETS}
    assert error.message == f"unknown dataset '{name}'; datasets: {', '.join(DATASETS)}"
    assert error.to_body() == {
        "status": 404,
        "error": "NOT_FOUND",
        "message": error.message,
        "parameter": "dataset",
        "datasets": DATASETS,
    }
    with pytest.raises(NotFoundError):
        _build(name)


# ---- the request as a whole -----------------------------------------------------------------------------------


def test_a_full_request():
    query = DatasetExportQuery.model_validate(
        {
            "format": "json",
            "from_time": "2026-03-01T00:00:00+01:00",
            "severities": ["HIGH", "MEDIUM"],
            "tags": ["PROD"],
            "filter": json.dumps({"statuses": ["OPEN"], "project_ids": [0, 24], "range": {"end": "2026-03-02"}}),
            "sort": json.dumps({"field": "created_at", "direction": "desc"}),
            "bom": True,
        }
    )
    request = build_dataset_request("globex", "incidents", query, NOW)
    assert request == DatasetExportRequest(
        tenant_id="globex",
        dataset=Dataset.INCIDENTS,
        fmt=ExportFormat.JSON,
        start=datetime(2026, 2, 28, 23, tzinfo=UTC),
        end=datetime(2026, 3, 2, tzinfo=UTC),
        bounded=True,
        query=IncidentQuery(
            severities=["HIGH", "MEDIUM"], statuses=["OPEN"], tags=["PROD"], project_ids=[0, 24], incident_id=None
        ),
        descending=True,
        bom=True,
    )


def test_now_with_an_offset_is_kept_as_the_same_instant():
    eastern = timezone(timedelta(hours=-5))
    request = build_dataset_request("acme", "retrospectives", DatasetExportQuery(), NOW.astimezone(eastern))
    assert request.end == NOW
