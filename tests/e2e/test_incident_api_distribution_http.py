"""The incident distribution over HTTP against the local stack: local days across DST changes,
compared with an independent computation over what the generator wrote."""

from __future__ import annotations

from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.incident_api_support import _expected, _get, incident_truth

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, Any]]:
    return incident_truth()


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
