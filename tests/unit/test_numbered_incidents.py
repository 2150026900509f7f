"""Incidents addressed by number, without AWS: the integer of a number, the claims a write makes, the documented
shapes (exactly their fields), the detail lookup, and the list that is every match or a 400, never cut."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from export_service.dal.incident_store import NumberTakenError, number_claims
from export_service.errors import ExportTooLargeError, InvalidParameterError, NotFoundError
from export_service.logic.export_engine import ExportLimits
from export_service.logic.incident_filters import build_incident_filter
from export_service.logic.numbered_incidents import (
    alert_objects,
    distribution_days,
    every_match,
    numbered_detail,
    numbered_item,
    path_number,
    refuse_paging,
    summary_counts,
)
from export_service.models.alerts import Alert, AlertObject
from export_service.models.incident_api import (
    NUMBERED_DETAIL_FIELDS,
    NUMBERED_LIST_FIELDS,
    IncidentListQuery,
    NumberedIncident,
    NumberedIncidentDetail,
    incident_number,
)
from tests.helpers import DOCUMENTED_ALERT_FIELDS, DOCUMENTED_INCIDENT_FIELDS

pytestmark = pytest.mark.unit

NOW = datetime(2026, 6, 1, tzinfo=UTC)
# The incident object as the incident API documents it, in its order.
DOCUMENTED_LIST = tuple(DOCUMENTED_INCIDENT_FIELDS)
DOCUMENTED_ALERT = DOCUMENTED_ALERT_FIELDS


@pytest.mark.parametrize(
    ("number", "integer"),
    [("INC-1311", 1311), ("1311", 1311), ("INC-0042", 42), ("OPS_2-7", 7), ("INC-" + "9" * 15, 10**15 - 1)],
)
def test_the_integer_of_a_number(number, integer):
    assert incident_number(number) == integer


@pytest.mark.parametrize("number", ["", "INC-", "INC-12a", "12 ", "INC--3", "-3", "INC-" + "1" * 16, "1.5", "٣"])
def test_a_number_without_an_integer(number):
    assert incident_number(number) is None


def _row(incident_id: str, number: str) -> dict[str, str]:
    return {"id": incident_id, "number": number}


def test_claims_map_each_integer_to_its_incident():
    claims = number_claims("acme", [_row("a", "INC-1"), _row("b", "INC-2"), _row("a", "INC-1")])
    assert claims == {1: ("a", "INC-1"), 2: ("b", "INC-2")}


def test_one_number_for_two_incidents_in_the_same_write_is_refused():
    with pytest.raises(NumberTakenError, match=r"'INC-01'.*incident 'a'") as refused:
        number_claims("acme", [_row("a", "INC-1"), _row("b", "INC-01")])  # the same integer
    assert (refused.value.incident_id, refused.value.holder) == ("b", "a")


def test_a_number_without_an_integer_is_not_written():
    with pytest.raises(ValueError, match="INC-1311"):
        number_claims("acme", [_row("a", "Q3 outage")])


def test_the_models_are_exactly_the_documented_objects():
    assert NUMBERED_LIST_FIELDS == DOCUMENTED_LIST
    assert tuple(NumberedIncident.model_fields) == DOCUMENTED_LIST
    assert (
        set(NumberedIncidentDetail.model_fields)
        == set(NUMBERED_DETAIL_FIELDS)
        == {*DOCUMENTED_LIST, "metrics", "history"}
    )
    assert list(AlertObject.model_fields) == DOCUMENTED_ALERT
    assert set(Alert.model_fields) - set(AlertObject.model_fields) == {"asset_id"}


def _record(number: str = "INC-1311", **fields: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": "5f0c9a51-uuid",
        "number": number,
        "name": "Orders late",
        "created_at": "2025-06-30T14:12:51.871Z",
        "project_id": 0,
        "asset_id": "5x0e34yk1re4",
        "last_upload_timestamp": "2025-06-30T14:12:51.871Z",
        "severity": "HIGH",
        "impact": "HIGH",
        "status": "OPEN",
        "ticket_id": 2411,
        "alert_policy_id": "4",
        "alert_policy_name": "test_policy",
        "description": "...",
        "tags": ["T1", "PROD"],
        "connection_type": "GCS",
        "connection_id": "conn-123",
        "source_name": "GCS.bucket/orders",
        "metrics": json.dumps([{"metric_name": "contains_pii", "metric_aggregation": "ratio"}]),
        "history": json.dumps([{"timestamp": "2025-06-30T14:12:51.871Z", "state": "NEW", "alert_refs": []}]),
    }
    return {**record, **fields}


def test_a_list_item_has_the_integer_id_and_no_other_field():
    item = numbered_item(_record())
    assert list(item) == list(DOCUMENTED_LIST)
    assert item["id"] == 1311 and item["ticket_id"] == 2411 and item["alert_policy_id"] == "4"
    assert item["created_time"] == "2025-06-30T14:12:51.871Z"
    assert numbered_item(_record(ticket_id=None, last_upload_timestamp=""))["ticket_id"] is None
    NumberedIncident.model_validate(item)


class Store:
    """Incidents by id and their numbers, read as IncidentStore reads them (pages of the list's fields)."""

    def __init__(self, records: Sequence[Mapping[str, Any]], numbers: Mapping[int, str] | None = None) -> None:
        self.records = {record["id"]: dict(record) for record in records}
        self.numbers = dict(numbers or {})
        self.counted = 0

    def incident_id_by_number(self, tenant: str, number: int) -> str | None:
        return self.numbers.get(number) if tenant == "acme" else None

    def get_incident(self, tenant: str, incident_id: str) -> dict[str, Any] | None:
        return self.records.get(incident_id) if tenant == "acme" else None

    def bounds(self, tenant: str, dataset: Any) -> Any:
        return (datetime(2025, 1, 1).date(), datetime(2026, 1, 1).date()) if self.records else None

    def plan(self, *args: Any) -> list[str]:
        return ["all"]

    def read_fields(self, parts: Sequence[Any], fields: Sequence[str], **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        rows = sorted(self.records.values(), key=lambda r: (r["created_at"], r["id"]), reverse=True)
        for start in range(0, len(rows), 3):
            yield rows[start : start + 3]

    def count(self, part: Any, cap: int) -> int:
        self.counted += 1
        return min(len(self.records), cap)


def test_details_are_found_by_number_with_exactly_the_documented_fields():
    store = Store([_record()], {1311: "5f0c9a51-uuid"})
    detail = numbered_detail(store, "acme", "1311")
    assert set(detail) == set(NUMBERED_DETAIL_FIELDS)
    assert detail["id"] == 1311 and detail["metrics"][0]["metric_name"] == "contains_pii"
    assert detail["history"][0]["state"] == "NEW"
    assert numbered_detail(store, "acme", "001311")["id"] == 1311


@pytest.mark.parametrize(
    ("tenant", "text", "numbers"),
    [
        ("globex", "1311", {1311: "5f0c9a51-uuid"}),  # another tenant's key: its own tenant has no such number
        ("acme", "1312", {1311: "5f0c9a51-uuid"}),  # no such number
        ("acme", "1311", {1311: "gone"}),  # its incident is gone
        ("acme", "7", {7: "5f0c9a51-uuid"}),  # the incident was renumbered since (INC-1311 now)
    ],
)
def test_a_number_that_finds_no_incident_of_the_tenant_is_not_found(tenant, text, numbers):
    with pytest.raises(NotFoundError) as missing:
        numbered_detail(Store([_record()], numbers), tenant, text)
    assert missing.value.parameter == "incidentId"


@pytest.mark.parametrize("text", ["", "abc", "-1", "+1", "1e3", "1311 ", "1" * 16, "٣"])
def test_a_path_id_that_is_not_an_integer_is_a_400_naming_it(text):
    with pytest.raises(InvalidParameterError) as refused:
        path_number(text)
    assert refused.value.parameter == "incidentId"


def _limits(records: int = 100, body: int = 1_000_000) -> ExportLimits:
    return ExportLimits(max_records=records, max_body_bytes=body, count_cap=1000, prefetch=1)


def _request() -> Any:
    return build_incident_filter("acme", IncidentListQuery(), NOW)


def _many(count: int) -> list[dict[str, Any]]:
    return [_record(f"INC-{n}", id=f"inc-{n:03d}", created_at=f"2025-06-30T14:{n:02d}:00.000Z") for n in range(count)]


def test_every_match_is_one_plain_array_newest_first():
    body = json.loads(every_match(_request(), Store(_many(7)), _limits(records=7)))
    assert [item["id"] for item in body] == [6, 5, 4, 3, 2, 1, 0]
    assert all(list(item) == list(DOCUMENTED_LIST) for item in body)
    assert every_match(_request(), Store([]), _limits()) == "[]"


def test_more_matches_than_the_limit_is_refused_with_the_count_and_where_to_go():
    store = Store(_many(8))
    with pytest.raises(ExportTooLargeError) as refused:
        every_match(_request(), store, _limits(records=7))
    problem = refused.value.to_body()
    assert problem["status"] == 400 and problem["error"] == "EXPORT_TOO_LARGE"
    assert problem["matchedRecords"] == 8 and problem["limit"] == 7
    for advice in ("from_time/to_time", "GET /v1/incidents", "cursor", "format=csv", "never cut"):
        assert advice in problem["message"]


def test_more_bytes_than_one_answer_holds_is_refused_too():
    one = len(json.dumps(numbered_item(_many(1)[0])))
    with pytest.raises(ExportTooLargeError, match="bytes"):
        every_match(_request(), Store(_many(5)), _limits(body=4 * one))
    assert len(json.loads(every_match(_request(), Store(_many(3)), _limits(body=4 * one)))) == 3


@pytest.mark.parametrize("given", [{"limit": "5"}, {"cursor": "abc"}, {"format": "json"}])
def test_paging_parameters_are_refused_on_a_list_of_every_match(given):
    with pytest.raises(InvalidParameterError) as refused:
        refuse_paging(IncidentListQuery.model_validate(given))
    assert refused.value.parameter == next(iter(given))
    refuse_paging(IncidentListQuery.model_validate({"severities": ["HIGH"]}))


def test_alerts_distribution_and_summary_keep_the_documented_fields_only():
    alert = {name: None for name in DOCUMENTED_ALERT} | {"asset_id": "5x0e34yk1re4", "violation_name": "DATA.a531"}
    assert [list(a) for a in alert_objects([alert])] == [DOCUMENTED_ALERT]
    days = [{"date": "2025-07-22", "counts": {"LOW": 1}, "counts_by_impact": {"LOW": 1}}]
    assert distribution_days({"incidents": days, "timezone": "UTC"}) == {"incidents": days}
    summary = {
        "total": 25,
        "open": 6,
        "closed": 19,
        "mean_time_to_resolve": 122,
        "previous_mean_time_to_resolve": 117,
        "open_by_tag": {"T1": 3},
        "closed_by_tag": {"T1": 12},
    }
    assert summary_counts({**summary, "from_time": "x", "to_time": "y", "previous_from_time": "z"}) == summary
