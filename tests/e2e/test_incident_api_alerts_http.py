"""An incident's details and alerts over HTTP against the local stack, compared with what the
generator wrote."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import ACME, GLOBEX
from tests.e2e.incident_api_support import _get, _item, _stamp, _when, incident_truth

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, Any]]:
    return incident_truth()


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
