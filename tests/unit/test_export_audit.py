"""The audit export through the export pipeline against an in-memory store: bodies, limits (never truncated) and
filenames."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from export_service.errors import ExportTooLargeError
from export_service.logic.audit_export import AuditExportRequest, build_audit_request
from export_service.logic.audit_records import seal_audit_record
from export_service.logic.datasets import AUDIT_EXPORT
from export_service.logic.export_engine import ExportBody, ExportLimits, TooLarge, export_inline, lambda_payload_size
from export_service.models.audit import AUDIT_COLUMNS, AuditExportQuery, NewAuditRecord
from export_service.models.export import ExportFormat
from tests.helpers import CSV_HEADER
from tests.unit.fakes import FakeAuditStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)
LIMITS = ExportLimits(max_records=10_000, max_body_bytes=5_000_000, count_cap=1_000_000)


def _record(rid: str, ts: str, action: str, user: str, namespace: str = "production") -> dict[str, str]:
    new = NewAuditRecord(
        id=rid,
        timestamp=datetime.fromisoformat(ts),
        action=action,
        user=user,
        role="admin",
        resource="runbook-disk-cleanup",
        resourceType="Runbook",
        namespace=namespace,
        sourceIP="10.0.1.10",
    )
    return seal_audit_record(new).model_dump()


ACME = [
    _record("audit-20260302-002", "2026-03-02T09:30:00Z", "runbook.execute", "admin@empresa.com"),
    _record("audit-20260301-001", "2026-03-01T00:05:00Z", "runbook.create", "admin@empresa.com"),
    _record("audit-20260301-002", "2026-03-01T01:15:00Z", "incident.acknowledge", "carlos.silva@empresa.com"),
    _record("audit-20260301-003", "2026-03-01T23:59:59.999Z", "user.login", "carlos.silva@empresa.com", "staging"),
    _record("audit-20260302-001", "2026-03-02T00:00:00Z", "user.login", "admin@empresa.com"),
]
GLOBEX = [_record("audit-20260301-001", "2026-03-01T12:00:00Z", "user.login", "eve@globex.example.com")]
IN_ORDER = sorted(ACME, key=lambda row: (row["timestamp"], row["id"]))


@pytest.fixture
def store() -> FakeAuditStore:
    return FakeAuditStore({"acme": ACME, "globex": GLOBEX})


def _request(fmt=ExportFormat.CSV, start=None, end=None, bom=False, tenant="acme", **filters):
    params = {"format": fmt.value, "from": start, "to": end, "bom": bom, **filters}
    query = AuditExportQuery.model_validate({name: value for name, value in params.items() if value is not None})
    return build_audit_request(tenant, query, NOW)


def export_audit(request: AuditExportRequest, store: FakeAuditStore, limits: ExportLimits, now: datetime) -> ExportBody:
    """The pipeline's inline export; a TooLarge result raised as the error a caller without jobs gets."""
    query = AuditExportQuery()
    result = export_inline(AUDIT_EXPORT, request, query, request.fmt, SimpleNamespace(audit=store), limits, now)
    if isinstance(result, TooLarge):
        raise result.error
    return result


def _csv_line(row: dict[str, str]) -> str:
    return ",".join(row[column] for column in AUDIT_COLUMNS) + "\r\n"


def test_csv_export_of_a_bounded_range_with_inclusive_bounds(store):
    result = export_audit(_request(start="2026-03-01T00:05:00Z", end="2026-03-02T00:00:00Z"), store, LIMITS, NOW)
    assert result.body == CSV_HEADER + "\r\n" + "".join(_csv_line(row) for row in IN_ORDER[:4])
    assert result.records == 4
    assert result.content_type == "text/csv; charset=utf-8"
    assert result.filename == "audit-2026-03-01_2026-03-02.csv"
    assert list(csv.DictReader(io.StringIO(result.body, newline=""))) == IN_ORDER[:4]


def test_json_envelope(store):
    result = export_audit(_request(ExportFormat.JSON, "2026-03-01", "2026-03-01T23:59:59.999Z"), store, LIMITS, NOW)
    assert json.loads(result.body) == {
        "apiVersion": "v1",
        "kind": "AuditExport",
        "metadata": {
            "exportedAt": "2026-03-19T16:00:00.000Z",
            "from": "2026-03-01T00:00:00.000Z",
            "to": "2026-03-01T23:59:59.999Z",
            "totalRecords": 3,
            "format": "json",
        },
        "records": IN_ORDER[:3],
    }
    assert (result.content_type, result.filename) == ("application/json", "audit-2026-03-01_2026-03-01.json")


def test_json_lines(store):
    result = export_audit(_request(ExportFormat.JSONL, "2026-03-02", "2026-03-03"), store, LIMITS, NOW)
    assert result.body.endswith("\n")
    assert [json.loads(line) for line in result.body.splitlines()] == IN_ORDER[3:]
    assert (result.content_type, result.filename) == ("application/x-ndjson", "audit-2026-03-02_2026-03-03.jsonl")


def test_filters_reach_the_store(store):
    result = export_audit(
        _request(ExportFormat.JSONL, "2026-03-01", "2026-03-03", action="user.login"), store, LIMITS, NOW
    )
    assert store.plans[-1][3] == {"action": "user.login"}
    assert [json.loads(line)["id"] for line in result.body.splitlines()] == ["audit-20260301-003", "audit-20260302-001"]


def test_bom_starts_the_csv(store):
    result = export_audit(_request(start="2026-03-02", end="2026-03-03", bom=True), store, LIMITS, NOW)
    assert result.body.startswith("\ufeff" + CSV_HEADER + "\r\n")


def test_unbounded_export_plans_only_the_tenants_days_and_is_named_by_today(store):
    result = export_audit(_request(), store, LIMITS, NOW)
    last_moment = datetime(2026, 3, 2, 23, 59, 59, 999999, tzinfo=UTC)
    assert store.plans == [("acme", datetime(2026, 3, 1, tzinfo=UTC), last_moment, {})]
    assert result.records == 5
    assert result.filename == "audit-2026-03-19.csv"


def test_only_to_given_is_named_from_the_first_day(store):
    result = export_audit(_request(ExportFormat.JSONL, end="2026-03-01T12:00:00Z"), store, LIMITS, NOW)
    assert result.filename == "audit-2026-03-01_2026-03-01.jsonl"
    assert result.records == 2


def test_a_range_far_wider_than_the_data_plans_only_the_data_days(store):
    result = export_audit(_request(start="1970-01-01", end="9999-12-31T23:59:59Z"), store, LIMITS, NOW)
    assert [(plan[1].date(), plan[2].date()) for plan in store.plans] == [
        (datetime(2026, 3, 1).date(), datetime(2026, 3, 2).date())
    ]
    assert result.records == 5
    assert result.filename == "audit-1970-01-01_9999-12-31.csv"


def test_only_from_given_is_named_up_to_today(store):
    assert export_audit(_request(start="2026-03-02"), store, LIMITS, NOW).filename == "audit-2026-03-02_2026-03-19.csv"


def test_tenant_without_records(store):
    request = _request(tenant="initech")
    result = export_audit(request, store, LIMITS, NOW)
    assert (result.body, result.records, result.filename) == (CSV_HEADER + "\r\n", 0, "audit-2026-03-19.csv")
    # A tenant with no records has no bounds: nothing is queried at all.
    assert store.plans == []


def test_over_the_record_limit_is_an_error_with_the_true_count(store):
    with pytest.raises(ExportTooLargeError) as caught:
        export_audit(_request(start="2026-03-01"), store, ExportLimits(3, 5_000_000, 1_000_000), NOW)
    assert caught.value.to_body() == {
        "status": 400,
        "error": "EXPORT_TOO_LARGE",
        "message": "5 records match, more than the synchronous limit of 3. Narrow 'from'/'to' or add filters "
        "(action, user, namespace, event_type, sub_type, system_source, auditee_id) and export in several requests.",
        "matchedRecords": 5,
        "limit": 3,
    }


def test_exactly_the_record_limit_is_served(store):
    result = export_audit(_request(start="2026-03-01"), store, ExportLimits(5, 5_000_000, 1_000_000), NOW)
    assert result.records == 5


def test_count_stops_at_the_cap(store):
    with pytest.raises(ExportTooLargeError) as caught:
        export_audit(_request(start="2026-03-01"), store, ExportLimits(2, 5_000_000, 4), NOW)
    assert caught.value.details == {"matchedRecords": 4, "limit": 2}
    assert caught.value.message.startswith("at least 4 records match")


def test_the_body_limit_counts_utf8_bytes_not_characters(store):
    # Given a limit the body fits in characters but not in UTF-8 bytes (every 'é' is two bytes)
    result = export_audit(_request(start="2026-03-01"), store, LIMITS, NOW)
    chars = len(result.body)
    wide = FakeAuditStore({"acme": [dict(row, resource="é" * 50) for row in store._records["acme"]]})
    body = export_audit(_request(start="2026-03-01"), wide, LIMITS, NOW).body
    limit = len(body) + 10
    assert len(body.encode("utf-8")) > limit > chars
    # Then the export is refused rather than answered over the limit
    with pytest.raises(ExportTooLargeError):
        export_audit(_request(start="2026-03-01"), wide, ExportLimits(10_000, limit, 1_000_000), NOW)


def test_over_the_body_limit_is_an_error_with_the_true_count(store):
    with pytest.raises(ExportTooLargeError) as caught:
        export_audit(_request(start="2026-03-01"), store, ExportLimits(10_000, 1_000, 1_000_000), NOW)
    body = caught.value.to_body()
    assert body["error"] == "EXPORT_TOO_LARGE"
    assert body["matchedRecords"] == 5
    assert body["message"].startswith(
        "the export is larger than a synchronous response allows (1,000 bytes); 5 records match."
    )


def test_the_body_limit_counts_the_lambda_serialised_size():
    # The python3.11 runtime JSON-escapes the body: a quote is 2 bytes, a non-ASCII character 6 (\uXXXX)
    assert lambda_payload_size('a"b') == len('"a\\"b"')
    assert lambda_payload_size("é") == len('"\\u00e9"')
    assert lambda_payload_size("日本") == 2 + 12
