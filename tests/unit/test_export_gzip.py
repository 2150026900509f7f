"""Synchronous exports for a client that accepts gzip: the 200-or-202 decision is made on the compressed size that
is actually sent, the record limit stays, and the decoded body is byte for byte the uncompressed answer."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from export_service.logic.audit_export import build_audit_request
from export_service.logic.audit_records import seal_audit_record
from export_service.logic.datasets import AUDIT_EXPORT
from export_service.logic.export_engine import GZIP_RAW_FACTOR, ExportBody, ExportLimits, TooLarge, export_inline
from export_service.models.audit import AuditExportQuery, NewAuditRecord
from export_service.models.export import ExportFormat
from tests.unit.fakes import FakeAuditStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)
START = datetime(2026, 3, 1, tzinfo=UTC)


def _records(count: int) -> list[dict[str, str]]:
    return [
        seal_audit_record(
            NewAuditRecord(
                id=f"audit-{n:06d}",
                timestamp=START + timedelta(seconds=n),
                action="runbook.execute",
                user=f"user{n % 7}@acme.example.com",
                role="admin",
                resource="runbook-disk-cleanup",
                resourceType="Runbook",
                namespace="production",
                sourceIP="10.0.1.10",
            )
        ).model_dump()
        for n in range(count)
    ]


RECORDS = _records(600)


def _export(fmt: ExportFormat, limits: ExportLimits) -> ExportBody | TooLarge:
    query = AuditExportQuery.model_validate({"format": fmt.value, "from": "2026-03-01"})
    request = build_audit_request("acme", query, NOW)
    store = SimpleNamespace(audit=FakeAuditStore({"acme": RECORDS}))
    return export_inline(AUDIT_EXPORT, request, query, fmt, store, limits, NOW)


@pytest.mark.parametrize("fmt", [ExportFormat.CSV, ExportFormat.JSON, ExportFormat.JSONL])
def test_the_gzip_body_decodes_to_exactly_the_plain_answer(fmt):
    plain = _export(fmt, ExportLimits(10_000, 5_000_000, 100_000))
    packed = _export(fmt, ExportLimits(10_000, 5_000_000, 100_000, gzip=True))
    assert isinstance(plain, ExportBody) and isinstance(packed, ExportBody)
    assert (plain.encoding, packed.encoding) == (None, "gzip")
    assert isinstance(packed.body, bytes) and isinstance(plain.body, str)
    assert gzip.decompress(packed.body) == plain.body.encode("utf-8")
    assert (packed.records, packed.filename, packed.content_type) == (plain.records, plain.filename, plain.content_type)
    assert len(packed.body) * 3 < len(plain.body)  # even with a random SHA-256 per record


def test_an_answer_too_large_uncompressed_fits_compressed():
    plain_size = len(_export(ExportFormat.CSV, ExportLimits(10_000, 5_000_000, 100_000)).body)  # type: ignore[union-attr]
    limit = plain_size // 3  # the plain file is three times what a response may carry
    assert isinstance(_export(ExportFormat.CSV, ExportLimits(10_000, limit, 100_000)), TooLarge)
    packed = _export(ExportFormat.CSV, ExportLimits(10_000, limit, 100_000, gzip=True))
    assert isinstance(packed, ExportBody) and packed.records == 600
    assert len(base64.b64encode(packed.body)) + 2 <= limit  # sent base64-encoded, as Lambda returns binary


def test_the_compressed_size_is_what_is_checked_and_a_body_over_it_becomes_a_job():
    packed = _export(ExportFormat.CSV, ExportLimits(10_000, 5_000_000, 100_000, gzip=True))
    assert isinstance(packed, ExportBody)
    sent = len(base64.b64encode(packed.body)) + 2
    assert isinstance(_export(ExportFormat.CSV, ExportLimits(10_000, sent, 100_000, gzip=True)), ExportBody)
    over = _export(ExportFormat.CSV, ExportLimits(10_000, sent - 1, 100_000, gzip=True))
    assert isinstance(over, TooLarge)
    assert over.matched == 600 and over.error.to_body()["error"] == "EXPORT_TOO_LARGE"
    assert "larger than a synchronous response allows" in over.error.to_body()["message"]


def test_the_record_limit_still_holds_with_gzip():
    over = _export(ExportFormat.CSV, ExportLimits(599, 5_000_000, 100_000, gzip=True))
    assert isinstance(over, TooLarge) and over.matched == 600
    assert "more than the synchronous limit of 599" in over.error.to_body()["message"]
    assert isinstance(_export(ExportFormat.CSV, ExportLimits(600, 5_000_000, 100_000, gzip=True)), ExportBody)


def test_rendering_stops_early_past_the_raw_factor():
    limits = ExportLimits(10_000, 1_000, 100_000, gzip=True)
    assert limits.max_render_chars == 1_000 * GZIP_RAW_FACTOR
    assert ExportLimits(10_000, 1_000, 100_000).max_render_chars == 1_000
    assert isinstance(_export(ExportFormat.CSV, limits), TooLarge)  # 600 records: far more than 12 kB of text
