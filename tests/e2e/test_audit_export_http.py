"""GET /v1/audit/export over HTTP against the local stack, checked against what the generator wrote."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
import requests

from export_service.logic.checksum import record_checksum
from export_service.models.audit import AUDIT_COLUMNS
from tests.e2e.conftest import ACME, ACME_INCIDENTS_ONLY, DEMO_END, GLOBEX, ROOT, SYNC_LIMIT, Stack, demo_records
from tests.helpers import assert_estimate

pytestmark = pytest.mark.e2e


def _get(http: requests.Session, stack: Stack, token: str, **params: str) -> requests.Response:
    return http.get(stack.export_url, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=60)


def _rows(body: str) -> list[dict[str, str]]:
    reader = csv.reader(io.StringIO(body, newline=""))
    header = next(reader)
    assert header == list(AUDIT_COLUMNS)
    return [dict(zip(header, row, strict=True)) for row in reader]


def _as_csv(record: dict[str, str]) -> dict[str, str]:
    # Independent of the product's code: OWASP's list of cell openings a spreadsheet runs as a formula.
    def cell(value: str) -> str:
        return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r", "\n") else value

    return {column: cell(record[column]) for column in AUDIT_COLUMNS}


def _in_range(records: list[dict[str, str]], start: str, end: str) -> list[dict[str, str]]:
    return [r for r in records if start <= r["timestamp"] <= end]


def test_full_csv_export_equals_written_records_row_by_row(stack, http, expected):
    # Given globex's whole history (under the sync limit), when exported as CSV without bounds
    response = _get(http, stack, GLOBEX)
    # Then every row equals the written record, in time order, with formulas neutralised
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    assert response.headers["Content-Disposition"] == f'attachment; filename="audit-{today}.csv"'
    rows = demo_records(_rows(response.content.decode("utf-8")))
    assert len(rows) == len(expected["globex"]) == 4000
    for row, record in zip(rows, expected["globex"], strict=True):
        assert row == _as_csv(record)


def test_every_exported_checksum_verifies(stack, http):
    response = _get(http, stack, GLOBEX, format="json")
    records = response.json()["records"]
    assert records
    assert all(record["checksum"] == record_checksum(record) for record in records)


def test_hostile_cells_are_neutralised_in_csv_and_kept_verbatim_in_json(stack, http, expected):
    hostile = [r for r in expected["globex"] if r["resource"][:1] in ("=", "+", "-", "@", "\t")]
    assert hostile, "the generator writes a few formula-like resource names"
    target = hostile[0]
    params = {"from": target["timestamp"], "to": target["timestamp"]}
    csv_rows = _rows(_get(http, stack, GLOBEX, **params).text)
    json_records = _get(http, stack, GLOBEX, format="json", **params).json()["records"]
    assert [row["id"] for row in csv_rows] == [target["id"]]
    assert csv_rows[0]["resource"] == "'" + target["resource"]
    assert json_records[0]["resource"] == target["resource"]


def test_json_envelope_with_bounds(stack, http, expected):
    _start, end = stack.window
    lo, hi = f"{end - timedelta(days=10):%Y-%m-%dT%H:%M:%S.000Z}", f"{end - timedelta(days=3):%Y-%m-%dT%H:%M:%S.000Z}"
    response = _get(http, stack, ACME, format="json", **{"from": lo, "to": hi})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Content-Disposition"] == (f'attachment; filename="audit-{lo[:10]}_{hi[:10]}.json"')
    body = response.json()
    want = _in_range(expected["acme"], lo, hi)
    assert body["apiVersion"] == "v1" and body["kind"] == "AuditExport"
    meta = body["metadata"]
    assert (meta["from"], meta["to"], meta["totalRecords"], meta["format"]) == (lo, hi, len(want), "json")
    assert meta["exportedAt"].endswith("Z")
    assert body["records"] == want


def test_jsonl_and_audit_event_range_names(stack, http, expected):
    start, _end = stack.window
    lo, hi = (
        f"{start + timedelta(days=5):%Y-%m-%dT%H:%M:%SZ}",
        f"{start + timedelta(days=9, hours=12):%Y-%m-%dT%H:%M:%SZ}",
    )
    response = _get(http, stack, ACME, format="jsonl", range_start=lo, range_end=hi)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    want = _in_range(expected["acme"], lo.replace("Z", ".000Z"), hi.replace("Z", ".000Z"))
    assert [json.loads(line) for line in lines] == want
    assert len(want) > 100


def test_bounds_are_inclusive_to_the_millisecond(stack, http, expected):
    first, last = expected["acme"][100], expected["acme"][140]
    rows = _rows(_get(http, stack, ACME, **{"from": first["timestamp"], "to": last["timestamp"]}).text)
    assert [row["id"] for row in rows] == [r["id"] for r in expected["acme"][100:141]]


@pytest.mark.parametrize(
    "filters",
    [
        {"action": "runbook.execute"},
        {"namespace": "staging"},
        {"user": "USER0"},
        {"user": "USER1", "namespace": "production"},
        {"action": "incident.resolve", "namespace": "production"},
        {"action": "user.login", "user": "USER2", "namespace": "development"},
        {"action": "no.such.action"},
    ],
)
def test_filters_match_an_independent_computation(stack, http, expected, filters):
    users = sorted({r["user"] for r in expected["acme"]})
    params = {key: (users[int(value[4:])] if value.startswith("USER") else value) for key, value in filters.items()}
    want = [r for r in expected["acme"] if all(r[key] == value for key, value in params.items())]
    response = _get(http, stack, ACME, format="json", **params)
    assert response.status_code == 200, response.text
    assert response.json()["records"] == want


def test_three_header_forms_are_accepted(stack, http):
    key_id, secret = ACME.split(".", 1)
    forms = [{"Authorization": f"Bearer {ACME}"}, {"apikey": ACME}, {"Authorization": f"{key_id}:{secret}"}]
    bodies = set()
    for headers in forms:
        response = http.get(stack.export_url, params={"format": "jsonl", "to": "2026-03-10"}, headers=headers)
        assert response.status_code == 200, (headers, response.text)
        bodies.add(response.text)
    assert len(bodies) == 1


def test_byte_order_mark_on_request(stack, http):
    response = _get(http, stack, GLOBEX, bom="true", to="2026-03-10")
    assert response.content.startswith(b"\xef\xbb\xbfid,timestamp,")


def test_a_tenant_never_sees_another_tenants_records(stack, http, expected):
    acme_ids = {r["id"] + r["timestamp"] for r in expected["acme"]}
    acme_users = {r["user"] for r in expected["acme"]}
    for params in ({}, {"user": sorted(acme_users)[0]}, {"action": "runbook.execute"}, {"namespace": "production"}):
        records = demo_records(_get(http, stack, GLOBEX, format="json", **params).json()["records"])
        assert not {r["id"] + r["timestamp"] for r in records} & acme_ids
        assert all(r["user"].endswith("@globex.example.com") for r in records)


def test_over_the_sync_limit_is_accepted_as_a_job(stack, http, expected):
    # The whole job, downloaded and checked row by row, is in test_export_jobs_http.py
    response = _get(http, stack, ACME, to=DEMO_END)  # the demo records (the tests' own exports are audited after)
    assert response.status_code == 202
    body = response.json()
    assert body["kind"] == "ExportJob"
    assert len(expected["acme"]) == 6000 > SYNC_LIMIT
    assert_estimate(body["status"], len(expected["acme"]), SYNC_LIMIT)
    assert response.headers["Location"] == f"/v1/exports/{body['metadata']['jobId']}"


@pytest.mark.parametrize(
    ("params", "code", "parameter"),
    [
        ({"from": "yesterday"}, "INVALID_PARAMETER", "from"),
        ({"to": "2026-13-01T00:00:00Z"}, "INVALID_PARAMETER", "to"),
        ({"range_start": "01/03/2026"}, "INVALID_PARAMETER", "range_start"),
        ({"from": "2026-05-01", "to": "2026-04-01"}, "INVALID_RANGE", "from"),
        ({"range_start": "2026-05-01T00:00:00Z", "range_end": "2026-04-01T00:00:00Z"}, "INVALID_RANGE", "range_start"),
        ({"from": "2026-04-01", "range_start": "2026-04-01"}, "INVALID_PARAMETER", "range_start"),
        ({"format": "xml"}, "INVALID_PARAMETER", "format"),
        ({"fromm": "2026-04-01"}, "UNKNOWN_PARAMETER", "fromm"),
        ({"bom": "maybe"}, "INVALID_PARAMETER", "bom"),
    ],
)
def test_bad_input_is_a_400_naming_the_parameter(stack, http, params, code, parameter):
    response = _get(http, stack, ACME, **params)
    assert response.status_code == 400
    body = response.json()
    assert (body["status"], body["error"], body["parameter"]) == (400, code, parameter)
    assert parameter in body["message"]


def test_repeated_parameter_is_rejected(stack, http):
    response = http.get(f"{stack.export_url}?action=a&action=b", headers={"apikey": ACME})
    assert response.status_code == 400
    assert response.json()["parameter"] == "action"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer ak_demo_acme.wrong-secret-0000"},
        {"apikey": "ak_nosuchkey.demo-acme-secret-0001"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        {"apikey": "garbage"},
    ],
)
def test_missing_or_invalid_key_is_401(stack, http, headers):
    response = http.get(stack.export_url, headers=headers)
    assert response.status_code == 401
    assert response.json()["error"] == "UNAUTHORIZED"


def test_key_without_audit_read_is_403(stack, http):
    response = _get(http, stack, ACME_INCIDENTS_ONLY)
    assert response.status_code == 403
    assert response.json() == {
        "status": 403,
        "error": "FORBIDDEN",
        "message": "this API key lacks the AUDIT_READ permission",
    }


def test_key_tool_create_use_revoke(stack, http):
    def keys(*args: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "devtools.keys", "--endpoint", stack.dynamodb_endpoint, *args],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout

    # Given a key created with the tool (secret shown once)
    created = keys("create", "--tenant", "initech", "--permissions", "AUDIT_READ", "--name", "e2e")
    token = next(line.split()[1] for line in created.splitlines() if line.startswith("token:"))
    key_id = token.split(".")[0]
    assert _get(http, stack, token, to="2026-03-10").status_code == 200
    listed = keys("list", "--tenant", "initech")
    assert key_id in listed and token.split(".")[1] not in listed
    # When it is revoked, then it is refused at once
    keys("revoke", key_id)
    assert _get(http, stack, token, to="2026-03-10").status_code == 401


def test_unknown_route_is_404_json(stack, http):
    response = http.get(f"{stack.url}/v1/nope", headers={"apikey": ACME})
    assert response.status_code == 404
    assert response.json()["error"] == "NOT_FOUND"


@pytest.mark.parametrize(
    "query",
    [
        "from=" + "9" * 5000,
        "from=%00",
        "user=%E2%80%AE%F0%9F%98%80",
        "namespace=" + "n" * 3000,
        "format=",
        "from=2026-02-30",
        "to=0000-01-01",
        "from=2026-01-01T00:00:00%2B25:00",
        "from=-2026-01-01",
        "action=%27%22%3B--",
    ],
)
def test_nothing_a_caller_sends_causes_a_5xx(stack, http, query):
    response = http.get(f"{stack.export_url}?{query}", headers={"apikey": ACME})
    assert response.status_code < 500, response.text
    assert "Traceback" not in response.text
