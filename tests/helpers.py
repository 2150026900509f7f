"""Sample events (events/*.json) and small helpers to vary them, plus helpers to read proxy responses."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"

# The key whose token the sample events carry (tenant acme, AUDIT_READ). Tests store it before use.
ACME_KEY_ID = "ak_acme_audit_reader"
ACME_SECRET = "Qm9yZWFsaXMtYWNtZS1yZWFkZXItMjAyNg"
ACME_TOKEN = f"{ACME_KEY_ID}.{ACME_SECRET}"

CSV_HEADER = (
    "id,timestamp,action,user,role,resource,resourceType,namespace,sourceIP,checksum,"  # runbook audit export
    "eventType,subType,systemSource,auditeeId,metadata"  # audit-event export
)
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


@cache
def _read_event(name: str) -> str:
    return (EVENTS_DIR / f"{name}.json").read_text(encoding="utf-8")


def load_event(name: str) -> dict[str, Any]:
    """A fresh copy of ``events/<name>.json`` (callers may mutate it)."""
    return json.loads(_read_event(name))


def with_query(
    event: Mapping[str, Any], params: Mapping[str, str | Sequence[str] | None], *, replace: bool = True
) -> dict[str, Any]:
    """A copy whose query string is ``params`` (a list value repeats the name; None removes it).

    ``replace`` drops the event's own parameters first; otherwise ``params`` are merged into them.
    Both maps are kept as API Gateway fills them: the single-value map keeps the last value.
    """
    out = copy.deepcopy(dict(event))
    multi: dict[str, list[str]] = {} if replace else dict(out.get("multiValueQueryStringParameters") or {})
    for name, value in params.items():
        if value is None:
            multi.pop(name, None)
        else:
            multi[name] = [value] if isinstance(value, str) else list(value)
    out["multiValueQueryStringParameters"] = multi or None
    out["queryStringParameters"] = {name: values[-1] for name, values in multi.items()} or None
    return out


def with_headers(
    event: Mapping[str, Any], headers: Mapping[str, str | None], *, drop: Sequence[str] = ()
) -> dict[str, Any]:
    """A copy with ``headers`` set (None removes one) and ``drop`` removed, names compared case-insensitively."""
    out = copy.deepcopy(dict(event))
    single = dict(out.get("headers") or {})
    multi = dict(out.get("multiValueHeaders") or {})
    removed = {name.lower() for name in drop} | {name.lower() for name in headers}
    single = {name: value for name, value in single.items() if name.lower() not in removed}
    multi = {name: values for name, values in multi.items() if name.lower() not in removed}
    for name, value in headers.items():
        if value is not None:
            single[name] = value
            multi[name] = [value]
    out["headers"] = single or None
    out["multiValueHeaders"] = multi or None
    return out


def with_authorizer(event: Mapping[str, Any], context: Mapping[str, Any] | None) -> dict[str, Any]:
    """A copy whose ``requestContext.authorizer`` is ``context`` (None: as if no authorizer ran)."""
    out = copy.deepcopy(dict(event))
    out["requestContext"]["authorizer"] = None if context is None else dict(context)
    return out


def authorizer_context(tenant: str, key_id: str, permissions: str = "AUDIT_READ") -> dict[str, str]:
    """What API Gateway puts in ``requestContext.authorizer`` for a REST API: context values as strings."""
    return {"tenantId": tenant, "keyId": key_id, "permissions": permissions, "principalId": key_id}


def response_header(response: Mapping[str, Any], name: str) -> str | None:
    """A header of a proxy response, from ``headers`` or ``multiValueHeaders``, matched case-insensitively."""
    for key, value in (response.get("headers") or {}).items():
        if key.lower() == name.lower():
            return value
    for key, values in (response.get("multiValueHeaders") or {}).items():
        if key.lower() == name.lower():
            return ", ".join(values)
    return None


def json_body(response: Mapping[str, Any]) -> Any:
    return json.loads(response["body"])


def spreadsheet_safe(value: str) -> str:
    """What a neutralised CSV cell should read (OWASP CSV injection: a leading apostrophe)."""
    return "'" + value if value.startswith(FORMULA_TRIGGERS) else value


def csv_cell_of(value: Any) -> str:
    """What the CSV export writes for a value read from its Parquet counterpart (pyarrow): an instant in UTC with
    milliseconds, an integer in decimal, a string neutralised for spreadsheets, a null as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    if isinstance(value, int):
        return str(value)
    return spreadsheet_safe(value)


def assert_estimate(status: Mapping[str, Any], matched: int, limit: int) -> None:
    """An ExportJob's ``estimatedRecords``: every match, or, when the count before the 202 was cut short to answer at
    once (``estimateIsLowerBound``), more than the synchronous limit and at most every match."""
    if status.get("estimateIsLowerBound"):
        assert limit < status["estimatedRecords"] <= matched, status
    else:
        assert status["estimatedRecords"] == matched, status


# The incident API's documented objects, field by field in the document's order: the tests' own statement of the
# shapes, written independently of the product's models.
DOCUMENTED_INCIDENT_FIELDS = [
    "id",
    "project_id",
    "asset_id",
    "last_upload_timestamp",
    "created_time",
    "severity",
    "impact",
    "status",
    "ticket_id",
    "alert_policy_id",
    "alert_policy_name",
    "description",
    "tags",
]
DOCUMENTED_ALERT_FIELDS = [
    "type",
    "source",
    "attribute",
    "job_id",
    "create_time",
    "save_time",
    "violation_data",
    "violation_name",
    "notification_channels",
    "is_notification_enabled",
    "metric_time",
    "is_notified",
    "metric_value",
    "policy_name",
    "segment",
    "priority",
    "description",
    "source_name",
    "source_type",
    "project_name",
    "tags",
]


# The incident datasets' documented CSV columns and source names, in the document's order: the tests' own statement,
# written independently of the product's models.
_COMMON_COLUMNS = ["id", "account_id", "organization_id", "created_at", "updated_at"]
DOCUMENTED_DATASET_COLUMNS: dict[str, list[str]] = {
    "incidents": [
        *_COMMON_COLUMNS,
        "number",
        "name",
        "severity",
        "priority",
        "started_at",
        "detected_at",
        "acknowledged_at",
        "investigating_at",
        "identified_at",
        "mitigated_at",
        "resolved_at",
        "retrospective_started_at",
        "retrospective_completed_at",
        "opened_at",
        "started_by",
        "active_duration",
    ],
    "incident-role-assignments": [
        *_COMMON_COLUMNS,
        "status",
        "incident_role_id",
        "incident_role_name",
        "incident_id",
        "assigned_user_id",
        "assigned_user_name",
    ],
    "incident-events": [
        *_COMMON_COLUMNS,
        "incident_id",
        "created_by_name",
        "type",
        "event_details_schema",
        "event_details",
    ],
    "incident-impacts": [
        *_COMMON_COLUMNS,
        "incident_id",
        "impacted_id",
        "impacted_type",
        "impacted_slug",
        "condition_name",
    ],
    "retrospectives": [
        *_COMMON_COLUMNS,
        "name",
        "summary",
        "tags",
        "incident_id",
        "additional_details",
        "questions",
    ],
}
DOCUMENTED_DATASET_SOURCES = {
    "incidents": "text/csv+incident-20220525",
    "incident-role-assignments": "text/csv+incident_role_assignment-20220525",
    "incident-events": "text/csv+incident_event-20220525",
    "incident-impacts": "text/csv+incident_impact-20220525",
    "retrospectives": "text/csv+retrospective-20220525",
}
