"""GET /v1/audit/export through the real handler: every error is a JSON body naming what to fix, never a 5xx."""

from __future__ import annotations

import json

import pytest

from tests.helpers import authorizer_context, json_body, load_event, response_header, with_authorizer, with_query
from tests.integration.support import export

pytestmark = pytest.mark.integration

DAY = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def _request(params: dict, context: dict | None = None, *, keep_authorizer: bool = True) -> dict:
    event = with_query(load_event("audit_export_get"), params)
    if not keep_authorizer or context is not None:
        event = with_authorizer(event, context)
    return export(event)


def _error(response: dict, status: int, code: str, parameter: str | None = None) -> dict:
    assert response["statusCode"] == status, response["body"]
    assert response_header(response, "Content-Type") == "application/json"
    body = json_body(response)
    assert (body["status"], body["error"]) == (status, code)
    assert isinstance(body["message"], str)
    assert body["message"]
    if parameter is not None:
        assert body["parameter"] == parameter
        assert f"'{parameter}'" in body["message"]
    return body


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "2026-03-32T00:00:00Z"}, "from"),
        ({"from": "yesterday"}, "from"),
        ({"from": ""}, "from"),
        ({"to": "2026-03-02T25:00:00Z"}, "to"),
        ({"to": "03/02/2026"}, "to"),
        ({"range_start": "2026-03-01T00:00:00 UTC"}, "range_start"),
        ({"range_end": "1772323200"}, "range_end"),
    ],
)
def test_malformed_iso_8601_is_a_400_naming_the_parameter(stack, params, parameter):
    body = _error(_request(params), 400, "INVALID_PARAMETER", parameter)
    assert "ISO 8601" in body["message"]


def test_from_after_to_is_an_invalid_range(stack):
    body = _error(_request({"from": DAY["to"], "to": DAY["from"]}), 400, "INVALID_RANGE", "from")
    assert body == {
        "status": 400,
        "error": "INVALID_RANGE",
        "message": "'from' (2026-03-03T00:00:00.000Z) is after 'to' (2026-03-02T00:00:00.000Z)",
        "parameter": "from",
    }


def test_range_start_after_range_end_is_an_invalid_range(stack):
    response = _request({"range_start": "2026-03-03", "range_end": "2026-03-02"})
    _error(response, 400, "INVALID_RANGE", "range_start")


def test_from_and_range_start_together_are_ambiguous(stack):
    _error(_request({**DAY, "range_start": DAY["from"]}), 400, "INVALID_PARAMETER", "range_start")


@pytest.mark.parametrize("fmt", ["xml", "xlsx", "CSV ", ""])
def test_unknown_format_is_a_400_naming_format(stack, fmt):
    _error(_request({**DAY, "format": fmt}), 400, "INVALID_PARAMETER", "format")


@pytest.mark.parametrize("name", ["tenant", "tenantId", "limit", "filetype", "metadata", "event_types"])
def test_unknown_parameter_is_a_400_naming_it(stack, name):
    _error(_request({**DAY, name: "globex"}), 400, "UNKNOWN_PARAMETER", name)


@pytest.mark.parametrize(
    "params",
    [
        {"from": ["2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"], "to": DAY["to"]},
        {**DAY, "user": ["ana.silva@acme.example.com", "ivan.kim@acme.example.com"]},
        {**DAY, "format": ["csv", "json"]},
    ],
    ids=["from", "user", "format"],
)
def test_repeated_parameter_is_a_400_naming_it(stack, params):
    name = next(key for key, value in params.items() if isinstance(value, list))
    _error(_request(params), 400, "INVALID_PARAMETER", name)


def test_over_the_sync_limit_becomes_a_job_with_the_true_count(stack, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "50")
    body = _accepted(_request(DAY))
    assert body["status"]["estimatedRecords"] == 80
    assert body["metadata"]["dataset"] == "audit"


def test_over_the_sync_limit_counts_with_the_filters(stack, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "10")
    body = _accepted(_request({"from": "2026-03-01", "to": "2026-03-04", "action": "user.login"}))
    assert body["status"]["estimatedRecords"] == 53


def test_over_the_response_size_becomes_a_job_with_the_true_count(stack, monkeypatch):
    monkeypatch.setenv("MAX_RESPONSE_BYTES", "1000")
    body = _accepted(_request({**DAY, "format": "json"}))
    assert body["status"]["estimatedRecords"] == 80
    assert body["metadata"]["format"] == "json"


def test_without_a_state_machine_over_the_limit_is_refused_with_the_true_count(stack, monkeypatch):
    monkeypatch.setenv("STATE_MACHINE_ARN", "")
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "50")
    body = _error(_request(DAY), 400, "EXPORT_TOO_LARGE")
    assert body["matchedRecords"] == 80
    assert body["limit"] == 50
    assert body["message"].startswith("80 records match, more than the synchronous limit of 50.")


def test_missing_authorizer_context_is_401(stack):
    response = _request(DAY, None, keep_authorizer=False)
    assert _error(response, 401, "UNAUTHORIZED") == {
        "status": 401,
        "error": "UNAUTHORIZED",
        "message": "request was not authorised",
    }


def test_context_without_tenant_is_401(stack):
    response = _request(DAY, {"principalId": "ak_acme_audit_reader", "integrationLatency": 0})
    _error(response, 401, "UNAUTHORIZED")


def test_key_without_audit_read_is_403(stack):
    response = _request(DAY, authorizer_context("acme", "ak_acme_incidents_only", "INCIDENTS_READ,EXPORTS_READ"))
    assert _error(response, 403, "FORBIDDEN") == {
        "status": 403,
        "error": "FORBIDDEN",
        "message": "this API key lacks the AUDIT_READ permission",
    }


@pytest.mark.parametrize(
    ("params", "allowed"),
    [
        # valid ISO 8601 whose UTC value is outside the representable range: the caller's error, not ours
        ({"to": "9999-12-31T23:00:00-05:00"}, {400}),
        ({"from": "0001-01-01T00:00:00+01:00", "to": "2026-03-02T00:00:00Z"}, {400}),
        # the last representable day, a common way to write "no end"
        ({"from": "9999-12-31T00:00:00Z", "to": "9999-12-31T23:59:59Z"}, {200}),
        # a lower bound that rounds up past the last representable instant: empty, or a range error
        ({"from": "9999-12-31T23:59:59.9999995Z", "to": "9999-12-31T23:59:59.9999999Z"}, {200, 400}),
    ],
    ids=["to-overflows", "from-underflows", "last-day", "from-rounds-past-the-end"],
)
def test_extreme_but_valid_dates_are_never_a_5xx(stack, params, allowed):
    response = _request(params)
    assert response["statusCode"] in allowed, response["body"]
    if response["statusCode"] == 400:
        assert json_body(response)["parameter"] in params


response_stage_prefix = "/prod"


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


@pytest.mark.parametrize("params", [{"format": "xml"}, {"bom": "maybe"}, {"from": ["a", "b"]}, {"nope": "1"}])
def test_a_key_without_audit_read_is_403_even_with_bad_input(stack, params):
    context = {"tenantId": "acme", "keyId": "ak_acme_incidents", "permissions": "INCIDENTS_READ", "principalId": "x"}
    _error(_request(params, context), 403, "FORBIDDEN")


def test_no_authorizer_context_is_401_even_with_bad_input(stack):
    _error(_request({"format": "xml"}, None, keep_authorizer=False), 401, "UNAUTHORIZED")
