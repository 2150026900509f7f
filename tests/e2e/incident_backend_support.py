"""What tests/e2e/test_incident_backend_http.py sends and expects: the documented fields, the documented example
requests, a tenant holding exactly the documented example incident and its alerts, and independent computations of
what an answer must hold (written here without the product's formatters)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from export_service.models.alerts import Alert
from export_service.models.incidents import Incident
from tests.helpers import DOCUMENTED_ALERT_FIELDS, DOCUMENTED_INCIDENT_FIELDS

LIST_FIELDS = DOCUMENTED_INCIDENT_FIELDS
DETAIL_FIELDS = {*LIST_FIELDS, "metrics", "history"}
METRIC_FIELDS = {"metric_name", "metric_aggregation", "display_metric_name", "segment", "rule", "attribute"}
ALERT_FIELDS = DOCUMENTED_ALERT_FIELDS
SUMMARY_FIELDS = [
    "total",
    "open",
    "closed",
    "mean_time_to_resolve",
    "previous_mean_time_to_resolve",
    "open_by_tag",
    "closed_by_tag",
]
# The documented filter examples, as written in the parameter table.
FILTER_EXAMPLES = [
    {"project_ids": "0,24"},
    {"connection_types": "GCS,BIGQUERY"},
    {"alert_policy_ids": "4,5"},
    {"severities": "HIGH,MEDIUM"},
    {"impacts": "HIGH"},
    {"connection_ids": "conn-123,conn-456"},
    {"from_time": "2025-07-15T12:14:54.123Z"},
    {"to_time": "2025-07-15T12:14:54.123Z"},
    {"text_to_search": "test_policy"},
]
# The documented by-filters example body.
EXAMPLE_BODY = {
    "sources": ["5x0e34yk1re4"],
    "upload_dates": ["2025-06-30T14:12:51.871Z", "2025-06-30T14:13:55.325Z"],
    "violation_names": ["FEATURE.s132j7ja1", "DATA.a531"],
}
DOCUMENTED = "documented-incidents"  # a tenant holding the documented example incident
DOCUMENTED_KEY = ("ak_e2e_documented", "documented-incidents-secret-0001")
OVERFLOW = "incidents-overflow"  # more incidents than one answer holds
OVERFLOW_KEY = ("ak_e2e_overflow", "incidents-overflow-secret-0001")


def header_forms(key_id: str, secret: str) -> list[dict[str, str]]:
    """Every accepted header form of one key."""
    token = f"{key_id}.{secret}"
    return [{"Authorization": f"Bearer {token}"}, {"apikey": token}, {"Authorization": f"{key_id}:{secret}"}]


def stamp(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds, written here independently of the product's formatter."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def integer(incident: Incident) -> int:
    return int(incident.number.removeprefix("INC-"))


def documented_item(incident: Incident) -> dict[str, Any]:
    return {
        "id": integer(incident),
        "project_id": incident.project_id,
        "asset_id": incident.asset_id,
        "last_upload_timestamp": stamp(incident.last_upload_timestamp),
        "created_time": stamp(incident.created_at),
        "severity": incident.severity,
        "impact": incident.impact,
        "status": incident.status,
        "ticket_id": incident.ticket_id,
        "alert_policy_id": incident.alert_policy_id,
        "alert_policy_name": incident.alert_policy_name,
        "description": incident.description,
        "tags": list(incident.tags),
    }


def matches(incident: Incident, params: dict[str, str]) -> bool:
    for name, value in (
        ("severities", incident.severity),
        ("impacts", incident.impact),
        ("connection_types", incident.connection_type),
        ("alert_policy_ids", incident.alert_policy_id),
        ("connection_ids", incident.connection_id),
    ):
        if name in params and value not in params[name].split(","):
            return False
    if "project_ids" in params and incident.project_id not in {int(p) for p in params["project_ids"].split(",")}:
        return False
    text = params.get("text_to_search", "").lower()
    if text and text not in incident.alert_policy_name.lower() and text not in incident.source_name.lower():
        return False
    if "from_time" in params and incident.created_at < at(params["from_time"]):
        return False
    return not ("to_time" in params and incident.created_at > at(params["to_time"]))


def newest_first(incidents: list[Incident]) -> list[Incident]:
    return sorted(incidents, key=lambda i: (i.created_at, i.id), reverse=True)


def example_incident(number: str, project_id: int, created: str, **fields: Any) -> Incident:
    moment = at(created)
    return Incident(
        id=f"inc-documented-{number}",
        account_id="acct-documented",
        organization_id="org-documented",
        created_at=moment,
        updated_at=moment,
        number=number,
        name=f"Incident {number}",
        project_id=project_id,
        **fields,
    )


def example_alert(metric_time: str, violation_name: str, kind: str) -> Alert:
    return Alert(
        type=kind,
        source="GCS.orders-bucket/customer_orders",
        asset_id="5x0e34yk1re4",
        attribute="SHIPPING_ADDRESS",
        job_id=f"job-{violation_name}",
        create_time=metric_time,
        save_time=metric_time,
        violation_name=violation_name,
        notification_channels=["critical-alerts-slack", "data-team-email"],
        metric_time=metric_time,
        metric_value=1.0,
        policy_name="test_policy",
        segment="USA",
        priority="HIGH",
        description={"HIGH": [f"{violation_name} fired"]},
        source_name="customer_orders",
        source_type="GCS",
        project_name="E-commerce Analytics",
        tags=["production", "schema", "customer-data"],
    )


EXAMPLE = example_incident(
    "INC-1311",
    0,
    "2025-06-30T14:12:51.871Z",
    asset_id="5x0e34yk1re4",
    last_upload_timestamp=at("2025-06-30T14:12:51.871Z"),
    severity="HIGH",
    impact="HIGH",
    status="OPEN",
    ticket_id=2411,
    alert_policy_id="4",
    alert_policy_name="test_policy",
    description="...",
    tags=["T1", "PROD"],
    connection_type="GCS",
    connection_id="conn-123",
    source_name="GCS.orders-bucket/customer_orders",
    metrics=[
        {
            "metric_name": "contains_pii",
            "metric_aggregation": "ratio",
            "display_metric_name": "PII %",
            "segment": None,
            "rule": None,
            "attribute": None,
        }
    ],
    history=[
        {
            "timestamp": "2025-06-30T14:12:51.871Z",
            "state": "NEW",
            "alert_refs": [
                {"metric_time": "2025-06-30T14:12:51.871Z", "violation_name": "FEATURE.s132j7ja1"},
                {"metric_time": "2025-06-30T14:13:55.325Z", "violation_name": "DATA.a531"},
            ],
        }
    ],
)
EXAMPLE_ALERTS = [
    example_alert("2025-06-30T14:12:51.871Z", "FEATURE.s132j7ja1", "SCHEMA_CHANGE"),
    example_alert("2025-06-30T14:13:55.325Z", "DATA.a531", "DATA_QUALITY"),
]
OTHERS = [
    example_incident(
        "INC-1312", 24, "2025-07-22T08:00:00.000Z", severity="MEDIUM", impact="LOW", alert_policy_id="prebuilt_volume"
    ),
    example_incident("INC-1313", 7, "2025-07-22T09:00:00.000Z", severity="LOW", connection_type="BIGQUERY"),
]


def distribution(incidents: list[Incident]) -> dict[str, Any]:
    """Per UTC day of created_time, oldest first: counts by severity and by impact ("" for none), every key."""
    days: dict[str, tuple[Counter[str], Counter[str]]] = {}
    for incident in incidents:
        day = incident.created_at.astimezone(UTC).date().isoformat()
        severities, impacts = days.setdefault(day, (Counter(), Counter()))
        severities[incident.severity] += 1
        impacts[incident.impact] += 1
    keys = ("LOW", "MEDIUM", "HIGH", "")
    return {
        "incidents": [
            {
                "date": day,
                "counts": {key: days[day][0][key] for key in keys},
                "counts_by_impact": {key: days[day][1][key] for key in keys},
            }
            for day in sorted(days)
        ]
    }


def _mean_hours(closed: list[Incident]) -> int | None:
    resolved = [incident for incident in closed if incident.resolved_at]
    if not resolved:
        return None
    total_ms = sum((i.resolved_at - i.created_at) // timedelta(milliseconds=1) for i in resolved if i.resolved_at)
    return math.floor(Fraction(total_ms, len(resolved) * 3_600_000) + Fraction(1, 2))  # nearest hour, halves up


def summary(incidents: list[Incident], start: datetime, end: datetime) -> dict[str, Any]:
    """The documented summary over incidents created in [start, end], and the mean of the period as long just before."""
    length = end - start + timedelta(milliseconds=1)

    def within(lo: datetime, hi: datetime) -> list[Incident]:
        return [incident for incident in incidents if lo <= incident.created_at <= hi]

    current = within(start, end)
    previous = within(start - length, start - timedelta(milliseconds=1))
    opened = [incident for incident in current if incident.status == "OPEN"]
    closed = [incident for incident in current if incident.status == "CLOSED"]
    return {
        "total": len(current),
        "open": len(opened),
        "closed": len(closed),
        "mean_time_to_resolve": _mean_hours(closed),
        "previous_mean_time_to_resolve": _mean_hours([i for i in previous if i.status == "CLOSED"]),
        "open_by_tag": dict(Counter(tag for incident in opened for tag in incident.tags)),
        "closed_by_tag": dict(Counter(tag for incident in closed for tag in incident.tags)),
    }
