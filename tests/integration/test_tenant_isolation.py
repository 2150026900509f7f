"""Tenant isolation: the tenant comes from the key (via the authorizer's context), never from the request."""

from __future__ import annotations

import json

import pytest

from tests.helpers import authorizer_context, load_event, with_authorizer, with_headers, with_query
from tests.integration.support import GLOBEX_READER, authorize, expected, export, sealed

pytestmark = pytest.mark.integration

WHOLE_WINDOW = {"from": "2026-03-01T00:00:00Z", "to": "2026-03-04T00:00:00Z", "format": "jsonl"}
GLOBEX_USER = "carlos.okafor@globex.example.com"


def _rows(response: dict) -> list[dict]:
    assert response["statusCode"] == 200, response["body"]
    return [json.loads(line) for line in response["body"].splitlines()]


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"user": GLOBEX_USER},
        {"action": "export.create"},
        {"namespace": "sandbox"},
        {"user": GLOBEX_USER, "namespace": "production"},
        {"action": "runbook.execute", "namespace": "staging"},
    ],
    ids=lambda filters: "+".join(filters) or "no-filter",
)
def test_acme_never_gets_globex_records_whatever_the_filters(stack, filters):
    rows = _rows(export(with_query(load_event("audit_export_get"), {**WHOLE_WINDOW, **filters})))
    assert rows == expected(sealed("acme"), **filters)
    globex = {row["checksum"] for row in sealed("globex")}
    assert not any(row["checksum"] in globex or row["user"].endswith("@globex.example.com") for row in rows)


def test_globex_context_gets_only_globex_records(stack):
    event = with_authorizer(
        with_query(load_event("audit_export_get"), WHOLE_WINDOW), authorizer_context("globex", GLOBEX_READER.key_id)
    )
    assert _rows(export(event)) == expected(sealed("globex"))


def test_the_request_cannot_name_a_tenant(stack):
    response = export(with_query(load_event("audit_export_get"), {**WHOLE_WINDOW, "tenantId": "globex"}))
    assert response["statusCode"] == 400
    assert json.loads(response["body"])["error"] == "UNKNOWN_PARAMETER"


def test_authorizer_then_handler_as_the_gateway_chains_them(stack):
    # Given globex's token in the request (the sample event carries acme's)
    request = with_headers(
        with_query(load_event("audit_export_get"), WHOLE_WINDOW), {"Authorization": f"Bearer {GLOBEX_READER.token}"}
    )
    auth_event = load_event("authorizer_request")
    auth_event["headers"] = request["headers"]
    auth_event["multiValueHeaders"] = request["multiValueHeaders"]
    # When the authorizer allows it and API Gateway passes its context (string values) plus principalId
    decision = authorize(auth_event)
    context = {key: str(value) for key, value in decision["context"].items()}
    request = with_authorizer(request, {**context, "principalId": decision["principalId"], "integrationLatency": 12})
    # Then the export holds exactly globex's records, whatever the stale acme context of the sample was
    assert _rows(export(request)) == expected(sealed("globex"))
