"""GET /v1/export/{dataset} through the real handler against moto: CSV, JSON and JSON Lines, as hand-built."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from export_service.logic.incident_records import event_details_schema
from export_service.timefmt import utc_now
from tests.helpers import json_body, response_header
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
from tests.integration.incident_support import (
    ALL_DATASETS,
    COLUMNS,
    HOSTILE_NAME,
    SOURCES,
    bundles,
    csv_rows,
    expected,
    jsonl,
    parse_csv,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def data(stack) -> None:
    write_bundles(stack)


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_csv_equals_the_hand_built_rows_with_formulas_neutralised(data, dataset):
    response = _ok(dataset)
    assert response_header(response, "Content-Type") == "text/csv; charset=utf-8"
    assert _disposition(response) == f'attachment; filename="{dataset}-{_today()}.csv"'
    body = response["body"]
    assert body.startswith(",".join(COLUMNS[dataset]) + "\r\n")
    rows = parse_csv(body)
    assert rows[0] == COLUMNS[dataset]
    assert rows[1:] == csv_rows(expected(bundles("acme"), dataset), dataset)


def test_csv_cells_as_a_spreadsheet_would_read_them(data):
    incidents = parse_csv(_ok("incidents")["body"])
    by_id = {row[0]: row for row in incidents[1:]}
    assert by_id["inc-acme-002"][6] == "'" + HOSTILE_NAME
    assert by_id["inc-acme-004"][6] == "'-2+3 DNS flaps"
    assert by_id["inc-acme-003"][6] == "Ünïcode — café outage"
    assert by_id["inc-acme-001"][6] == "Checkout latency, EU"
    assert by_id["inc-acme-001"][-1] == "PT26H3M7S"
    assert by_id["inc-acme-002"][-1] == "PT0S"
    assert by_id["inc-acme-003"][-1] == ""
    roles = parse_csv(_ok("incident-role-assignments")["body"])
    assert '\'\tTabby, the "cat"' in [row[-1] for row in roles]
    impacts = parse_csv(_ok("incident-impacts")["body"])
    assert "'-api-gateway" in [row[-2] for row in impacts]
    events = parse_csv(_ok("incident-events")["body"])
    assert "'@mallory" in [row[6] for row in events]
    notes = [json.loads(row[9]) for row in events[1:] if row[7] == "Note"]
    assert notes
    assert notes[0] == {"body": 'Rolled back "v2", checking,\nthen: café ☕'}


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_json_envelope(data, dataset):
    before = utc_now()
    response = _ok(dataset, {**RANGE, "format": "json"})
    assert response_header(response, "Content-Type") == "application/json"
    assert _disposition(response) == f'attachment; filename="{dataset}-2026-03-01_2026-03-03.json"'
    body = json_body(response)
    want = expected(bundles("acme"), dataset, RANGE_START, RANGE_END)
    assert want
    exported_at = datetime.fromisoformat(body["metadata"].pop("exportedAt"))
    assert before - timedelta(seconds=1) <= exported_at <= utc_now()
    assert body == {
        "apiVersion": "v1",
        "kind": "DatasetExport",
        "metadata": {
            "dataset": dataset,
            "source": SOURCES[dataset],
            "from": "2026-03-01T08:00:00.000Z",
            "to": "2026-03-03T00:00:00.000Z",
            "filter": {},
            "sort": {"field": "created_at", "direction": "asc"},
            "totalRecords": len(want),
            "format": "json",
        },
        "records": want,
    }
    assert all(list(record) == COLUMNS[dataset] for record in body["records"])


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_json_lines(data, dataset):
    response = _ok(dataset, {"format": "jsonl"})
    assert response_header(response, "Content-Type") == "application/x-ndjson"
    assert _disposition(response) == f'attachment; filename="{dataset}-{_today()}.jsonl"'
    rows = jsonl(response["body"])
    assert rows == expected(bundles("acme"), dataset)
    assert all(list(row) == COLUMNS[dataset] for row in rows)


def test_json_metadata_echoes_the_applied_filter_and_sort(data):
    params = {"severities": "HIGH,MEDIUM", "tags": ["T1", "dns"], "sort": DESC, "format": "json"}
    body = json_body(_ok("incidents", params))
    assert body["metadata"]["filter"] == {"severities": ["HIGH", "MEDIUM"], "tags": ["T1", "dns"]}
    assert body["metadata"]["sort"] == {"field": "created_at", "direction": "desc"}
    assert body["metadata"]["from"] is None
    want = expected(bundles("acme"), "incidents", severities=["HIGH", "MEDIUM"], tags=["T1", "dns"], descending=True)
    assert [row["id"] for row in want] == ["inc-acme-002", "inc-acme-001"]
    assert body["records"] == want
    assert body["metadata"]["totalRecords"] == 2


def test_event_details_schema_is_the_json_schema_of_the_type(data):
    rows = _rows("incident-events")
    assert {row["type"] for row in rows} == {"IncidentStatus", "Note", "ImpactUpdate"}
    for row in rows:
        assert row["event_details_schema"] == event_details_schema(row["type"])
        schema = json.loads(row["event_details_schema"])
        assert set(json.loads(row["event_details"])) <= set(schema["properties"])


def test_bom_for_excel(data):
    response = _ok("retrospectives", {"bom": "true"})
    assert response["body"].startswith("\ufeff" + ",".join(COLUMNS["retrospectives"]) + "\r\n")
    assert parse_csv(response["body"][1:])[1:] == csv_rows(
        expected(bundles("acme"), "retrospectives"), "retrospectives"
    )


def test_empty_result_is_a_header_only_csv(data):
    response = _ok("incidents", {"from": "2026-04-01T00:00:00Z", "to": "2026-04-02T00:00:00Z"})
    assert response["body"] == ",".join(COLUMNS["incidents"]) + "\r\n"
    assert _disposition(response) == 'attachment; filename="incidents-2026-04-01_2026-04-02.csv"'
    assert _rows("incidents", {"severities": "HIGH", "statuses": "CLOSED"}) == []


def test_a_tenant_without_data_gets_an_empty_export(data):
    response = _ok("incident-impacts", {"format": "json"}, tenant="initech")
    body = json_body(response)
    assert body["records"] == []
    assert body["metadata"]["totalRecords"] == 0
