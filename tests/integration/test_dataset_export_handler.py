"""GET /v1/export/{dataset} through the real handler (functions/dataset_export/app.py) against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_service.api.deps import reset_dependencies
from export_service.logic.incident_records import delete_incident, event_details_schema, write_incident_bundles
from export_service.timefmt import utc_now
from tests.helpers import json_body, response_header
from tests.integration.incident_support import (
    ALL_DATASETS,
    COLUMNS,
    HOSTILE_NAME,
    SOURCES,
    at,
    bundles,
    csv_rows,
    dataset_event,
    expected,
    export_dataset,
    incident_store,
    jsonl,
    parse_csv,
)

pytestmark = pytest.mark.integration

RANGE = {"from": "2026-03-01T08:00:00Z", "to": "2026-03-03T00:00:00Z"}
RANGE_START, RANGE_END = at(RANGE["from"]), at(RANGE["to"])
DESC = json.dumps({"field": "created_at", "direction": "desc"})


@pytest.fixture(scope="module")
def data(stack) -> None:
    store = incident_store(stack)
    for tenant in ("acme", "globex"):
        write_incident_bundles(store, tenant, bundles(tenant))


def _get(dataset: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return export_dataset(dataset_event(dataset, params, **kwargs))


def _ok(dataset: str, params: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    response = _get(dataset, params, **kwargs)
    assert response["statusCode"] == 200, response["body"]
    return response


def _rows(dataset: str, params: dict[str, Any] | None = None, **kwargs: Any) -> list[dict[str, str]]:
    return jsonl(_ok(dataset, {**(params or {}), "format": "jsonl"}, **kwargs)["body"])


def _disposition(response: dict[str, Any]) -> str | None:
    return response_header(response, "Content-Disposition")


def _today() -> str:
    return utc_now().date().isoformat()


def _error(response: dict[str, Any], status: int, code: str, parameter: str | None = None) -> dict[str, Any]:
    assert response["statusCode"] == status, response["body"]
    assert response_header(response, "Content-Type") == "application/json"
    body = json_body(response)
    assert (body["status"], body["error"]) == (status, code)
    assert isinstance(body["message"], str)
    assert body["message"]
    if parameter is not None:
        assert body.get("parameter") == parameter, body
    return body


# ---- successes ------------------------------------------------------------------------------------------------


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


# ---- tenant isolation -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_globex_gets_only_globex_rows(data, dataset):
    rows = _rows(dataset, tenant="globex")
    assert rows == expected(bundles("globex"), dataset)
    assert rows
    assert not any("acme" in value for row in rows for value in row.values())


@pytest.mark.parametrize("dataset", ALL_DATASETS)
def test_globex_never_gets_acme_rows_even_naming_an_acme_incident(data, dataset):
    acme_values = {value for row in expected(bundles("acme"), dataset) for value in row.values() if len(value) > 3}
    acme_values -= {value for row in expected(bundles("globex"), dataset) for value in row.values()}
    for incident_id, params in (
        ("inc-acme-001", {"incident_id": "inc-acme-001"}),
        ("inc-acme-002", {"filter": json.dumps({"incident_id": "inc-acme-002"}), "sort": DESC}),
        ("inc-acme-004", {"incident_id": "inc-acme-004", "from": "2026-03-01T00:00:00Z", "to": "2026-03-05T00:00:00Z"}),
    ):
        response = _ok(dataset, {**params, "format": "json"}, tenant="globex")
        body = json_body(response)
        assert body["records"] == []
        assert body["metadata"]["totalRecords"] == 0
        assert body["metadata"]["filter"] == {"incident_id": incident_id}
        # the file is named by the id the caller gave, not by acme's incident number
        assert f"{dataset}-{incident_id}-" in _disposition(response)
        text = response["body"] + _disposition(response)
        assert not [value for value in acme_values - {incident_id} if value in text]


def test_the_request_cannot_name_a_tenant(data):
    _error(_get("incidents", {"tenantId": "globex"}), 400, "UNKNOWN_PARAMETER", "tenantId")


# ---- deletion -------------------------------------------------------------------------------------------------


def test_deleted_incident_leaves_its_children_and_a_deletion_event(stack, data):
    # Given a tenant of its own with acme's data
    store = incident_store(stack)
    data_set = bundles("acme")
    write_incident_bundles(store, "umbrella", data_set)
    target = data_set[1].incident  # number 102, the hostile name
    children = {name: _rows(name, tenant="umbrella") for name in ALL_DATASETS if name != "incidents"}
    # When it is deleted
    now = datetime(2026, 3, 5, 9, 0, tzinfo=UTC)
    event = delete_incident(store, "umbrella", target.id, "Ana Silva", now, "evt-umbrella-deleted-102")
    assert event is not None
    # Then the incidents export no longer has it
    incidents = _rows("incidents", tenant="umbrella")
    assert [row["id"] for row in incidents] == [
        row["id"] for row in expected(data_set, "incidents") if row["id"] != target.id
    ]
    assert _rows("incidents", {"incident_id": target.id}, tenant="umbrella") == []
    # its role assignments, impacts and retrospectives are exported unchanged, names preserved
    for name in ("incident-role-assignments", "incident-impacts", "retrospectives"):
        assert _rows(name, tenant="umbrella") == children[name]
        assert any(row["incident_id"] == target.id for row in children[name])
    # and its events too, plus the GenericResourceChange that records the deletion under its old number and name
    events = _rows("incident-events", tenant="umbrella")
    assert events[:-1] == children["incident-events"]
    deletion = events[-1]
    assert {key: value for key, value in deletion.items() if key != "event_details"} == {
        "id": "evt-umbrella-deleted-102",
        "account_id": "acct-acme",
        "organization_id": "org-acme",
        "created_at": "2026-03-05T09:00:00.000Z",
        "updated_at": "2026-03-05T09:00:00.000Z",
        "incident_id": target.id,
        "created_by_name": "Ana Silva",
        "type": "GenericResourceChange",
        "event_details_schema": event_details_schema("GenericResourceChange"),
    }
    assert json.loads(deletion["event_details"]) == {
        "operation": "deleted",
        "resource_type": "incident",
        "resource_id": target.id,
        "fields": {"number": "102", "name": HOSTILE_NAME},
    }
    one = _rows("incident-events", {"incident_id": target.id}, tenant="umbrella")
    assert one == [*expected(data_set, "incident-events", incident_id=target.id), deletion]
    # in CSV, the old name inside the JSON cell is left as it is (the cell starts with '{')
    csv_events = parse_csv(_ok("incident-events", {"incident_id": target.id}, tenant="umbrella")["body"])
    assert json.loads(csv_events[-1][9])["fields"]["name"] == HOSTILE_NAME
    # Deleting twice does nothing more
    assert delete_incident(store, "umbrella", target.id, "Ana Silva", now, "evt-umbrella-deleted-again") is None
    assert len(_rows("incident-events", tenant="umbrella")) == len(events)


# ---- limits ---------------------------------------------------------------------------------------------------


def test_without_a_state_machine_over_the_limit_is_refused_with_the_true_count(data, monkeypatch):
    monkeypatch.setenv("STATE_MACHINE_ARN", "")
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "4")
    body = _error(_get("incident-events"), 400, "EXPORT_TOO_LARGE")
    assert body["matchedRecords"] == 9
    assert body["limit"] == 4
    assert body["message"].startswith("9 records match, more than the synchronous limit of 4.")


def test_over_the_sync_limit_becomes_a_job_with_the_true_count(data, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "4")
    body = _accepted(_get("incident-events"))
    assert body["status"]["estimatedRecords"] == 9
    # the count follows the filters and the incident
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "2")
    reset_dependencies()
    body = _accepted(_get("incidents", {"statuses": "OPEN", "format": "json"}))
    assert body["status"]["estimatedRecords"] == 3
    body = _accepted(_get("incident-events", {"incident_id": "inc-acme-001", "sort": DESC}))
    assert body["status"]["estimatedRecords"] == 3
    assert body["metadata"]["filename"].startswith("incident-events-")
    assert len(_rows("incident-events", {"incident_id": "inc-acme-002"})) == 2
    body = _accepted(_get("incident-role-assignments", {"sort": DESC}, tenant="globex"))
    assert body["status"]["estimatedRecords"] == 4


def test_exactly_the_sync_limit_is_served(data, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "5")
    assert len(_rows("incidents")) == 5
    # over the limit as a whole, but one incident's rows are few enough
    _accepted(_get("incident-role-assignments"))
    assert len(_rows("incident-role-assignments", {"incident_id": "inc-acme-001"})) == 2


# ---- errors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["incident", "Incidents", "audit", "incident_events", "retrospective"])
def test_unknown_dataset_is_a_404_listing_the_datasets(data, name):
    body = _error(_get(name), 404, "NOT_FOUND", "dataset")
    assert body["datasets"] == ALL_DATASETS
    assert f"'{name}'" in body["message"]
    assert all(dataset in body["message"] for dataset in ALL_DATASETS)


@pytest.mark.parametrize(
    ("dataset", "params", "code", "parameter", "says"),
    [
        ("incidents", {"filter": "{severities:[HIGH]}"}, "INVALID_PARAMETER", "filter", "not valid JSON"),
        ("incidents", {"filter": '["HIGH"]'}, "INVALID_PARAMETER", "filter", "JSON object"),
        ("incidents", {"filter": '{"namespace":["prod"]}'}, "INVALID_PARAMETER", "filter", "'namespace'"),
        ("incidents", {"filter": '{"range":{"begin":"2026-03-01"}}'}, "INVALID_PARAMETER", "filter", "range"),
        ("incidents", {"filter": '{"range":{"start":20260301}}'}, "INVALID_PARAMETER", "filter", "range.start"),
        ("incidents", {"filter": '{"incident_id":7}'}, "INVALID_PARAMETER", "filter", "incident_id"),
        (
            "incidents",
            {"filter": '{"range":{"start":"yesterday"}}'},
            "INVALID_PARAMETER",
            "filter.range.start",
            "ISO 8601",
        ),
        ("incidents", {"sort": "created_at"}, "INVALID_PARAMETER", "sort", "not valid JSON"),
        ("incidents", {"sort": '{"field":"severity"}'}, "INVALID_PARAMETER", "sort", "sortable: created_at"),
        ("incidents", {"sort": '{"field":"name","direction":"asc"}'}, "INVALID_PARAMETER", "sort", "'name'"),
        ("incidents", {"sort": '{"field":"created_at","direction":"up"}'}, "INVALID_PARAMETER", "sort", "direction"),
        ("incidents", {"sort": '{"field":"created_at","order":"asc"}'}, "INVALID_PARAMETER", "sort", "'order'"),
        ("incidents", {"sort": '[{"field":"created_at"},{"field":"id"}]'}, "INVALID_PARAMETER", "sort", "sort"),
        ("incidents", {"severities": "CRITICAL"}, "INVALID_PARAMETER", "severities", "'CRITICAL'"),
        ("incidents", {"priorities": "P1"}, "INVALID_PARAMETER", "priorities", "'P1'"),
        ("incidents", {"statuses": "RESOLVED"}, "INVALID_PARAMETER", "statuses", "'RESOLVED'"),
        ("incidents", {"project_ids": "0,abc"}, "INVALID_PARAMETER", "project_ids", "integers"),
        ("incidents", {"filter": '{"project_ids":[1.5]}'}, "INVALID_PARAMETER", "project_ids", "integers"),
        ("incidents", {"filter": '{"severities":[]}'}, "INVALID_PARAMETER", "severities", "non-empty"),
        ("incidents", {"filter": '{"tags":[1]}'}, "INVALID_PARAMETER", "tags", "strings"),
        (
            "incidents",
            {"severities": "HIGH", "filter": '{"severities":["LOW"]}'},
            "INVALID_PARAMETER",
            "severities",
            "both",
        ),
        (
            "incidents",
            {"incident_id": "inc-acme-001", "filter": '{"incident_id":"inc-acme-002"}'},
            "INVALID_PARAMETER",
            "incident_id",
            "both",
        ),
        ("incident-events", {"severities": "HIGH"}, "INVALID_PARAMETER", "severities", "'incidents'"),
        ("retrospectives", {"filter": '{"tags":["dns"]}'}, "INVALID_PARAMETER", "tags", "'incidents'"),
        ("incident-impacts", {"project_ids": "24"}, "INVALID_PARAMETER", "project_ids", "'incidents'"),
        ("incidents", {"incident_id": ""}, "INVALID_PARAMETER", "incident_id", "empty"),
        ("incidents", {"from": "2026-03-03T00:00:00Z", "to": "2026-03-01T00:00:00Z"}, "INVALID_RANGE", "from", "after"),
        (
            "incidents",
            {"range_start": "2026-03-03", "range_end": "2026-03-02"},
            "INVALID_RANGE",
            "range_start",
            "after",
        ),
        ("incidents", {"from": "2999-01-01T00:00:00Z"}, "INVALID_RANGE", "from", "'to'"),
        (
            "incidents",
            {"filter": '{"range":{"start":"2026-03-03T00:00:00Z","end":"2026-03-01T00:00:00Z"}}'},
            "INVALID_RANGE",
            "filter.range.start",
            "after",
        ),
        ("incidents", {"from": "2026-03-01", "from_time": "2026-03-01"}, "INVALID_PARAMETER", "from_time", "both"),
        (
            "incidents",
            {"to": "2026-03-02", "filter": '{"range":{"end":"2026-03-02"}}'},
            "INVALID_PARAMETER",
            "filter.range.end",
            "both",
        ),
        ("incidents", {"from": "03/01/2026"}, "INVALID_PARAMETER", "from", "ISO 8601"),
        ("incidents", {"to_time": "2026-03-02T25:00:00Z"}, "INVALID_PARAMETER", "to_time", "ISO 8601"),
        ("incidents", {"format": "xml"}, "INVALID_PARAMETER", "format", "format"),
        ("incidents", {"bom": "maybe"}, "INVALID_PARAMETER", "bom", "bom"),
        ("incidents", {"namespace": "production"}, "UNKNOWN_PARAMETER", "namespace", "'namespace'"),
        ("incident-events", {"incidentId": "inc-acme-001"}, "UNKNOWN_PARAMETER", "incidentId", "incident_id"),
        ("incidents", {"from": ["2026-03-01", "2026-03-02"]}, "INVALID_PARAMETER", "from", "2 times"),
        ("incidents", {"incident_id": ["inc-acme-001", "x"]}, "INVALID_PARAMETER", "incident_id", "2 times"),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 30 else None,
)
def test_bad_input_is_a_4xx_json_error_naming_the_parameter(data, dataset, params, code, parameter, says):
    body = _error(_get(dataset, params), 400, code, parameter)
    assert says in body["message"], body["message"]


# BUG (see tests/unit/test_dataset_request.py): these come back as 500 INTERNAL_ERROR.
@pytest.mark.parametrize(
    ("params", "parameters"),
    [
        ({"filter": "[" * 1000}, {"filter"}),
        ({"sort": '{"field":' * 1000}, {"sort"}),
        ({"filter": '{"project_ids":[' + "1" * 5000 + "]}"}, {"filter", "project_ids"}),
        ({"sort": "9" * 5000}, {"sort"}),
        ({"project_ids": "24,--1"}, {"project_ids"}),
        ({"project_ids": "²"}, {"project_ids"}),
    ],
    ids=["deep-filter", "deep-sort", "huge-number-in-filter", "huge-number-sort", "double-minus", "superscript"],
)
def test_unreadable_input_is_a_400_not_a_500(data, params, parameters):
    response = _get("incidents", params)
    body = _error(response, 400, "INVALID_PARAMETER")
    assert body["parameter"] in parameters


def test_key_without_incidents_read_is_403(data):
    response = _get("incidents", permissions="AUDIT_READ,EXPORTS_READ")
    assert _error(response, 403, "FORBIDDEN") == {
        "status": 403,
        "error": "FORBIDDEN",
        "message": "this API key lacks the INCIDENTS_READ permission",
    }
    # checked before the dataset or the filter is even looked at
    _error(_get("nope", {"filter": "{"}, permissions="AUDIT_READ"), 403, "FORBIDDEN")


@pytest.mark.parametrize(
    "context",
    [None, {}, {"principalId": "ak_acme_incidents", "integrationLatency": 0}, {"tenantId": "acme"}],
    ids=["no-authorizer", "empty", "no-tenant", "no-key"],
)
def test_without_authorizer_context_is_401(data, context):
    response = _get("incidents", context=context)
    assert _error(response, 401, "UNAUTHORIZED") == {
        "status": 401,
        "error": "UNAUTHORIZED",
        "message": "request was not authorised",
    }


response_stage_prefix = ""


def _accepted(response: dict) -> dict:
    """A synchronous export over the limit became a job: 202, Location, the ExportJob body."""
    assert response["statusCode"] == 202, response["body"]
    headers = {
        **(response.get("headers") or {}),
        **{k: v[-1] for k, v in (response.get("multiValueHeaders") or {}).items()},
    }
    body = json.loads(response["body"])
    assert body["kind"] == "ExportJob" and body["status"]["state"] == "processing"
    # Location keeps the stage the caller used (the sample API Gateway event is on stage "prod")
    stage = response_stage_prefix
    assert headers["Location"] == f"{stage}/v1/exports/{body['metadata']['jobId']}"
    return body
