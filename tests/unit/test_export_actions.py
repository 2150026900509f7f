"""Every export action is an audit record (logic/export_audit.py): the key's id as the actor, the dataset, the filter
and the row count, sealed with its checksum; when it cannot be written the action is refused (503), never served
unaudited."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from export_client.verifier.canonical import record_checksum as verifier_checksum

from export_service.logic.checksum import verify_checksum
from export_service.logic.export_audit import (
    AuditUnavailableError,
    ExportAction,
    export_action_record,
    write_export_action,
)
from export_service.models.api_keys import Permission, Principal

pytestmark = pytest.mark.unit
KEY = Principal(tenant_id="acme", key_id="ak_0123456789abcdef", permissions=frozenset({Permission.AUDIT_READ}))
NOW = datetime(2026, 11, 29, 8, 0, 1, 234000, tzinfo=UTC)


@pytest.mark.parametrize("action", list(ExportAction))
def test_an_export_action_is_a_sealed_audit_record_naming_the_key(action):
    record = export_action_record(
        KEY,
        action,
        dataset="audit",
        filter_={"action": "user.login", "from": "2026-11-01"},
        records=42,
        now=NOW,
        source_ip="203.0.113.7",
        details={"export_id": "sync-x"},
    )
    assert record.user == record.auditeeId == "ak_0123456789abcdef"
    assert record.action == action.value and record.subType == action.value.removeprefix("export.")
    assert record.eventType == "export" and record.systemSource == "export_api" and record.role == "api_key"
    assert record.resource == "audit" and record.timestamp == "2026-11-29T08:00:01.234Z"
    assert record.sourceIP == "203.0.113.7"
    assert json.loads(record.metadata) == {
        "dataset": "audit",
        "filter": '{"action":"user.login","from":"2026-11-01"}',
        "records": "42",
        "export_id": "sync-x",
    }
    fields = record.model_dump()
    assert verify_checksum(fields) and verifier_checksum(fields) == record.checksum


def test_a_record_that_cannot_be_written_refuses_the_action_with_503():
    class Broken:
        def append(self, tenant, record):
            raise ConnectionError("DynamoDB unreachable")

    record = export_action_record(KEY, ExportAction.SYNC, dataset="audit", filter_={}, records=1, now=NOW)
    with pytest.raises(AuditUnavailableError) as refused:
        write_export_action(Broken(), "acme", record)
    assert refused.value.status == 503 and refused.value.code == "AUDIT_UNAVAILABLE"
    assert "not served" in refused.value.message


def test_a_written_record_goes_to_the_keys_tenant():
    written = []

    class Log:
        def append(self, tenant, record):
            written.append((tenant, record.id))

    record = export_action_record(KEY, ExportAction.LISTING_READ, dataset="nightly", filter_={}, records=0, now=NOW)
    write_export_action(Log(), "acme", record)
    assert written == [("acme", record.id)]
