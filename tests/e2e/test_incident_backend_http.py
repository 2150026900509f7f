"""The incident API where incidents are addressed by number (/api/backend/{tenant}/...) over HTTP on the local stack.

Every example request of the documented API is replayed literally (host and key substituted, the tenant in the path
the key's own) in each accepted header form, and its answer checked for status, headers and the documented shape:
against a tenant holding exactly the documented example incident and alerts, and against the demo tenant acme, whose
answers are compared with an independent computation over what the generator wrote. Integer ids are walked from the
list to the details to the alerts by filters; another tenant's path segment or incident number is a 404 on every
path; a list larger than one answer is a 400, never cut.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from devtools.generate import DEFAULT_SEED, demo_window
from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles
from devtools.provision import local_refs
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.incident_store import IncidentStore, NumberTakenError
from export_service.logic.api_keys import mint_api_key
from export_service.logic.incident_records import IncidentBundle, export_row, incident_extras, write_incident_bundles
from export_service.models.api_keys import Permission
from export_service.models.incidents import Dataset
from tests.e2e.conftest import ACME, ANCHOR, DAYS, GLOBEX, SYNC_LIMIT, Stack
from tests.e2e.incident_backend_support import (
    ALERT_FIELDS,
    DETAIL_FIELDS,
    DOCUMENTED,
    DOCUMENTED_KEY,
    EXAMPLE,
    EXAMPLE_ALERTS,
    EXAMPLE_BODY,
    FILTER_EXAMPLES,
    LIST_FIELDS,
    METRIC_FIELDS,
    OTHERS,
    OVERFLOW,
    OVERFLOW_KEY,
    SUMMARY_FIELDS,
    at,
    distribution,
    documented_item,
    example_incident,
    header_forms,
    integer,
    matches,
    newest_first,
    stamp,
    summary,
)

pytestmark = pytest.mark.e2e

ACME_FORMS = header_forms(*ACME.split(".", 1))
GLOBEX_FORMS = header_forms(*GLOBEX.split(".", 1))
ROUTES = [
    ("GET", "incidents"),
    ("GET", "incidents/{incidentId}"),
    ("GET", "incidents/distribution"),
    ("GET", "incidents/summary"),
    ("POST", "configuration/alerts/by_filters"),
]


def _call(
    http: requests.Session, stack: Stack, method: str, path: str, headers: dict[str, str], body: Any = None
) -> requests.Response:
    """One request with the path (and its query string) exactly as written."""
    return http.request(method, f"{stack.url}{path}", headers=headers, json=body, timeout=60)


def _json(response: requests.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.url, response.status_code, response.text[:500])
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    return response.json()


def _replay(http: requests.Session, stack: Stack, forms: list[dict[str, str]], path: str, body: Any = None) -> Any:
    """The request in every header form: the same answer each time (returned)."""
    answers = [_json(_call(http, stack, "POST" if body else "GET", path, headers, body)) for headers in forms]
    assert all(answer == answers[0] for answer in answers), path
    return answers[0]


@pytest.fixture(scope="module")
def keys(stack: Stack) -> dict[str, list[dict[str, str]]]:
    """The documented example's tenant and a tenant with one incident more than an answer holds, with a key each."""
    dynamodb, refs = stack.dynamodb(), local_refs()
    incidents = IncidentStore(dynamodb, refs["IncidentsTable"])
    write_incident_bundles(incidents, DOCUMENTED, [IncidentBundle(EXAMPLE, alerts=EXAMPLE_ALERTS)])
    write_incident_bundles(incidents, DOCUMENTED, [IncidentBundle(incident) for incident in OTHERS])
    start = datetime(2026, 2, 1, tzinfo=UTC)
    many = [
        example_incident(f"INC-{n}", 0, stamp(start + timedelta(minutes=n)) or "", severity="LOW")
        for n in range(1, SYNC_LIMIT + 2)
    ]
    rows = [(export_row(Dataset.INCIDENTS, incident), incident_extras(incident)) for incident in many]
    incidents.put_rows(OVERFLOW, Dataset.INCIDENTS, rows)
    store = ApiKeyStore(dynamodb, refs["ApiKeysTable"])
    for tenant, (key_id, secret) in ((DOCUMENTED, DOCUMENTED_KEY), (OVERFLOW, OVERFLOW_KEY)):
        key, _ = mint_api_key(tenant, (Permission.INCIDENTS_READ,), datetime.now(UTC), key_id=key_id, secret=secret)
        store.put(key)
    return {DOCUMENTED: header_forms(*DOCUMENTED_KEY), OVERFLOW: header_forms(*OVERFLOW_KEY)}


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    """What the stack's generator wrote for acme and globex: incidents, and alerts by (asset, upload, violation)."""
    start, end = demo_window(ANCHOR, DAYS)
    result: dict[str, Any] = {}
    for tenant in ("acme", "globex"):
        bundles = list(incident_bundles(tenant, DEMO_INCIDENTS[tenant], start, end, DEFAULT_SEED))
        alerts = {(a.asset_id, a.metric_time, a.violation_name): a.model_dump() for b in bundles for a in b.alerts}
        result[tenant] = {"incidents": [b.incident for b in bundles], "alerts": alerts}
    return result


# ---- the documented example requests, literally -----------------------------------------------------------------


def test_the_documented_list_request(stack: Stack, http: requests.Session, keys):
    body = _replay(http, stack, keys[DOCUMENTED], f"/api/backend/{DOCUMENTED}/incidents?project_ids=0,24")
    assert isinstance(body, list) and all(list(item) == LIST_FIELDS for item in body)
    assert body == [documented_item(OTHERS[0]), documented_item(EXAMPLE)]  # project 7 is not asked for
    assert body[1] == {
        "id": 1311,
        "project_id": 0,
        "asset_id": "5x0e34yk1re4",
        "last_upload_timestamp": "2025-06-30T14:12:51.871Z",
        "created_time": "2025-06-30T14:12:51.871Z",
        "severity": "HIGH",
        "impact": "HIGH",
        "status": "OPEN",
        "ticket_id": 2411,
        "alert_policy_id": "4",
        "alert_policy_name": "test_policy",
        "description": "...",
        "tags": ["T1", "PROD"],
    }


def test_the_documented_details_request(stack: Stack, http: requests.Session, keys):
    body = _replay(http, stack, keys[DOCUMENTED], f"/api/backend/{DOCUMENTED}/incidents/1311")
    assert set(body) == DETAIL_FIELDS
    assert body == {**documented_item(EXAMPLE), "metrics": EXAMPLE.metrics, "history": EXAMPLE.history}
    assert all(set(metric) == METRIC_FIELDS for metric in body["metrics"])
    assert [set(ref) for ref in body["history"][0]["alert_refs"]] == [{"metric_time", "violation_name"}] * 2


def test_the_documented_alerts_by_filters_request(stack: Stack, http: requests.Session, keys):
    path = f"/api/backend/{DOCUMENTED}/configuration/alerts/by_filters"
    body = _replay(http, stack, keys[DOCUMENTED], path, EXAMPLE_BODY)
    assert [list(alert) for alert in body] == [ALERT_FIELDS, ALERT_FIELDS]
    written = [{name: alert.model_dump()[name] for name in ALERT_FIELDS} for alert in EXAMPLE_ALERTS]
    assert body == sorted(written, key=lambda alert: (alert["metric_time"], alert["violation_name"]))


def test_the_documented_distribution_request(stack: Stack, http: requests.Session, keys):
    body = _replay(http, stack, keys[DOCUMENTED], f"/api/backend/{DOCUMENTED}/incidents/distribution")
    assert body == distribution([EXAMPLE, *OTHERS])
    assert body["incidents"][0] == {
        "date": "2025-06-30",
        "counts": {"LOW": 0, "MEDIUM": 0, "HIGH": 1, "": 0},
        "counts_by_impact": {"LOW": 0, "MEDIUM": 0, "HIGH": 1, "": 0},
    }


def test_the_documented_summary_request(stack: Stack, http: requests.Session, keys):
    body = _replay(http, stack, keys[DOCUMENTED], f"/api/backend/{DOCUMENTED}/incidents/summary")
    assert list(body) == SUMMARY_FIELDS
    assert body["total"] == 0 and body["mean_time_to_resolve"] is None  # the last 30 days hold none of them
    period = "from_time=2025-06-01T00:00:00Z&to_time=2025-07-31T23:59:59.999Z"
    body = _replay(http, stack, keys[DOCUMENTED], f"/api/backend/{DOCUMENTED}/incidents/summary?{period}")
    assert body == summary([EXAMPLE, *OTHERS], at("2025-06-01T00:00:00Z"), at("2025-07-31T23:59:59.999Z"))
    assert body["open_by_tag"] == {"T1": 1, "PROD": 1}


@pytest.mark.parametrize("example", FILTER_EXAMPLES, ids=lambda example: next(iter(example)))
def test_every_documented_filter_example(stack: Stack, http: requests.Session, keys, truth, example):
    query = "&".join(f"{name}={value}" for name, value in example.items())  # commas as written, not encoded
    for tenant, forms, incidents in (
        (DOCUMENTED, keys[DOCUMENTED], [EXAMPLE, *OTHERS]),
        ("acme", ACME_FORMS, truth["acme"]["incidents"]),
    ):
        body = _replay(http, stack, forms, f"/api/backend/{tenant}/incidents?{query}")
        wanted = [documented_item(i) for i in newest_first(incidents) if matches(i, example)]
        assert body == wanted, (tenant, example)
        for route in ("distribution", "summary"):
            assert _json(_call(http, stack, "GET", f"/api/backend/{tenant}/incidents/{route}?{query}", forms[0]))


# ---- the demo tenant: every incident, integer ids walked to the alerts ------------------------------------------


def test_the_list_is_every_incident_with_its_integer_id(stack: Stack, http: requests.Session, truth):
    response = _call(http, stack, "GET", "/api/backend/acme/incidents", ACME_FORMS[0])
    body = _json(response)
    assert "X-Next-Cursor" not in response.headers
    assert len(body) == DEMO_INCIDENTS["acme"]
    assert body == [documented_item(incident) for incident in newest_first(truth["acme"]["incidents"])]
    assert len({item["id"] for item in body}) == len(body)


def test_integer_ids_walk_from_the_list_to_the_details_to_the_alerts(stack: Stack, http: requests.Session, truth):
    listed = _json(_call(http, stack, "GET", "/api/backend/acme/incidents?severities=HIGH", ACME_FORMS[1]))
    by_number = {integer(incident): incident for incident in truth["acme"]["incidents"]}
    walked = 0
    for item in listed[::8]:
        detail = _json(_call(http, stack, "GET", f"/api/backend/acme/incidents/{item['id']}", ACME_FORMS[2]))
        assert set(detail) == DETAIL_FIELDS and {name: detail[name] for name in LIST_FIELDS} == item
        incident = by_number[item["id"]]
        assert detail["history"] == incident.history and detail["metrics"] == incident.metrics
        refs = [ref for entry in detail["history"] for ref in entry["alert_refs"]]
        if not refs:
            continue
        request = {
            "sources": [detail["asset_id"]],
            "upload_dates": [ref["metric_time"] for ref in refs],
            "violation_names": [ref["violation_name"] for ref in refs],
        }
        alerts = _json(
            _call(http, stack, "POST", "/api/backend/acme/configuration/alerts/by_filters", ACME_FORMS[0], request)
        )
        assert all(list(alert) == ALERT_FIELDS for alert in alerts)
        wanted = sorted(
            (
                alert
                for (asset, when, name), alert in truth["acme"]["alerts"].items()
                if asset == detail["asset_id"]
                and when in request["upload_dates"]
                and name in request["violation_names"]
            ),
            key=lambda alert: (alert["metric_time"], alert["violation_name"]),
        )
        assert alerts == [{name: alert[name] for name in ALERT_FIELDS} for alert in wanted]
        found = {(alert["metric_time"], alert["violation_name"]) for alert in alerts}
        assert {(ref["metric_time"], ref["violation_name"]) for ref in refs} <= found  # every alert_ref has its alert
        walked += 1
    assert walked >= 5


def test_distribution_and_summary_match_the_generator(stack: Stack, http: requests.Session, truth):
    incidents = [i for i in truth["acme"]["incidents"] if i.project_id in (0, 24)]
    body = _json(_call(http, stack, "GET", "/api/backend/acme/incidents/distribution?project_ids=0,24", ACME_FORMS[0]))
    assert body == distribution(incidents)
    start, end = at("2026-04-01T00:00:00Z"), at("2026-05-01T00:00:00Z")
    path = f"/api/backend/acme/incidents/summary?from_time={stamp(start)}&to_time={stamp(end)}&project_ids=0,24"
    assert _json(_call(http, stack, "GET", path, ACME_FORMS[1])) == summary(incidents, start, end)


# ---- not found, refused, never cut -------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "route"), ROUTES)
def test_another_tenants_path_segment_is_a_404_on_every_path(
    stack: Stack, http: requests.Session, truth, method, route
):
    globex_number = str(integer(truth["globex"]["incidents"][0]))
    answers = []
    for path_tenant, forms in (("globex", ACME_FORMS), ("acme", GLOBEX_FORMS), ("no-such-tenant", ACME_FORMS)):
        path = f"/api/backend/{path_tenant}/{route}".replace("{incidentId}", globex_number)
        body = _json(_call(http, stack, method, path, forms[0], EXAMPLE_BODY if method == "POST" else None), 404)
        assert set(body) <= {"status", "error", "message", "parameter"} and body["error"] == "NOT_FOUND"
        answers.append({**body, "message": body["message"].replace(path_tenant, "<tenant>")})
    assert answers[0] == answers[1] == answers[2]  # an existing tenant looks like one that does not exist


def test_another_tenants_incident_number_is_a_404(stack: Stack, http: requests.Session, keys, truth):
    ours = {integer(incident): incident for incident in truth["acme"]["incidents"]}
    assert 1311 not in ours  # the documented example's number belongs to another tenant only
    body = _json(_call(http, stack, "GET", "/api/backend/acme/incidents/1311", ACME_FORMS[0]), 404)
    assert body["error"] == "NOT_FOUND" and body["parameter"] == "incidentId"
    assert (
        _json(_call(http, stack, "GET", f"/api/backend/{DOCUMENTED}/incidents/1311", keys[DOCUMENTED][0]))["id"] == 1311
    )
    # each tenant numbers its own incidents: a number both hold finds the caller's own
    theirs = {integer(incident): incident for incident in truth["globex"]["incidents"]}
    shared = next(number for number in theirs if number in ours and ours[number].asset_id != theirs[number].asset_id)
    mine = _json(_call(http, stack, "GET", f"/api/backend/acme/incidents/{shared}", ACME_FORMS[0]))
    assert {name: mine[name] for name in LIST_FIELDS} == documented_item(ours[shared])
    other = _json(_call(http, stack, "GET", f"/api/backend/globex/incidents/{shared}", GLOBEX_FORMS[0]))
    assert {name: other[name] for name in LIST_FIELDS} == documented_item(theirs[shared])


@pytest.mark.parametrize("text", ["abc", "inc-1442", "1442.0", "-1442"])
def test_an_incident_id_that_is_not_an_integer_is_a_400(stack: Stack, http: requests.Session, text):
    body = _json(_call(http, stack, "GET", f"/api/backend/acme/incidents/{text}", ACME_FORMS[0]), 400)
    assert body["parameter"] == "incidentId"


def test_paging_is_refused_on_the_list_of_every_match(stack: Stack, http: requests.Session):
    body = _json(_call(http, stack, "GET", "/api/backend/acme/incidents?limit=10", ACME_FORMS[0]), 400)
    assert body["parameter"] == "limit" and "GET /v1/incidents" in body["message"]


def test_a_list_over_the_limit_is_a_400_that_says_how_to_narrow_it(stack: Stack, http: requests.Session, keys):
    forms = keys[OVERFLOW]
    body = _json(_call(http, stack, "GET", f"/api/backend/{OVERFLOW}/incidents", forms[0]), 400)
    assert body["error"] == "EXPORT_TOO_LARGE" and body["status"] == 400
    assert body["matchedRecords"] == SYNC_LIMIT + 1 and body["limit"] == SYNC_LIMIT
    for advice in ("from_time/to_time", "GET /v1/incidents", "cursor", "format=csv", "never cut short"):
        assert advice in body["message"], body["message"]
    narrowed = f"/api/backend/{OVERFLOW}/incidents?to_time=2026-02-02T00:00:00Z"
    assert len(_json(_call(http, stack, "GET", narrowed, forms[1]))) == 24 * 60  # minutes 1 .. 1440, both ends in
    first = _call(http, stack, "GET", "/v1/incidents?limit=1000", forms[2])  # where the pages are
    assert len(_json(first)) == 1000 and first.headers["X-Next-Cursor"]


def test_dynamodb_refuses_a_number_for_a_second_incident(stack: Stack, keys):
    incidents = IncidentStore(stack.dynamodb(), local_refs()["IncidentsTable"])
    copy = EXAMPLE.model_copy(update={"id": "inc-documented-copy"})
    with pytest.raises(NumberTakenError) as refused:
        write_incident_bundles(incidents, DOCUMENTED, [IncidentBundle(copy)])
    assert refused.value.holder == EXAMPLE.id  # DynamoDB names the incident that holds the number
    assert incidents.get_incident(DOCUMENTED, copy.id) is None
    assert incidents.incident_id_by_number(DOCUMENTED, 1311) == EXAMPLE.id
