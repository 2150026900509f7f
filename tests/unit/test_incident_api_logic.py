"""Incident API logic without AWS: cursors, filters, time zones, summary periods and means, alert requests, and
the local gateway's route choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from devtools.gateway import LocalApiGateway
from devtools.template import ApiSpec, Route
from export_service.dal.incident_store import IncidentQuery, IncidentStore
from export_service.errors import ExportTooLargeError, InvalidParameterError, InvalidRangeError
from export_service.logic import alerts
from export_service.logic.alerts import find_alerts, incident_alert_filter
from export_service.logic.cursor import CursorPosition, open_cursor, seal_cursor
from export_service.logic.incident_filters import build_incident_filter
from export_service.logic.incident_stats import mean_hours, parse_timezone, summary_periods
from export_service.models.alerts import AlertFilter
from export_service.models.incident_api import IncidentFilterParams
from export_service.models.incidents import Dataset

KEY = b"unit-test-cursor-key-of-32-bytes-or-more"
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
POSITION = CursorPosition(
    pk="T#acme#INC#D#2026-05-01", sk="2026-05-01T10:00:00.000Z#abc", end="2026-06-01T12:00:00.000Z"
)


def _filter(**kwargs):
    if "text" in kwargs:
        kwargs["text_to_search"] = kwargs.pop("text")
    params = IncidentFilterParams.model_validate({name: value for name, value in kwargs.items() if value is not None})
    return build_incident_filter("acme", params, NOW)


# ---- cursors ------------------------------------------------------------------------------------------------------


def test_a_cursor_opens_only_for_its_tenant_and_query():
    token = seal_cursor(KEY, "acme", "q1", POSITION)
    assert open_cursor(KEY, token, "acme", "q1") == POSITION
    for tenant, query in (("globex", "q1"), ("acme", "q2")):
        with pytest.raises(InvalidParameterError, match="another query"):
            open_cursor(KEY, token, tenant, query)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t.replace(".", ".x", 1),
        lambda t: "A" + t[1:] if t[0] != "A" else "B" + t[1:],
        lambda t: t.split(".")[0],
        lambda t: t + "=" * 3000,
        lambda t: "",
    ],
)
def test_an_altered_cursor_is_refused(mangle):
    token = seal_cursor(KEY, "acme", "q1", POSITION)
    with pytest.raises(InvalidParameterError) as raised:
        open_cursor(KEY, mangle(token), "acme", "q1")
    assert raised.value.parameter == "cursor"


def test_a_cursor_signed_with_another_key_is_refused():
    token = seal_cursor(b"x" * 40, "acme", "q1", POSITION)
    with pytest.raises(InvalidParameterError, match="not a cursor this API issued"):
        open_cursor(KEY, token, "acme", "q1")


# ---- filters ------------------------------------------------------------------------------------------------------


def test_filters_reach_the_query_and_identify_it():
    request = _filter(
        severities=["HIGH,LOW"],
        impacts=["MEDIUM"],
        project_ids=["0", "24"],
        connection_types=["GCS"],
        connection_ids=["conn-1,conn-2"],
        alert_policy_ids=["4"],
        statuses=["OPEN"],
        tags=["PROD"],
        text="  Fresh ",
    )
    query = request.query
    assert (query.severities, query.impacts, query.project_ids) == (["HIGH", "LOW"], ["MEDIUM"], [0, 24])
    assert (query.connection_types, query.connection_ids, query.alert_policy_ids) == (
        ["GCS"],
        ["conn-1", "conn-2"],
        ["4"],
    )
    assert (query.statuses, query.tags, query.search) == (["OPEN"], ["PROD"], "fresh")
    assert request.end == NOW and not request.end_given
    assert request.fingerprint() == _filter(severities=["HIGH", "LOW"], impacts=["MEDIUM"], project_ids=["0,24"],
        connection_types=["GCS"], connection_ids=["conn-1", "conn-2"], alert_policy_ids=["4"], statuses=["OPEN"],
        tags=["PROD"], text="fresh").fingerprint()  # fmt: skip
    assert request.fingerprint() != _filter(severities=["HIGH"]).fingerprint()


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"severities": ["CRITICAL"]}, "severities"),
        ({"impacts": ["high"]}, "impacts"),
        ({"project_ids": ["x"]}, "project_ids"),
        ({"connection_types": [",".join(f"T{n}" for n in range(51))]}, "connection_types"),
        ({"from_time": "tomorrow"}, "from_time"),
        ({"text": "x" * 129}, "text_to_search"),
        ({"text": "a\tb"}, "text_to_search"),
    ],
)
def test_bad_filters_name_the_parameter(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as raised:
        _filter(**kwargs)
    assert raised.value.parameter == parameter


def test_a_reversed_range_is_invalid():
    with pytest.raises(InvalidRangeError):
        _filter(from_time="2026-05-02", to_time="2026-05-01T23:59:59Z")


# ---- time zones, periods, means -----------------------------------------------------------------------------------


def test_time_zones_are_iana_names():
    assert parse_timezone("Europe/Berlin").key == "Europe/Berlin"
    for name in ("Mars/Base", "", "/etc/localtime", "../x", "x" * 65):
        with pytest.raises(InvalidParameterError):
            parse_timezone(name)


def test_the_previous_period_has_the_same_length_just_before():
    (start, end), (previous_start, previous_end) = summary_periods(
        _filter(from_time="2026-05-01T00:00:00Z", to_time="2026-05-01T23:59:59.999Z")
    )
    assert (start, end) == (datetime(2026, 5, 1, tzinfo=UTC), datetime(2026, 5, 1, 23, 59, 59, 999000, tzinfo=UTC))
    assert previous_start == datetime(2026, 4, 30, tzinfo=UTC)
    assert previous_end == start - timedelta(milliseconds=1)
    # no from_time: the 30 days up to the end
    (start, end), _ = summary_periods(_filter())
    assert end - start == timedelta(days=30) - timedelta(milliseconds=1)


@pytest.mark.parametrize(
    ("durations_hours", "want"),
    [([], None), ([1.0], 1), ([1.0, 2.0], 2), ([0.4, 0.5], 0), ([2.5], 3), ([1.49], 1), ([100, 150, 101], 117)],
)
def test_mean_time_to_resolve_rounds_to_the_nearest_hour_halves_up(durations_hours, want):
    total = sum(round(hours * 3_600_000) for hours in durations_hours)
    assert mean_hours(total, len(durations_hours)) == want


# ---- alerts -------------------------------------------------------------------------------------------------------


class _Alerts:
    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def find_alerts(self, tenant: str, source: str, metric_time: str) -> list[dict[str, str]]:
        self.asked.append((tenant, source, metric_time))
        return [
            {"violation_name": name, "metric_time": metric_time, "source": source} for name in ("A.1", "B.2", "C.3")
        ]


def test_alert_queries_are_per_source_and_normalised_upload_date():
    store = _Alerts()
    body = AlertFilter(
        sources=["s2", "s1", "s2"],
        upload_dates=["2026-05-01T12:00:00+02:00", "2026-05-01T10:00:00.000Z", "2026-04-01"],
        violation_names=["B.2", "Z.9"],
    )
    found = find_alerts(store, "acme", body, prefetch=1)
    dates = ["2026-04-01T00:00:00.000Z", "2026-05-01T10:00:00.000Z"]
    assert store.asked == [("acme", source, date) for source in ("s2", "s1") for date in dates]
    assert [(a["source"], a["metric_time"], a["violation_name"]) for a in found] == [
        (source, date, "B.2") for source in ("s2", "s1") for date in dates
    ]


def test_too_many_uploads_in_one_request_are_refused():
    body = AlertFilter(
        sources=[f"s{n}" for n in range(3)],
        upload_dates=[f"2026-05-01T00:00:{n:02d}Z" for n in range(40)],
        violation_names=["x"],
    )
    with pytest.raises(InvalidParameterError, match="split the request"):
        find_alerts(_Alerts(), "acme", body, max_queries=100)


def test_an_incidents_alert_request_is_built_from_its_history():
    record = {
        "asset_id": "5x0e34yk1re4",
        "history": '[{"timestamp":"t","state":"NEW","alert_refs":[{"metric_time":"2025-06-30T14:12:51.871Z",'
        '"violation_name":"FEATURE.s132j7ja1"},{"metric_time":"2025-06-30T14:13:55.325Z","violation_name":"DATA.a531"}]},'
        '{"timestamp":"u","state":"RESOLVED","alert_refs":[]}]',
    }
    body = incident_alert_filter(record)
    assert body is not None
    assert body.model_dump() == {
        "sources": ["5x0e34yk1re4"],
        "upload_dates": ["2025-06-30T14:12:51.871Z", "2025-06-30T14:13:55.325Z"],
        "violation_names": ["FEATURE.s132j7ja1", "DATA.a531"],
    }
    assert incident_alert_filter({"asset_id": "a", "history": "[]"}) is None


# ---- the local gateway's route choice ------------------------------------------------------------------------------


def test_the_local_gateway_prefers_a_literal_segment_to_a_path_parameter():
    routes = [
        Route("GET", "/v1/incidents/{incidentId}", "GetIncidentFunction", None),
        Route("GET", "/v1/incidents/{incidentId}/alerts", "IncidentAlertsFunction", None),
        Route("GET", "/v1/incidents/summary", "IncidentSummaryFunction", None),
        Route("GET", "/v1/incidents/distribution", "IncidentDistributionFunction", None),
    ]
    gateway = LocalApiGateway(ApiSpec(routes=routes, authorizer_function=None), {})
    chosen = {
        path: gateway._match("GET", path)
        for path in (
            "/v1/incidents/summary",
            "/v1/incidents/distribution",
            "/v1/incidents/abc",
            "/v1/incidents/abc/alerts",
        )
    }
    assert {path: (match[0].function, match[1]) for path, match in chosen.items() if match} == {
        "/v1/incidents/summary": ("IncidentSummaryFunction", {}),
        "/v1/incidents/distribution": ("IncidentDistributionFunction", {}),
        "/v1/incidents/abc": ("GetIncidentFunction", {"incidentId": "abc"}),
        "/v1/incidents/abc/alerts": ("IncidentAlertsFunction", {"incidentId": "abc"}),
    }


# ---- hostile input and bounded work (found in review) -------------------------------------------------------------


@pytest.mark.parametrize("token", ["é.x", "abc.é", "\u202e.\u202e", "ab\x00c.d"])
def test_a_cursor_with_characters_no_cursor_has_is_a_400_naming_it(token):
    with pytest.raises(InvalidParameterError) as raised:
        open_cursor(KEY, token, "acme", "q1")
    assert raised.value.parameter == "cursor"


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"from_time": "0001-01-01T00:00:00Z", "to_time": "2025-01-01T00:00:00Z"}, "from_time"),
        ({"to_time": "0001-01-05T00:00:00Z"}, "to_time"),
    ],
)
def test_a_summary_whose_previous_period_would_start_before_year_one_is_a_400(kwargs, parameter):
    with pytest.raises(InvalidParameterError) as raised:
        summary_periods(_filter(**kwargs))
    assert raised.value.parameter == parameter


def test_an_answer_with_more_alerts_than_fit_a_response_is_refused_not_truncated(monkeypatch):

    monkeypatch.setattr(alerts, "MAX_ALERTS", 5)
    body = AlertFilter(sources=["s1", "s2"], upload_dates=["2026-05-01"], violation_names=["A.1", "B.2", "C.3"])
    with pytest.raises(ExportTooLargeError) as raised:
        find_alerts(_Alerts(), "acme", body, prefetch=1)  # 2 uploads x 3 matching violations = 6 > 5
    assert raised.value.details["limit"] == 5
    monkeypatch.setattr(alerts, "MAX_ALERTS", 6)
    assert len(find_alerts(_Alerts(), "acme", body, prefetch=1)) == 6


class _RecordingClient:
    def __init__(self) -> None:
        self.calls: list[dict] = []

    def query(self, **args):
        self.calls.append(args)
        return {"Items": []}


@pytest.mark.parametrize(("severities", "limit"), [(None, 11), (["HIGH"], 1000)])
def test_a_small_page_size_does_not_limit_a_filtered_query_to_tiny_reads(severities, limit):

    client = _RecordingClient()
    store = IncidentStore(client, "IncidentsTable")
    query = IncidentQuery(severities=severities or [])
    parts = store.plan("acme", Dataset.INCIDENTS, NOW - timedelta(days=1), NOW, query, True)
    list(store.read_fields(parts, ("id",), page_size=11))
    assert client.calls and {call["Limit"] for call in client.calls} == {limit}
    assert ("FilterExpression" in client.calls[0]) == bool(severities)
