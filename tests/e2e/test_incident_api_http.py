"""The incident API (seed 002) over HTTP against the local stack: every answer compared with an independent
computation over what the generator wrote (filters, pages, time zones with DST changes, summaries, alerts)."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from tests.e2e.conftest import ACME, ANCHOR, DAYS, GLOBEX, Stack

pytestmark = pytest.mark.e2e

SEED_FIELDS = [
    "id",
    "project_id",
    "asset_id",
    "last_upload_timestamp",
    "created_time",
    "severity",
    "impact",
    "status",
    "ticket_id",
    "alert_policy_id",
    "alert_policy_name",
    "description",
    "tags",
]
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _stamp(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds, written here independently of the product's formatter."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, Any]]:
    """tenant -> {"incidents": [Incident, ...], "alerts": [alert dict, ...]} as the stack's generator wrote them."""
    from devtools.generate import DEFAULT_SEED, demo_window  # noqa: PLC0415
    from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles  # noqa: PLC0415

    start, end = demo_window(ANCHOR, DAYS)
    result = {}
    for tenant, count in DEMO_INCIDENTS.items():
        bundles = list(incident_bundles(tenant, count, start, end, DEFAULT_SEED))
        alerts = {}
        for bundle in bundles:
            for alert in bundle.alerts:
                alerts[(alert.asset_id, alert.metric_time, alert.violation_name)] = alert.model_dump()
        result[tenant] = {"incidents": [b.incident for b in bundles], "alerts": list(alerts.values())}
    return result


def _item(incident: Any) -> dict[str, Any]:
    return {
        "id": incident.id,
        "project_id": incident.project_id,
        "asset_id": incident.asset_id,
        "last_upload_timestamp": _stamp(incident.last_upload_timestamp),
        "created_time": _stamp(incident.created_at),
        "severity": incident.severity,
        "impact": incident.impact,
        "status": incident.status,
        "ticket_id": incident.ticket_id,
        "alert_policy_id": incident.alert_policy_id,
        "alert_policy_name": incident.alert_policy_name,
        "description": incident.description,
        "tags": list(incident.tags),
        "number": incident.number,
        "name": incident.name,
        "connection_type": incident.connection_type,
        "connection_id": incident.connection_id,
        "source_name": incident.source_name,
    }


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _matches(incident: Any, params: dict[str, str]) -> bool:
    def listed(name: str) -> list[str] | None:
        return params[name].split(",") if name in params else None

    checks = [
        ("severities", incident.severity),
        ("impacts", incident.impact),
        ("connection_types", incident.connection_type),
        ("alert_policy_ids", incident.alert_policy_id),
        ("connection_ids", incident.connection_id),
        ("statuses", incident.status),
    ]
    for name, value in checks:
        wanted = listed(name)
        if wanted is not None and value not in wanted:
            return False
    projects = listed("project_ids")
    if projects is not None and incident.project_id not in {int(p) for p in projects}:
        return False
    tags = listed("tags")
    if tags is not None and not set(tags) & set(incident.tags):
        return False
    text = params.get("text_to_search", "").strip().lower()
    if text and text not in incident.alert_policy_name.lower() and text not in incident.source_name.lower():
        return False
    if "from_time" in params and incident.created_at < _when(params["from_time"]):
        return False
    return not ("to_time" in params and incident.created_at > _when(params["to_time"]))


def _expected(truth: dict[str, Any], tenant: str, params: dict[str, str]) -> list[Any]:
    """Matching incidents, newest first (created_at, then id, descending)."""
    chosen = [i for i in truth[tenant]["incidents"] if _matches(i, params)]
    return sorted(chosen, key=lambda i: (_stamp(i.created_at), i.id), reverse=True)


def _get(http: requests.Session, stack: Stack, path: str, token: str = ACME, **params: Any) -> requests.Response:
    return http.get(f"{stack.url}{path}", params=params, headers={"apikey": token}, timeout=60)


def _walk(http: requests.Session, stack: Stack, token: str, limit: int, **params: Any) -> list[list[dict[str, Any]]]:
    pages = []
    cursor = None
    while True:
        query = {**params, "limit": str(limit), **({"cursor": cursor} if cursor else {})}
        response = _get(http, stack, "/v1/incidents", token, **query)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = response.headers.get("X-Next-Cursor")
        if cursor is None:
            return pages
        assert len(pages) < 1000, "the walk does not end"


# ---- list -------------------------------------------------------------------------------------------------------


def test_walking_every_page_yields_each_incident_once_in_order(stack, http, truth):
    # Given acme's 400 incidents, when walked 37 at a time with no filter
    pages = _walk(http, stack, ACME, 37)
    # Then every page but the last is full, the last has no cursor, and together they are every incident once,
    # newest first, each equal to the generated incident
    want = [_item(i) for i in _expected(truth, "acme", {})]
    assert len(want) == 400
    assert [len(page) for page in pages] == [37] * 10 + [30]
    walked = [item for page in pages for item in page]
    assert len({item["id"] for item in walked}) == len(walked) == 400
    assert walked == want
    assert list(walked[0])[: len(SEED_FIELDS)] == SEED_FIELDS


def test_a_page_exactly_at_the_end_has_no_next_cursor(stack, http, truth):
    want = _expected(truth, "globex", {"severities": "HIGH"})
    pages = _walk(http, stack, GLOBEX, len(want), severities="HIGH")
    assert len(pages) == 1 and [i["id"] for i in pages[0]] == [i.id for i in want]


@pytest.mark.parametrize(
    "params",
    [
        {"severities": "HIGH,MEDIUM"},
        {"impacts": "LOW"},
        {"project_ids": "0,24"},
        {"connection_types": "SNOWFLAKE,GCS"},
        {"alert_policy_ids": "4,prebuilt_volume,12"},
        {"statuses": "OPEN"},
        {"tags": "PROD,pii"},
        {"text_to_search": "FRESHness"},  # policy names, case-insensitive
        {"text_to_search": "snowflake.sales_db"},  # source names
        {"from_time": "2026-04-01T00:00:00Z", "to_time": "2026-04-20T12:30:00.500Z"},
        {"severities": "HIGH", "statuses": "CLOSED", "project_ids": "0,7", "from_time": "2026-03-15"},
        {"impacts": "MEDIUM,HIGH", "tags": "T1", "text_to_search": "policy", "connection_types": "S3,BIGQUERY,GCS"},
    ],
)
def test_every_filter_matches_an_independent_computation(stack, http, truth, params):
    want = [_item(i) for i in _expected(truth, "acme", params)]
    assert want, "each case should select something"
    pages = _walk(http, stack, ACME, 50, **params)
    assert [item for page in pages for item in page] == want


def test_connection_ids_filter(stack, http, truth):
    ids = sorted({i.connection_id for i in truth["acme"]["incidents"]})[:2]
    params = {"connection_ids": ",".join(ids)}
    want = [_item(i) for i in _expected(truth, "acme", params)]
    assert 0 < len(want) < 400
    assert [item for page in _walk(http, stack, ACME, 1000, **params) for item in page] == want


def test_limit_may_change_between_pages(stack, http, truth):
    want = [i.id for i in _expected(truth, "acme", {"statuses": "CLOSED"})]
    first = _get(http, stack, "/v1/incidents", statuses="CLOSED", limit="5")
    second = _get(http, stack, "/v1/incidents", statuses="CLOSED", limit="20", cursor=first.headers["X-Next-Cursor"])
    assert [i["id"] for i in first.json() + second.json()] == want[:25]


def test_csv_list_has_every_match_with_cells_neutralised(stack, http, truth):
    params = {"severities": "HIGH", "from_time": "2026-03-10T00:00:00Z", "to_time": "2026-05-10T00:00:00Z"}
    response = _get(http, stack, "/v1/incidents", format="csv", **params)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == 'attachment; filename="incidents-2026-03-10_2026-05-10.csv"'
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8"), newline="")))
    header, body = rows[0], rows[1:]
    assert header[: len(SEED_FIELDS)] == SEED_FIELDS
    want = []
    for incident in _expected(truth, "acme", params):
        item = _item(incident)
        cells = []
        for name in header:
            value = item[name]
            text = (
                json.dumps(value, separators=(",", ":"), ensure_ascii=False)
                if isinstance(value, list)
                else ("" if value is None else str(value))
            )
            cells.append("'" + text if text[:1] in _TRIGGERS else text)
        want.append(cells)
    assert body == want


# ---- details and alerts -----------------------------------------------------------------------------------------


def test_details_carry_metrics_and_history(stack, http, truth):
    incidents = truth["acme"]["incidents"]
    reopened = next(i for i in incidents if any(h["state"] == "REOPENED" for h in i.history))
    for incident in (incidents[0], incidents[57], reopened):
        response = _get(http, stack, f"/v1/incidents/{incident.id}")
        assert response.status_code == 200, response.text
        assert response.json() == {**_item(incident), "metrics": incident.metrics, "history": incident.history}
    states = {entry["state"] for i in incidents for entry in i.history}
    assert states == {"NEW", "ONGOING", "RESOLVED", "REOPENED"}


def test_another_tenants_incident_is_not_found(stack, http, truth):
    globex_incident = truth["globex"]["incidents"][3]
    for path in (f"/v1/incidents/{globex_incident.id}", f"/v1/incidents/{globex_incident.id}/alerts"):
        response = _get(http, stack, path, ACME)
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "NOT_FOUND"
        assert _get(http, stack, path, GLOBEX).status_code == 200
    assert _get(http, stack, "/v1/incidents/no-such-incident").status_code == 404


def _alerts_for(truth: dict[str, Any], tenant: str, body: dict[str, list[str]]) -> list[dict[str, Any]]:
    dates = {_stamp(_when(d)) for d in body["upload_dates"]}
    found = [
        alert
        for alert in truth[tenant]["alerts"]
        if alert["asset_id"] in body["sources"]
        and alert["metric_time"] in dates
        and alert["violation_name"] in body["violation_names"]
    ]
    order = {source: n for n, source in enumerate(body["sources"])}
    return sorted(found, key=lambda a: (order[a["asset_id"]], a["metric_time"], a["violation_name"]))


def _seed_body(incident: Any) -> dict[str, list[str]]:
    refs = [ref for entry in incident.history for ref in entry["alert_refs"]]
    return {
        "sources": [incident.asset_id],
        "upload_dates": [ref["metric_time"] for ref in refs],
        "violation_names": [ref["violation_name"] for ref in refs],
    }


def test_alerts_by_filters_and_per_incident_match_the_generated_alerts(stack, http, truth):
    for incident in truth["acme"]["incidents"][100:106]:
        body = _seed_body(incident)
        want = _alerts_for(truth, "acme", body)
        refs = {(r["metric_time"], r["violation_name"]) for e in incident.history for r in e["alert_refs"]}
        assert refs <= {(a["metric_time"], a["violation_name"]) for a in want}  # every ref has its alert
        posted = http.post(f"{stack.url}/v1/alerts/by-filters", json=body, headers={"apikey": ACME}, timeout=60)
        assert posted.status_code == 200, posted.text
        assert posted.json() == want
        per_incident = _get(http, stack, f"/v1/incidents/{incident.id}/alerts")
        assert per_incident.status_code == 200 and per_incident.json() == want
        assert set(want[0]) >= {"type", "source", "job_id", "create_time", "save_time", "violation_data", "priority"}


def test_alerts_by_filters_across_sources_with_offsets_in_dates(stack, http, truth):
    a, b = truth["acme"]["incidents"][10], truth["acme"]["incidents"][300]
    body = {key: _seed_body(b)[key] + _seed_body(a)[key] for key in ("sources", "upload_dates", "violation_names")}
    # the same instant written with an offset finds the same upload
    first = _when(body["upload_dates"][0]).astimezone(ZoneInfo("Asia/Kolkata"))
    body["upload_dates"][0] = first.isoformat(timespec="milliseconds")
    response = http.post(f"{stack.url}/v1/alerts/by-filters", json=body, headers={"apikey": ACME}, timeout=60)
    assert response.status_code == 200, response.text
    assert response.json() == _alerts_for(truth, "acme", body)
    assert {alert["asset_id"] for alert in response.json()} == {a.asset_id, b.asset_id}
    # another tenant sees none of them
    other = http.post(f"{stack.url}/v1/alerts/by-filters", json=body, headers={"apikey": GLOBEX}, timeout=60)
    assert other.status_code == 200 and other.json() == []


# ---- distribution -------------------------------------------------------------------------------------------------


def _distribution(truth: dict[str, Any], params: dict[str, str], zone: str) -> list[dict[str, Any]]:
    days: dict[str, tuple[Counter[str], Counter[str]]] = {}
    for incident in _expected(truth, "acme", params):
        day = incident.created_at.astimezone(ZoneInfo(zone)).date().isoformat()
        severity, impact = days.setdefault(day, (Counter(), Counter()))
        severity[incident.severity] += 1
        impact[incident.impact] += 1
    keys = ("LOW", "MEDIUM", "HIGH", "")
    return [
        {
            "date": day,
            "counts": {k: days[day][0][k] for k in keys},
            "counts_by_impact": {k: days[day][1][k] for k in keys},
        }
        for day in sorted(days)
    ]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/Berlin", "Asia/Kolkata", "Pacific/Auckland"])
@pytest.mark.parametrize(
    "params",
    [
        # US clocks go forward on 2026-03-08, European ones on 2026-03-29, New Zealand's back on 2026-04-05
        {"from_time": "2026-03-05T00:00:00Z", "to_time": "2026-04-10T00:00:00Z"},
        {"from_time": "2026-03-20T00:00:00Z", "to_time": "2026-04-02T00:00:00Z", "severities": "HIGH,LOW"},
        {"statuses": "OPEN", "impacts": "HIGH,MEDIUM"},
    ],
)
def test_distribution_counts_local_days_across_dst_changes(stack, http, truth, zone, params):
    response = _get(http, stack, "/v1/incidents/distribution", timezone=zone, **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["timezone"] == zone
    want = _distribution(truth, params, zone)
    assert body["incidents"] == want
    assert sum(sum(day["counts"].values()) for day in want) == len(_expected(truth, "acme", params))


def test_the_same_incidents_fall_on_other_days_in_other_zones(stack, http):
    params = {"from_time": "2026-03-07T00:00:00Z", "to_time": "2026-03-10T00:00:00Z"}
    utc = _get(http, stack, "/v1/incidents/distribution", **params).json()["incidents"]
    tokyo = _get(http, stack, "/v1/incidents/distribution", timezone="Asia/Tokyo", **params).json()["incidents"]
    assert utc != tokyo
    assert sum(sum(d["counts"].values()) for d in utc) == sum(sum(d["counts"].values()) for d in tokyo)


# ---- summary ------------------------------------------------------------------------------------------------------


def _mean_hours(incidents: list[Any]) -> int | None:
    closed = [i for i in incidents if i.status == "CLOSED" and i.resolved_at is not None]
    if not closed:
        return None
    mean = sum((Fraction((i.resolved_at - i.created_at) / timedelta(milliseconds=1)) for i in closed), Fraction(0))
    hours = mean / len(closed) / 3_600_000
    return int(hours + Fraction(1, 2))  # halves up


def _summary(truth: dict[str, Any], params: dict[str, str], previous: tuple[str, str]) -> dict[str, Any]:
    now = _expected(truth, "acme", params)
    before = _expected(truth, "acme", {**params, "from_time": previous[0], "to_time": previous[1]})
    tags = {status: Counter(t for i in now if i.status == status for t in i.tags) for status in ("OPEN", "CLOSED")}
    return {
        "total": len(now),
        "open": sum(i.status == "OPEN" for i in now),
        "closed": sum(i.status == "CLOSED" for i in now),
        "mean_time_to_resolve": _mean_hours(now),
        "previous_mean_time_to_resolve": _mean_hours(before),
        "open_by_tag": dict(tags["OPEN"]),
        "closed_by_tag": dict(tags["CLOSED"]),
    }


@pytest.mark.parametrize(
    ("params", "previous"),
    [
        (
            {"from_time": "2026-04-01T00:00:00Z", "to_time": "2026-05-01T00:00:00Z"},
            ("2026-03-01T23:59:59.999Z", "2026-03-31T23:59:59.999Z"),
        ),
        (
            {"from_time": "2026-05-10T00:00:00Z", "to_time": "2026-05-31T23:59:59.999Z", "tags": "PROD,pii"},
            ("2026-04-18T00:00:00.000Z", "2026-05-09T23:59:59.999Z"),
        ),
        (
            {"from_time": "2026-04-15T06:00:00Z", "to_time": "2026-05-20T18:00:00Z", "severities": "HIGH"},
            ("2026-03-10T17:59:59.999Z", "2026-04-15T05:59:59.999Z"),
        ),
    ],
)
def test_summary_matches_an_independent_computation(stack, http, truth, params, previous):
    response = _get(http, stack, "/v1/incidents/summary", **params)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body)[:7] == list(_summary(truth, params, previous))
    assert (body["previous_from_time"], body["previous_to_time"]) == previous
    want = _summary(truth, params, previous)
    assert {key: body[key] for key in want} == want
    assert want["closed"] > 0 and want["previous_mean_time_to_resolve"] is not None


def test_summary_defaults_to_the_30_days_before_now(stack, http):
    body = _get(http, stack, "/v1/incidents/summary").json()
    start, end = _when(body["from_time"]), _when(body["to_time"])
    assert end - start == timedelta(days=30) - timedelta(milliseconds=1)
    assert abs(datetime.now(UTC) - end) < timedelta(minutes=5)


# ---- bad input --------------------------------------------------------------------------------------------------


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
