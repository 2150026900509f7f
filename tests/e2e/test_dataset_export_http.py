"""GET /v1/export/{dataset} over HTTP against the local stack, every value checked against the generated data."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime

import jsonschema
import pytest
import requests

from export_service.models.incidents import DATASETS, Dataset
from tests.e2e.conftest import ACME, ACME_INCIDENTS_ONLY, GLOBEX, ROOT, SYNC_LIMIT, Stack
from tests.helpers import assert_estimate

pytestmark = pytest.mark.e2e

ALL = [d.value for d in Dataset]
# OWASP's formula openings, independent of the product's code
_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _get(http: requests.Session, stack: Stack, token: str, dataset: str, **params: str) -> requests.Response:
    return http.get(f"{stack.url}/v1/export/{dataset}", params=params, headers={"apikey": token}, timeout=60)


def _csv_rows(text: str, dataset: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    assert next(reader) == list(DATASETS[Dataset(dataset)].columns)
    return [dict(zip(DATASETS[Dataset(dataset)].columns, row, strict=True)) for row in reader]


def _spreadsheet(row: dict[str, str]) -> dict[str, str]:
    return {key: ("'" + value if value[:1] in _TRIGGERS else value) for key, value in row.items()}


def _window(rows: list[dict[str, str]], lo: str, hi: str) -> list[dict[str, str]]:
    return [row for row in rows if lo <= row["created_at"] <= hi]


@pytest.mark.parametrize("dataset", ALL)
@pytest.mark.parametrize("fmt", ["csv", "json", "jsonl"])
def test_every_dataset_in_every_format_equals_the_generated_rows(stack, http, expected_rows, dataset, fmt):
    # Given globex's whole history of a dataset (under the sync limit), when downloaded in a format
    want = expected_rows["globex"][dataset]
    assert 0 < len(want) <= SYNC_LIMIT
    response = _get(http, stack, GLOBEX, dataset, format=fmt)
    assert response.status_code == 200, response.text
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    assert response.headers["Content-Disposition"] == f'attachment; filename="{dataset}-{today}.{fmt}"'
    # Then header order and every value match, row for row
    if fmt == "csv":
        assert response.headers["Content-Type"].startswith("text/csv")
        assert _csv_rows(response.content.decode("utf-8"), dataset) == [_spreadsheet(row) for row in want]
    elif fmt == "json":
        body = response.json()
        assert (body["apiVersion"], body["kind"]) == ("v1", "DatasetExport")
        meta = body["metadata"]
        assert (meta["dataset"], meta["source"], meta["totalRecords"]) == (
            dataset,
            DATASETS[Dataset(dataset)].source,
            len(want),
        )
        assert body["records"] == want
        assert all(list(record) == list(DATASETS[Dataset(dataset)].columns) for record in body["records"])
    else:
        assert [json.loads(line) for line in response.text.splitlines()] == want


def test_json_columns_round_trip_and_event_details_validate(stack, http):
    events = [
        json.loads(line)
        for line in _get(http, stack, GLOBEX, "incident-events", format="jsonl").text.split("\n")
        if line
    ]
    types = set()
    for event in events:
        details, schema = json.loads(event["event_details"]), json.loads(event["event_details_schema"])
        jsonschema.validate(details, schema)
        types.add(event["type"])
    assert len(types) >= 10
    for retro in [
        json.loads(line)
        for line in _get(http, stack, GLOBEX, "retrospectives", format="jsonl").text.split("\n")
        if line
    ]:
        assert isinstance(json.loads(retro["tags"]), list)
        assert all({"title", "body", "question_type_id"} <= set(q) for q in json.loads(retro["questions"]))


def test_incident_columns_have_seed_types(stack, http):
    rows = [
        json.loads(line) for line in _get(http, stack, GLOBEX, "incidents", format="jsonl").text.split("\n") if line
    ]
    for row in rows:
        for column in DATASETS[Dataset.INCIDENTS].datetime_columns:
            if row[column]:
                assert row[column].endswith("Z") and datetime.fromisoformat(row[column]).tzinfo is not None
        assert row["active_duration"].startswith("PT")


@pytest.mark.parametrize(
    ("params", "predicate"),
    [
        ({"severities": "HIGH"}, lambda f: f["severity"] == "HIGH"),
        ({"severities": "LOW,MEDIUM"}, lambda f: f["severity"] in ("LOW", "MEDIUM")),
        ({"priorities": "HIGH", "statuses": "OPEN"}, lambda f: f["priority"] == "HIGH" and f["status"] == "OPEN"),
        ({"statuses": "CLOSED"}, lambda f: f["status"] == "CLOSED"),
        ({"tags": "PROD"}, lambda f: "PROD" in f["tags"]),
        ({"project_ids": "0,24"}, lambda f: f["project_id"] in (0, 24)),
        (
            {"filter": json.dumps({"severities": ["HIGH", "MEDIUM"], "statuses": ["OPEN"]})},
            lambda f: f["severity"] in ("HIGH", "MEDIUM") and f["status"] == "OPEN",
        ),
    ],
)
def test_incident_filters_match_an_independent_computation(
    stack, http, expected_rows, incident_facts, params, predicate
):
    facts = incident_facts["acme"]
    want = [row for row in expected_rows["acme"]["incidents"] if predicate(facts[row["id"]])]
    response = _get(http, stack, ACME, "incidents", format="json", **params)
    assert response.status_code == 200, response.text
    assert response.json()["records"] == want


def test_repeated_list_parameters_are_a_union(stack, http, expected_rows, incident_facts):
    response = http.get(
        f"{stack.url}/v1/export/incidents?format=jsonl&severities=LOW&severities=HIGH", headers={"apikey": GLOBEX}
    )
    want = [
        r
        for r in expected_rows["globex"]["incidents"]
        if incident_facts["globex"][r["id"]]["severity"] in ("LOW", "HIGH")
    ]
    assert [json.loads(line) for line in response.text.splitlines()] == want


@pytest.mark.parametrize("dataset", ALL)
def test_one_incident_scope_for_every_dataset_and_filename(stack, http, expected_rows, dataset):
    incident = expected_rows["acme"]["incidents"][len(expected_rows["acme"]["incidents"]) // 2]
    want = [
        row
        for row in expected_rows["acme"][dataset]
        if (row["id"] if dataset == "incidents" else row["incident_id"]) == incident["id"]
    ]
    lo, hi = "2026-01-01T00:00:00.000Z", "2026-12-31T00:00:00.000Z"
    response = _get(http, stack, ACME, dataset, format="json", incident_id=incident["id"], **{"from": lo, "to": hi})
    assert response.status_code == 200
    assert response.json()["records"] == want
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="{dataset}-{incident["number"]}-2026-01-01_2026-12-31.json"'
    )


def test_validio_filter_range_and_descending_sort(stack, http, expected_rows):
    rows = expected_rows["acme"]["incident-impacts"]
    lo, hi = rows[len(rows) // 4]["created_at"], rows[len(rows) // 2]["created_at"]
    response = _get(
        http,
        stack,
        ACME,
        "incident-impacts",
        format="jsonl",
        filter=json.dumps({"range": {"start": lo, "end": hi}}),
        sort=json.dumps({"field": "created_at", "direction": "desc"}),
    )
    assert response.status_code == 200, response.text
    got = [json.loads(line) for line in response.text.splitlines()]
    assert got == list(reversed(_window(rows, lo, hi)))
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="incident-impacts-{lo[:10]}_{hi[:10]}.jsonl"'
    )


def test_seed_time_parameter_names(stack, http, expected_rows):
    rows = expected_rows["globex"]["incident-role-assignments"]
    lo, hi = rows[10]["created_at"], rows[60]["created_at"]
    for names in (("from", "to"), ("from_time", "to_time"), ("range_start", "range_end")):
        response = _get(http, stack, GLOBEX, "incident-role-assignments", format="json", **{names[0]: lo, names[1]: hi})
        assert response.json()["records"] == _window(rows, lo, hi), names


@pytest.mark.parametrize("dataset", ["incidents", "retrospectives"])
def test_csv_cells_are_neutralised(stack, http, expected_rows, dataset):
    # Incident names and retrospective summaries are where the generator puts what users typed as formulas
    hostile = [r for r in expected_rows["globex"][dataset] if any(v[:1] in _TRIGGERS for v in r.values())]
    assert hostile, "the generator writes a few formula-like values"
    rows = _csv_rows(_get(http, stack, GLOBEX, dataset).text, dataset)
    by_id = {row["id"]: row for row in rows}
    for row in hostile:
        assert by_id[row["id"]] == _spreadsheet(row)
        assert any(value.startswith("'") for value in by_id[row["id"]].values())


def test_a_tenant_never_sees_another_tenants_rows(stack, http, expected_rows):
    acme_ids = {row["id"] for dataset in ALL for row in expected_rows["acme"][dataset]}
    acme_incident = expected_rows["acme"]["incidents"][0]["id"]
    for dataset in ALL:
        for params in ({}, {"incident_id": acme_incident}):
            response = _get(http, stack, GLOBEX, dataset, format="json", **params)
            assert response.status_code == 200
            assert not {row["id"] for row in response.json()["records"]} & acme_ids


def test_over_the_sync_limit_is_accepted_as_a_job(stack, http, expected_rows):
    want = len(expected_rows["acme"]["incident-events"])
    assert want > SYNC_LIMIT
    response = _get(http, stack, ACME, "incident-events")
    assert response.status_code == 202
    assert_estimate(response.json()["status"], want, SYNC_LIMIT)


@pytest.mark.parametrize(
    ("dataset", "params", "status", "parameter"),
    [
        ("incidentz", {}, 404, "dataset"),
        ("incidents", {"filter": "{not json"}, 400, "filter"),
        ("incidents", {"filter": "[1,2]"}, 400, "filter"),
        ("incidents", {"filter": json.dumps({"severity": ["HIGH"]})}, 400, "filter"),
        ("incidents", {"filter": json.dumps({"severities": "HIGH", "range": {"start": 5}})}, 400, "filter"),
        ("incidents", {"filter": json.dumps({"project_ids": ["x"]})}, 400, "project_ids"),
        ("incidents", {"sort": json.dumps({"field": "name", "direction": "asc"})}, 400, "sort"),
        ("incidents", {"sort": json.dumps({"field": "created_at", "direction": "sideways"})}, 400, "sort"),
        ("incidents", {"sort": "created_at"}, 400, "sort"),
        ("incidents", {"severities": "CRITICAL"}, 400, "severities"),
        ("incidents", {"statuses": "open"}, 400, "statuses"),
        ("incidents", {"project_ids": "1.5"}, 400, "project_ids"),
        ("incidents", {"from": "2026-05-01", "to": "2026-04-01"}, 400, "from"),
        (
            "incidents",
            {"from": "2026-05-01", "filter": json.dumps({"range": {"start": "2026-05-01"}})},
            400,
            "filter.range.start",
        ),
        ("incidents", {"from_time": "not-a-time"}, 400, "from_time"),
        ("incident-events", {"severities": "HIGH"}, 400, "severities"),
        ("incidents", {"format": "xlsx"}, 400, "format"),
        ("incidents", {"limit": "10"}, 400, "limit"),
    ],
)
def test_bad_input_names_the_parameter(stack, http, dataset, params, status, parameter):
    response = _get(http, stack, ACME, dataset, **params)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["parameter"] == parameter and body["status"] == status
    if status == 404:
        assert body["datasets"] == ALL


def test_key_without_incidents_read_is_403(stack, http):
    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "devtools.keys",
            "--endpoint",
            stack.dynamodb_endpoint,
            "create",
            "--tenant",
            "acme",
            "--permissions",
            "AUDIT_READ",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    token = next(line.split()[1] for line in created.splitlines() if line.startswith("token:"))
    for dataset in ALL:
        response = _get(http, stack, token, dataset)
        assert response.status_code == 403
        assert "INCIDENTS_READ" in response.json()["message"]
    assert _get(http, stack, ACME_INCIDENTS_ONLY, "incidents", to="2026-03-10").status_code == 200
