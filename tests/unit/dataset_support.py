"""Shared by the tests of build_dataset_request (test_dataset_*.py): the clock, the datasets, building a request."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from export_service.errors import InvalidParameterError
from export_service.logic.dataset_export import DatasetExportRequest, build_dataset_request
from export_service.models.export import ExportFormat
from export_service.models.incidents import DatasetExportQuery

NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)
DATASETS = ["incidents", "incident-events", "incident-role-assignments", "incident-impacts", "retrospectives"]
LIST_NAMES = ["severities", "priorities", "statuses", "tags", "project_ids"]


def _build(
    dataset: str = "incidents",
    *,
    bounds: dict[str, str] | None = None,
    lists: dict[str, list[str]] | None = None,
    incident_id: str | None = None,
    filter: Any = None,  # noqa: A002
    sort: Any = None,
    fmt: ExportFormat = ExportFormat.CSV,
) -> DatasetExportRequest:
    """Raw strings are passed as they are; other values are JSON-encoded first (as a client would)."""
    params: dict[str, Any] = {"format": fmt.value, **(bounds or {}), **(lists or {}), "incident_id": incident_id}
    params["filter"] = filter if filter is None or isinstance(filter, str) else json.dumps(filter)
    params["sort"] = sort if sort is None or isinstance(sort, str) else json.dumps(sort)
    query = DatasetExportQuery.model_validate({name: value for name, value in params.items() if value is not None})
    return build_dataset_request("acme", dataset, query, NOW)


def _invalid(parameter: str, *args: Any, **kwargs: Any) -> str:
    with pytest.raises(InvalidParameterError) as caught:
        _build(*args, **kwargs)
    assert caught.value.parameter == parameter, caught.value.message
    assert caught.value.status == 400
    assert caught.value.to_body()["error"] == "INVALID_PARAMETER"
    return caught.value.message
