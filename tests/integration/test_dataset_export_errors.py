"""GET /v1/export/{dataset} through the real handler against moto: bad input, no permission, no caller."""

from __future__ import annotations

import pytest

from tests.integration.dataset_export_support import _error, _get, write_bundles
from tests.integration.incident_support import ALL_DATASETS

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(stack) -> None:
    write_bundles(stack)


@pytest.mark.parametrize("name", ["incident", "Incidents", "audit", "incident_events", "retrospective"])
def test_unknown_dataset_is_a_404_listing_the_datasets(data, name):
    body = _error(_get(name), 404, "NOT_FOUND", "dataset")
    assert body["datasets"] == ALL_DATASETS
    assert f"'{name}'" in body["message"]
    assert all(dataset in body["message"] for dataset in ALL_DATASETS)


@pytest.mark.parametrize(
    ("dataset", "params", "code", "parameter", "says"),
    [
        ("incidents", {"filter": "{severities:[HIGH]}"}, "INVALID_PARAMETER", "filter", "not valid JSON"),
        ("incidents", {"filter": '["HIGH"]'}, "INVALID_PARAMETER", "filter", "JSON object"),
        ("incidents", {"filter": '{"namespace":["prod"]}'}, "INVALID_PARAMETER", "filter", "'namespace'"),
        ("incidents", {"filter": '{"range":{"begin":"2026-03-01"}}'}, "INVALID_PARAMETER", "filter", "range"),
        ("incidents", {"filter": '{"range":{"start":20260301}}'}, "INVALID_PARAMETER", "filter", "range.start"),
        ("incidents", {"filter": '{"incident_id":7}'}, "INVALID_PARAMETER", "filter", "incident_id"),
        (
            "incidents",
            {"filter": '{"range":{"start":"yesterday"}}'},
            "INVALID_PARAMETER",
            "filter.range.start",
            "ISO 8601",
        ),
        ("incidents", {"sort": "created_at"}, "INVALID_PARAMETER", "sort", "not valid JSON"),
        ("incidents", {"sort": '{"field":"severity"}'}, "INVALID_PARAMETER", "sort", "sortable: created_at"),
        ("incidents", {"sort": '{"field":"name","direction":"asc"}'}, "INVALID_PARAMETER", "sort", "'name'"),
        ("incidents", {"sort": '{"field":"created_at","direction":"up"}'}, "INVALID_PARAMETER", "sort", "direction"),
        ("incidents", {"sort": '{"field":"created_at","order":"asc"}'}, "INVALID_PARAMETER", "sort", "'order'"),
        ("incidents", {"sort": '[{"field":"created_at"},{"field":"id"}]'}, "INVALID_PARAMETER", "sort", "sort"),
        ("incidents", {"severities": "CRITICAL"}, "INVALID_PARAMETER", "severities", "'CRITICAL'"),
        ("incidents", {"priorities": "P1"}, "INVALID_PARAMETER", "priorities", "'P1'"),
        ("incidents", {"statuses": "RESOLVED"}, "INVALID_PARAMETER", "statuses", "'RESOLVED'"),
        ("incidents", {"project_ids": "0,abc"}, "INVALID_PARAMETER", "project_ids", "integers"),
        ("incidents", {"filter": '{"project_ids":[1.5]}'}, "INVALID_PARAMETER", "project_ids", "integers"),
        ("incidents", {"filter": '{"severities":[]}'}, "INVALID_PARAMETER", "severities", "non-empty"),
        ("incidents", {"filter": '{"tags":[1]}'}, "INVALID_PARAMETER", "tags", "strings"),
        (
            "incidents",
            {"severities": "HIGH", "filter": '{"severities":["LOW"]}'},
            "INVALID_PARAMETER",
            "severities",
            "both",
        ),
        (
            "incidents",
            {"incident_id": "inc-acme-001", "filter": '{"incident_id":"inc-acme-002"}'},
            "INVALID_PARAMETER",
            "incident_id",
            "both",
        ),
        ("incident-events", {"severities": "HIGH"}, "INVALID_PARAMETER", "severities", "'incidents'"),
        ("retrospectives", {"filter": '{"tags":["dns"]}'}, "INVALID_PARAMETER", "tags", "'incidents'"),
        ("incident-impacts", {"project_ids": "24"}, "INVALID_PARAMETER", "project_ids", "'incidents'"),
        ("incidents", {"incident_id": ""}, "INVALID_PARAMETER", "incident_id", "empty"),
        ("incidents", {"from": "2026-03-03T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "INVALID_RANGE", "from", "after"),
        (
            "incidents",
            {"range_start": "2026-03-03", "range_end": "2026-03-02"},
            "INVALID_RANGE",
            "range_start",
            "after",
        ),
        ("incidents", {"from": "2999-01-01T00:00:00Z"}, "INVALID_RANGE", "from", "'to'"),
        (
            "incidents",
            {"filter": '{"range":{"start":"2026-03-03T00:00:00Z","end":"2026-03-01T00:00:00Z"}}'},
            "INVALID_RANGE",
            "filter.range.start",
            "after",
        ),
        ("incidents", {"from": "2026-03-01", "from_time": "2026-03-01"}, "INVALID_PARAMETER", "from_time", "both"),
        (
            "incidents",
            {"to": "2026-03-02", "filter": '{"range":{"end":"2026-03-02"}}'},
            "INVALID_PARAMETER",
            "filter.range.end",
            "both",
        ),
        ("incidents", {"from": "03/01/2026"}, "INVALID_PARAMETER", "from", "ISO 8601"),
        ("incidents", {"to_time": "2026-03-02T25:00:00Z"}, "INVALID_PARAMETER", "to_time", "ISO 8601"),
        ("incidents", {"format": "xml"}, "INVALID_PARAMETER", "format", "format"),
        ("incidents", {"bom": "maybe"}, "INVALID_PARAMETER", "bom", "bom"),
        ("incidents", {"namespace": "production"}, "UNKNOWN_PARAMETER", "namespace", "'namespace'"),
        ("incident-events", {"incidentId": "inc-acme-001"}, "UNKNOWN_PARAMETER", "incidentId", "incident_id"),
        ("incidents", {"from": ["2026-03-01", "2026-03-02"]}, "INVALID_PARAMETER", "from", "2 times"),
        ("incidents", {"incident_id": ["inc-acme-001", "x"]}, "INVALID_PARAMETER", "incident_id", "2 times"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_bad_input_is_a_4xx_json_error_naming_the_parameter(data, dataset, params, code, parameter, says):
    body = _error(_get(dataset, params), 400, code, parameter)
    assert says in body["message"], body["message"]


# BUG (see tests/unit/test_dataset_filter_json.py and test_dataset_filters.py): these come back as 500 INTERNAL_ERROR.
@pytest.mark.parametrize(
    ("params", "parameters"),
    [
        ({"filter": "[" * 1000}, {"filter"}),
        ({"sort": '{"field":' * 1000}, {"sort"}),
        ({"filter": '{"project_ids":[' + "1" * 5000 + "]}"}, {"filter", "project_ids"}),
        ({"sort": "9" * 5000}, {"sort"}),
        ({"project_ids": "24,--1"}, {"project_ids"}),
        ({"project_ids": "²"}, {"project_ids"}),
    ],
    ids=["deep-filter", "deep-sort", "huge-number-in-filter", "huge-number-sort", "double-minus", "superscript"],
)
def test_unreadable_input_is_a_400_not_a_500(data, params, parameters):
    response = _get("incidents", params)
    body = _error(response, 400, "INVALID_PARAMETER")
    assert body["parameter"] in parameters


def test_key_without_incidents_read_is_403(data):
    response = _get("incidents", permissions="AUDIT_READ,EXPORTS_READ")
    assert _error(response, 403, "FORBIDDEN") == {
        "status": 403,
        "error": "FORBIDDEN",
        "message": "this API key lacks the INCIDENTS_READ permission",
    }
    # checked before the dataset or the filter is even looked at
    _error(_get("nope", {"filter": "{"}, permissions="AUDIT_READ"), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "context",
    [None, {}, {"principalId": "ak_acme_incidents", "integrationLatency": 0}, {"tenantId": "acme"}],
    ids=["no-authorizer", "empty", "no-tenant", "no-key"],
)
def test_without_authorizer_context_is_401(data, context):
    response = _get("incidents", context=context)
    assert _error(response, 401, "UNAUTHORIZED") == {
        "status": 401,
        "error": "UNAUTHORIZED",
        "message": "request was not authorised",
    }
