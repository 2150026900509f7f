"""Fail fast and clearly: bodies and JSON parameters nested deeper than any parser should recurse are a 400 naming
them on every route that takes them, never a 500 RecursionError; an oversized body is a 413."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest

from devtools.lambda_runtime import rest_proxy_event
from export_service.json_bounds import MAX_BODY_BYTES
from tests.helpers import authorizer_context
from tests.integration.support import call

pytestmark = pytest.mark.integration

PERMISSIONS = "AUDIT_READ,INCIDENTS_READ,EXPORTS_READ,EXPORTS_WRITE"
NESTED = "[" * 2000 + "]" * 2000  # 4 KB, 2,000 levels deep
POST_ROUTES = [("StartExportFunction", "/v1/exports"), ("AlertsByFiltersFunction", "/v1/alerts/by-filters")]


def _post(function: str, resource: str, raw: bytes, *, encoded: bool = True) -> dict:
    event = rest_proxy_event(
        method="POST",
        path=resource,
        resource=resource,
        headers={"Content-Type": ["application/json"]},
        body=base64.b64encode(raw).decode() if encoded else raw.decode(),
        is_base64=encoded,
        authorizer=authorizer_context("acme", "ak_acme_hostile", PERMISSIONS),
    )
    return call(function, event)


@pytest.mark.parametrize(("function", "resource"), POST_ROUTES)
@pytest.mark.parametrize("encoded", [True, False], ids=["base64", "plain"])
@pytest.mark.parametrize(
    "body",
    [NESTED, '{"dataset": "audit", "filter": ' + NESTED + "}", '{"a":' * 2000 + "1" + "}" * 2000],
    ids=["arrays", "inside-a-field", "objects"],
)
def test_a_deeply_nested_body_is_a_400_naming_body(stack, function, resource, encoded, body):
    assert 4000 <= len(body) <= 12_100
    response = _post(function, resource, body.encode(), encoded=encoded)
    assert response["statusCode"] == 400, response["body"]
    error = json.loads(response["body"])
    assert (error["status"], error["error"], error["parameter"]) == (400, "INVALID_PARAMETER", "body")
    assert "levels deep" in error["message"]


@pytest.mark.parametrize(("function", "resource"), POST_ROUTES)
def test_a_body_over_the_size_limit_is_a_413_naming_body(stack, function, resource):
    body = json.dumps({"dataset": "audit", "padding": "x" * MAX_BODY_BYTES}).encode()
    response = _post(function, resource, body)
    assert response["statusCode"] == 413, response["body"]
    error = json.loads(response["body"])
    assert (error["status"], error["error"], error["parameter"]) == (413, "PAYLOAD_TOO_LARGE", "body")


@pytest.mark.parametrize("name", ["filter", "sort"])
def test_a_deeply_nested_json_parameter_is_a_400_naming_it(stack, name):
    event = rest_proxy_event(
        method="GET",
        path="/v1/export/incidents",
        resource="/v1/export/{dataset}",
        path_parameters={"dataset": "incidents"},
        query={name: [NESTED]},
        authorizer=authorizer_context("acme", "ak_acme_hostile", PERMISSIONS),
    )
    response = call("DatasetExportFunction", event)
    assert response["statusCode"] == 400, response["body"]
    error = json.loads(response["body"])
    assert (error["error"], error["parameter"]) == ("INVALID_PARAMETER", name)
    assert quote(NESTED[:3]) not in error["message"]  # the value is not echoed back
