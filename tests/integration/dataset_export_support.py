"""Shared by the GET /v1/export/{dataset} handler tests (test_dataset_export_*.py): the data, calls, answers."""

from __future__ import annotations

import json
from typing import Any

from export_service.logic.incident_records import write_incident_bundles
from export_service.timefmt import utc_now
from tests.helpers import json_body, response_header
from tests.integration.incident_support import at, bundles, dataset_event, export_dataset, incident_store, jsonl

RANGE = {"from": "2026-03-01T08:00:00Z", "to": "2026-03-03T00:00:00Z"}
RANGE_START, RANGE_END = at(RANGE["from"]), at(RANGE["to"])
DESC = json.dumps({"field": "created_at", "direction": "desc"})


def write_bundles(stack: Any) -> None:
    """acme's and globex's incident bundles (incident_support.bundles), written into the module's stack."""
    store = incident_store(stack)
    for tenant in ("acme", "globex"):
        write_incident_bundles(store, tenant, bundles(tenant))


def _get(dataset: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return export_dataset(dataset_event(dataset, params, **kwargs))


def _ok(dataset: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    response = _get(dataset, params, **kwargs)
    assert response["statusCode"] == 200, response["body"]
    return response


def _rows(dataset: str, params: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, str]]:
    return jsonl(_ok(dataset, {**(params or {}), "format": "jsonl"}, **kwargs)["body"])


def _disposition(response: dict[str, Any]) -> str | None:
    return response_header(response, "Content-Disposition")


def _today() -> str:
    return utc_now().date().isoformat()


def _error(response: dict[str, Any], status: int, code: str, parameter: str | None = None) -> dict[str, Any]:
    assert response["statusCode"] == status, response["body"]
    assert response_header(response, "Content-Type") == "application/json"
    body = json_body(response)
    assert (body["status"], body["error"]) == (status, code)
    assert isinstance(body["message"], str)
    assert body["message"]
    if parameter is not None:
        assert body.get("parameter") == parameter, body
    return body
