"""With the database unreachable, every route answers 503 with Retry-After in the error model within seconds (not a
500 after botocore's 60 s timeouts and DynamoDB's legacy 10 retries), and the authorizer fails just as fast, which
API Gateway answers with its AUTHORIZER_FAILURE gateway response (a 503 too: template.yaml)."""

from __future__ import annotations

import json
import socket
import time

import pytest

from devtools.lambda_runtime import rest_proxy_event
from tests.helpers import authorizer_context, load_event, response_header
from tests.integration.support import authorize, call

pytestmark = pytest.mark.integration

PERMISSIONS = "AUDIT_READ,INCIDENTS_READ,EXPORTS_READ,EXPORTS_WRITE"
JOB = "exp-20260301T000000-0123456789ab"

# (function, method, resource, path parameters, query, body): one request per kind of route
ROUTES = [
    ("AuditExportFunction", "GET", "/v1/audit/export", None, {"to": ["2026-03-02"]}, None),
    ("DatasetExportFunction", "GET", "/v1/export/{dataset}", {"dataset": "incidents"}, None, None),
    ("ListIncidentsFunction", "GET", "/v1/incidents", None, None, None),
    ("IncidentSummaryFunction", "GET", "/v1/incidents/summary", None, None, None),
    ("StartExportFunction", "POST", "/v1/exports", None, None, {"dataset": "audit", "format": "csv"}),
    ("GetExportFunction", "GET", "/v1/exports/{jobId}", {"jobId": JOB}, None, None),
    ("ListExportsFunction", "GET", "/v1/exports", None, None, None),
    ("ListExportRequestsFunction", "GET", "/v1/export-requests", None, None, None),
    (
        "AlertsByFiltersFunction",
        "POST",
        "/v1/alerts/by-filters",
        None,
        None,
        {"sources": ["asset-1"], "upload_dates": ["2026-03-01T00:00:00Z"], "violation_names": ["freshness"]},
    ),
]


@pytest.fixture
def database_down(stack, monkeypatch):
    """DynamoDB at a loopback port nothing listens on (connections are refused at once)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", f"http://127.0.0.1:{port}")
    # the cursor key is read from the environment, not Secrets Manager: the outage under test is the database's
    monkeypatch.setenv("CURSOR_SIGNING_KEY", "integration-outage-cursor-key-0123456789abcdef")


@pytest.mark.parametrize(
    ("function", "method", "resource", "path_parameters", "query", "body"), ROUTES, ids=[r[0] for r in ROUTES]
)
def test_every_route_answers_503_with_retry_after_within_seconds(
    database_down, function, method, resource, path_parameters, query, body
):
    path = resource
    for name, value in (path_parameters or {}).items():
        path = path.replace("{" + name + "}", value)
    event = rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        path_parameters=path_parameters,
        query=query,
        headers={"Content-Type": ["application/json"]} if body is not None else None,
        body=json.dumps(body) if body is not None else None,
        authorizer=authorizer_context("acme", "ak_acme_outage", PERMISSIONS),
    )
    began = time.monotonic()
    response = call(function, event)
    elapsed = time.monotonic() - began
    assert response["statusCode"] == 503, response["body"]
    assert elapsed < 5, f"{function} took {elapsed:.1f}s to give up"
    assert int(response_header(response, "Retry-After") or 0) >= 1
    error = json.loads(response["body"])
    assert error["status"] == 503 and error["error"] == "SERVICE_UNAVAILABLE"
    assert "retry after" in error["message"]


def test_the_authorizer_gives_up_within_seconds_with_an_error_that_is_not_a_401(database_down):
    began = time.monotonic()
    with pytest.raises(RuntimeError, match="key store is unavailable"):
        authorize(load_event("authorizer_request"))
    assert time.monotonic() - began < 5
