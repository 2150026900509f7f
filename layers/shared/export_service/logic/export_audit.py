"""Exports are themselves audited: every export action (a synchronous export served, an export job started, a
download link minted, the nightly listing read) is one audit record in the tenant's audit log, sealed with its
checksum like any other, so "who exported what, when" is exportable, filterable and verifiable.

The record is written *before* the data (or the link to it) leaves the service. When it cannot be written the
action fails with 503 AUDIT_UNAVAILABLE and nothing is served: there is no unaudited export (docs/guide.md).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from export_service.errors import ExportServiceError
from export_service.logic.checksum import record_checksum
from export_service.models.api_keys import Principal
from export_service.models.audit import AuditRecord, encode_metadata
from export_service.observability import logger, metrics
from export_service.timefmt import format_instant

EVENT_TYPE = "export"  # eventType of every export action (event_type=export selects them)
SYSTEM_SOURCE = "export_api"  # this API's own records (the demo data's platform exports are "export_service")
ROLE = "api_key"


class ExportAction(StrEnum):
    """The record's ``action``; its ``subType`` is the part after ``export.``."""

    SYNC = "export.sync"
    JOB_STARTED = "export.job_started"
    LINK_MINTED = "export.link_minted"
    LISTING_READ = "export.listing_read"

    @property
    def sub_type(self) -> str:
        return self.value.removeprefix("export.")


class AuditUnavailableError(ExportServiceError):
    status = 503
    code = "AUDIT_UNAVAILABLE"


class AuditAppender(Protocol):
    def append(self, tenant: str, record: AuditRecord) -> None: ...


def export_action_record(
    principal: Principal,
    action: ExportAction,
    *,
    dataset: str,
    filter_: Mapping[str, Any],
    records: int,
    now: datetime,
    source_ip: str = "",
    details: Mapping[str, str] | None = None,
) -> AuditRecord:
    """The sealed audit record of one export action: the key's id is the actor (``user`` and ``auditeeId``), the
    dataset the resource; ``metadata`` carries the dataset, the filter (JSON), the row count and ``details``."""
    metadata = {
        "dataset": dataset,
        "filter": json.dumps(dict(filter_), sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        "records": str(records),
        **(details or {}),
    }
    fields = {
        "id": str(uuid.uuid4()),
        "timestamp": format_instant(now),
        "action": action.value,
        "user": principal.key_id,
        "role": ROLE,
        "resource": dataset,
        "resourceType": "dataset",
        "namespace": "",
        "sourceIP": source_ip,
        "eventType": EVENT_TYPE,
        "subType": action.sub_type,
        "systemSource": SYSTEM_SOURCE,
        "auditeeId": principal.key_id,
        "metadata": encode_metadata(metadata),
    }
    return AuditRecord(**fields, checksum=record_checksum(fields))


def write_export_action(appender: AuditAppender, tenant: str, record: AuditRecord) -> None:
    """Write the record, or refuse the action (503): an export is never served unaudited, and never silently."""
    try:
        appender.append(tenant, record)
    except Exception as exc:
        logger.exception("export action not audited; the action is refused", tenant=tenant, action=record.action)
        metrics.add_metric(name="ExportAuditWriteFailed", unit="Count", value=1)
        raise AuditUnavailableError(
            "the export was not served because its audit record could not be written; try again shortly"
        ) from exc
