"""The incident API over HTTP against the local stack: what it refuses (bad filters, limits, zones, cursors,
alert bodies) and a call without a key."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ACME, GLOBEX
from tests.e2e.incident_api_support import _get

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("path", ["/v1/incidents", "/v1/incidents/distribution", "/v1/incidents/summary"])
@pytest.mark.parametrize(
    ("params", "parameter", "code"),
    [
        ({"severities": "HIGH,CRITICAL"}, "severities", "INVALID_PARAMETER"),
        ({"impacts": "low"}, "impacts", "INVALID_PARAMETER"),
        ({"statuses": "RESOLVED"}, "statuses", "INVALID_PARAMETER"),
        ({"project_ids": "0,24x"}, "project_ids", "INVALID_PARAMETER"),
        ({"project_ids": "1.5"}, "project_ids", "INVALID_PARAMETER"),
        ({"from_time": "yesterday"}, "from_time", "INVALID_PARAMETER"),
        ({"to_time": "2026-13-01T00:00:00Z"}, "to_time", "INVALID_PARAMETER"),
        ({"from_time": "2026-05-01T00:00:00Z", "to_time": "2026-04-01T00:00:00Z"}, "from_time", "INVALID_RANGE"),
        ({"text_to_search": "a\nb"}, "text_to_search", "INVALID_PARAMETER"),
        ({"severity": "HIGH"}, "severity", "UNKNOWN_PARAMETER"),
    ],
)
def test_bad_filters_are_400_naming_the_parameter(stack, http, path, params, parameter, code):
    response = _get(http, stack, path, **params)
    assert response.status_code == 400, response.text
    body = response.json()
    assert (body["error"], body["parameter"]) == (code, parameter)
    assert parameter in body["message"]


@pytest.mark.parametrize("limit", ["0", "1001", "-3", "ten"])
def test_limit_out_of_range_is_400(stack, http, limit):
    response = _get(http, stack, "/v1/incidents", limit=limit)
    assert response.status_code == 400
    assert response.json()["parameter"] == "limit"


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "../../etc/passwd", "", "UTC+2"])
def test_unknown_timezone_is_400(stack, http, zone):
    response = _get(http, stack, "/v1/incidents/distribution", timezone=zone)
    assert response.status_code == 400
    assert response.json()["parameter"] == "timezone"


def test_tampered_and_foreign_cursors_are_400(stack, http):
    cursor = _get(http, stack, "/v1/incidents", limit="3", severities="HIGH").headers["X-Next-Cursor"]
    body, signature = cursor.split(".")
    tampered = [
        body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + signature,  # the position changed
        body + "." + signature[:-1] + ("x" if signature[-1] != "x" else "y"),  # the signature changed
        body,  # no signature
        "not-a-cursor",
    ]
    for value in tampered:
        response = _get(http, stack, "/v1/incidents", limit="3", severities="HIGH", cursor=value)
        assert response.status_code == 400, value
        assert response.json()["parameter"] == "cursor"
    # a genuine cursor, used by another tenant or with other filters
    foreign = [
        (GLOBEX, {"severities": "HIGH"}),
        (ACME, {"severities": "HIGH,LOW"}),
        (ACME, {"severities": "HIGH", "to_time": "2026-05-01T00:00:00Z"}),
    ]
    for token, params in foreign:
        response = _get(http, stack, "/v1/incidents", token, limit="3", cursor=cursor, **params)
        assert response.status_code == 400, params
        assert "another query" in response.json()["message"]
    # and csv pages nothing
    response = _get(http, stack, "/v1/incidents", format="csv", cursor=cursor, severities="HIGH")
    assert response.status_code == 400 and response.json()["parameter"] == "cursor"


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"upload_dates": ["2026-05-01T00:00:00Z"], "violation_names": ["x"]}, "sources"),
        ({"sources": "abc", "upload_dates": ["2026-05-01T00:00:00Z"], "violation_names": ["x"]}, "sources"),
        ({"sources": ["a"], "upload_dates": [17], "violation_names": ["x"]}, "upload_dates[0]"),
        ({"sources": ["a"], "upload_dates": ["2026-05-01", "last week"], "violation_names": ["x"]}, "upload_dates[1]"),
        ({"sources": ["a"], "upload_dates": ["2026-05-01"], "violation_names": []}, "violation_names"),
        ({"sources": ["a"], "upload_dates": ["2026-05-01"], "violation_names": ["x"], "asset": "y"}, "asset"),
        ({"sources": [""], "upload_dates": ["2026-05-01"], "violation_names": ["x"]}, "sources[0]"),
        ([1, 2], "body"),
    ],
)
def test_alert_bodies_not_of_the_documented_shape_are_400_naming_the_field(stack, http, body, parameter):
    response = http.post(f"{stack.url}/v1/alerts/by-filters", json=body, headers={"apikey": ACME}, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == parameter


def test_alert_body_that_is_not_json_is_400(stack, http):
    response = http.post(
        f"{stack.url}/v1/alerts/by-filters",
        data=b"{sources: [",
        headers={"apikey": ACME, "Content-Type": "application/json"},
        timeout=60,
    )
    assert response.status_code == 400
    assert response.json()["parameter"] == "body"


@pytest.mark.parametrize(
    ("content_type", "data", "status", "error"),
    [
        ("application/json", b"\xff\xfe{}", 400, "INVALID_PARAMETER"),  # not UTF-8
        ("text/plain", b'{"sources": ["a"]}', 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
def test_a_body_the_api_cannot_read_is_a_4xx_naming_the_body_over_http(stack, http, content_type, data, status, error):
    response = http.post(
        f"{stack.url}/v1/alerts/by-filters",
        data=data,
        headers={"apikey": ACME, "Content-Type": content_type},
        timeout=60,
    )
    assert response.status_code == status, response.text
    assert response.json()["error"] == error and response.json()["parameter"] == "body"
    # the gateway and the function are still serving
    follow = http.post(f"{stack.url}/v1/alerts/by-filters", json=[1], headers={"apikey": ACME}, timeout=60)
    assert follow.status_code == 400


def test_the_incident_api_needs_a_key(stack, http):
    for path in ("/v1/incidents", "/v1/incidents/summary", "/v1/incidents/distribution", "/v1/incidents/x"):
        assert http.get(f"{stack.url}{path}", timeout=60).status_code == 401
    assert http.post(f"{stack.url}/v1/alerts/by-filters", json={}, timeout=60).status_code == 401
