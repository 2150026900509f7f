"""GET /v1/export/{dataset} through the real handler against moto: time bounds, sort, filters, one incident."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import json_body
from tests.integration.dataset_export_support import (
    DESC,
    RANGE,
    RANGE_END,
    RANGE_START,
    _disposition,
    _ok,
    _rows,
    _today,
    write_bundles,
)
from tests.integration.incident_support import ALL_DATASETS, at, bundles, csv_rows, expected, jsonl, parse_csv

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(stack) -> None:
    write_bundles(stack)


@pytest.mark.parametrize(
    "bounds",
    [
        {"from": RANGE["from"], "to": RANGE["to"]},
        {"from_time": RANGE["from"], "to_time": RANGE["to"]},
        {"range_start": RANGE["from"], "range_end": RANGE["to"]},
        {"filter": json.dumps({"range": {"start": RANGE["from"], "end": RANGE["to"]}})},
        {"from": RANGE["from"], "range_end": RANGE["to"]},
        {"from_time": RANGE["from"], "filter": json.dumps({"range": {"end": RANGE["to"]}})},
        {"from": "2026-03-01T09:00:00+01:00", "to": "2026-03-02T19:00:00-05:00"},
    ],
    ids="+".join,
)
def test_every_name_of_the_time_bounds(data, bounds):
    response = _ok("incident-events", {**bounds, "format": "jsonl"})
    assert jsonl(response["body"]) == expected(bundles("acme"), "incident-events", RANGE_START, RANGE_END)
    assert _disposition(response) == 'attachment; filename="incident-events-2026-03-01_2026-03-03.jsonl"'


def test_bounds_are_inclusive(data):
    rows = _rows("incidents", {"from": "2026-03-01T23:59:59.999Z", "to": "2026-03-03T00:00:00Z"})
    assert [row["id"] for row in rows] == ["inc-acme-002", "inc-acme-0025", "inc-acme-003", "inc-acme-004"]
    rows = _rows("incidents", {"from": "2026-03-02T00:00:00Z", "to": "2026-03-02T23:59:59.999Z"})
    assert [row["id"] for row in rows] == ["inc-acme-0025", "inc-acme-003"]


def test_to_defaults_to_now_and_names_the_file_by_today(data):
    response = _ok("incidents", {"from": "2026-03-02T00:00:00Z", "format": "jsonl"})
    assert jsonl(response["body"]) == expected(bundles("acme"), "incidents", at("2026-03-02T00:00:00Z"))
    assert _disposition(response) == f'attachment; filename="incidents-2026-03-02_{_today()}.jsonl"'


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_sort_descending(data, dataset):
    assert _rows(dataset, {"sort": DESC}) == expected(bundles("acme"), dataset, descending=True)
    ascending = json.dumps([{"field": "created_at", "direction": "asc"}])
    assert _rows(dataset, {"sort": ascending}) == expected(bundles("acme"), dataset)


@pytest.mark.parametrize(
    "params",
    [
        {"severities": "HIGH"},
        {"severities": "LOW,MEDIUM"},
        {"severities": ["LOW", "HIGH"]},
        {"priorities": "HIGH"},
        {"statuses": "CLOSED"},
        {"project_ids": "0,7"},
        {"project_ids": ["24"]},
        {"tags": "PROD"},
        {"tags": ["dns", "PROD-EU"]},
        {"filter": json.dumps({"severities": ["LOW"], "statuses": ["CLOSED"]})},
        {"filter": json.dumps({"project_ids": [24, "7"], "tags": ["PROD"]})},
        {"filter": json.dumps({"priorities": "HIGH"})},  # a string is one value
        {"statuses": "OPEN", "filter": json.dumps({"tags": ["T1"]})},
    ],
    ids=lambda params: json.dumps(params, separators=(",", ":")),
)
def test_incident_filters(data, params):
    lists: dict[str, list[Any]] = {}
    for name, value in params.items():
        if name == "filter":
            for key, entry in json.loads(value).items():
                lists[key] = [entry] if isinstance(entry, str) else entry
        else:
            values = [value] if isinstance(value, str) else value
            lists[name] = [part for entry in values for part in entry.split(",")]
    if "project_ids" in lists:
        lists["project_ids"] = [int(entry) for entry in lists["project_ids"]]
    want = expected(bundles("acme"), "incidents", **lists)
    assert want
    assert _rows("incidents", params) == want
    assert parse_csv(_ok("incidents", params)["body"])[1:] == csv_rows(want, "incidents")


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_one_incident_in_every_dataset_names_the_file_by_its_number(data, dataset):
    for incident_id, number in (("inc-acme-001", "101"), ("inc-acme-004", "104")):
        response = _ok(dataset, {"incident_id": incident_id, **RANGE})
        want = expected(bundles("acme"), dataset, RANGE_START, RANGE_END, incident_id=incident_id)
        assert parse_csv(response["body"])[1:] == csv_rows(want, dataset)
        assert _disposition(response) == f'attachment; filename="{dataset}-{number}-2026-03-01_2026-03-03.csv"'
    via_filter = _ok(dataset, {"filter": json.dumps({"incident_id": "inc-acme-002"}), "format": "jsonl"})
    assert jsonl(via_filter["body"]) == expected(bundles("acme"), dataset, incident_id="inc-acme-002")
    assert _disposition(via_filter) == f'attachment; filename="{dataset}-102-{_today()}.jsonl"'


def test_one_incident_descending_with_metadata(data):
    body = json_body(_ok("incident-events", {"incident_id": "inc-acme-001", "sort": DESC, "format": "json"}))
    want = expected(bundles("acme"), "incident-events", incident_id="inc-acme-001", descending=True)
    assert body["records"] == want
    assert len(want) == 3
    assert body["metadata"]["filter"] == {"incident_id": "inc-acme-001"}
    assert body["metadata"]["totalRecords"] == 3
