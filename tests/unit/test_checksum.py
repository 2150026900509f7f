"""Per-record checksums: sha256 over a canonical JSON form (the runbook audit export's `checksum` column)."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest

from export_service.logic.audit_records import seal_audit_record
from export_service.logic.checksum import canonical_form, record_checksum, verify_checksum
from export_service.models.audit import NewAuditRecord

pytestmark = pytest.mark.unit

RECORD = {
    "id": "audit-20260301-001",
    "timestamp": "2026-03-01T00:05:00.000Z",
    "action": "runbook.create",
    "user": "admin@empresa.com",
    "role": "admin",
    "resource": "runbook-disk-cleanup",
    "resourceType": "Runbook",
    "namespace": "production",
    "sourceIP": "10.0.1.10",
}
CANONICAL = (
    b'{"action":"runbook.create","id":"audit-20260301-001","namespace":"production",'
    b'"resource":"runbook-disk-cleanup","resourceType":"Runbook","role":"admin","sourceIP":"10.0.1.10",'
    b'"timestamp":"2026-03-01T00:05:00.000Z","user":"admin@empresa.com"}'
)
CHECKSUM = "sha256:2819f33f6cf144aa337fbf5678fcf2040aa23c09804b1ac2f7c562a56ea7f122"


def test_canonical_form_is_sorted_compact_utf8_json():
    assert canonical_form(RECORD) == CANONICAL


def test_checksum_is_sha256_of_the_canonical_form():
    assert record_checksum(RECORD) == "sha256:" + hashlib.sha256(CANONICAL).hexdigest() == CHECKSUM
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", record_checksum(RECORD))


def test_key_order_does_not_change_the_checksum():
    reversed_record = dict(reversed(list(RECORD.items())))
    assert list(reversed_record) != list(RECORD)
    assert canonical_form(reversed_record) == CANONICAL
    assert record_checksum(reversed_record) == CHECKSUM


def test_checksum_field_and_empty_values_are_left_out():
    # Given the sealed record as exported (with its checksum) and empty optional fields
    exported = {**RECORD, "checksum": CHECKSUM, "extra": "", "missing": None}
    # Then the checksum is the same and verifies
    assert record_checksum(exported) == CHECKSUM
    assert verify_checksum(exported)


def test_non_ascii_is_kept_as_utf8():
    assert canonical_form({"id": "a", "user": "josé@empresa.com"}) == '{"id":"a","user":"josé@empresa.com"}'.encode()


@pytest.mark.parametrize("field", [name for name in RECORD])
def test_changing_any_field_changes_the_checksum(field):
    changed = {**RECORD, field: RECORD[field] + "x"}
    assert record_checksum(changed) != CHECKSUM
    assert not verify_checksum({**changed, "checksum": CHECKSUM})


def test_same_record_sealed_twice_gets_the_same_checksum():
    new = NewAuditRecord(
        id="audit-20260301-001",
        timestamp=datetime(2026, 3, 1, 0, 5, tzinfo=UTC),
        action="runbook.create",
        user="admin@empresa.com",
        role="admin",
        resource="runbook-disk-cleanup",
        resourceType="Runbook",
        namespace="production",
        sourceIP="10.0.1.10",
    )
    first, second = seal_audit_record(new), seal_audit_record(new.model_copy())
    assert first == second
    assert first.timestamp == "2026-03-01T00:05:00.000Z"
    assert first.checksum == CHECKSUM
    assert verify_checksum(first.model_dump())
