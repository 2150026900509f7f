"""The incident summary over HTTP against the local stack, compared with an independent computation
over what the generator wrote."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from tests.e2e.incident_api_support import _expected, _get, _when, incident_truth

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def truth() -> dict[str, dict[str, Any]]:
    return incident_truth()


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
