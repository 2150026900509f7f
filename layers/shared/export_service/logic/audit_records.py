"""The audit writer: seals records (UTC timestamp, checksum) and hands them to the store."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Protocol

from export_service.logic.checksum import record_checksum
from export_service.models.audit import AuditRecord, NewAuditRecord, encode_metadata
from export_service.timefmt import format_instant


class AuditWriterStore(Protocol):
    def put(self, tenant: str, records: Iterable[AuditRecord]) -> int: ...


def seal_audit_record(new: NewAuditRecord) -> AuditRecord:
    fields = new.model_dump()
    fields["timestamp"] = format_instant(new.timestamp)
    fields["metadata"] = encode_metadata(new.metadata)
    return AuditRecord(**fields, checksum=record_checksum(fields))


def write_audit_records(store: AuditWriterStore, tenant: str, records: Iterable[NewAuditRecord]) -> int:
    def sealed() -> Iterator[AuditRecord]:
        for record in records:
            yield seal_audit_record(record)

    return store.put(tenant, sealed())
