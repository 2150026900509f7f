"""Shared by the incident API e2e tests (test_incident_api_*_http.py): what the generator wrote, and the expected
answers computed from it independently of the product."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import requests

from tests.e2e.conftest import ACME, ANCHOR, DAYS, Stack


def _stamp(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with milliseconds, written here independently of the product's formatter."""
    if moment is None:
        return None
    moment = moment.astimezone(UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def incident_truth() -> dict[str, dict[str, Any]]:
    """tenant -> {"incidents": [Incident, ...], "alerts": [alert dict, ...]} as the stack's generator wrote them."""
    from devtools.generate import DEFAULT_SEED, demo_window  # noqa: PLC0415
    from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles  # noqa: PLC0415

    start, end = demo_window(ANCHOR, DAYS)
    result = {}
    for tenant, count in DEMO_INCIDENTS.items():
        bundles = list(incident_bundles(tenant, count, start, end, DEFAULT_SEED))
        alerts = {}
        for bundle in bundles:
            for alert in bundle.alerts:
                alerts[(alert.asset_id, alert.metric_time, alert.violation_name)] = alert.model_dump()
        result[tenant] = {"incidents": [b.incident for b in bundles], "alerts": list(alerts.values())}
    return result


def _item(incident: Any) -> dict[str, Any]:
    return {
        "id": incident.id,
        "project_id": incident.project_id,
        "asset_id": incident.asset_id,
        "last_upload_timestamp": _stamp(incident.last_upload_timestamp),
        "created_time": _stamp(incident.created_at),
        "severity": incident.severity,
        "impact": incident.impact,
        "status": incident.status,
        "ticket_id": incident.ticket_id,
        "alert_policy_id": incident.alert_policy_id,
        "alert_policy_name": incident.alert_policy_name,
        "description": incident.description,
        "tags": list(incident.tags),
        "number": incident.number,
        "name": incident.name,
        "connection_type": incident.connection_type,
        "connection_id": incident.connection_id,
        "source_name": incident.source_name,
    }


def _when(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _matches(incident: Any, params: dict[str, str]) -> bool:
    def listed(name: str) -> list[str] | None:
        return params[name].split(",") if name in params else None

    checks = [
        ("severities", incident.severity),
        ("impacts", incident.impact),
        ("connection_types", incident.connection_type),
        ("alert_policy_ids", incident.alert_policy_id),
        ("connection_ids", incident.connection_id),
        ("statuses", incident.status),
    ]
    for name, value in checks:
        wanted = listed(name)
        if wanted is not None and value not in wanted:
            return False
    projects = listed("project_ids")
    if projects is not None and incident.project_id not in {int(p) for p in projects}:
        return False
    tags = listed("tags")
    if tags is not None and not set(tags) & set(incident.tags):
        return False
    text = params.get("text_to_search", "").strip().lower()
    if text and text not in incident.alert_policy_name.lower() and text not in incident.source_name.lower():
        return False
    if "from_time" in params and incident.created_at < _when(params["from_time"]):
        return False
    return not ("to_time" in params and incident.created_at > _when(params["to_time"]))


def _expected(truth: dict[str, Any], tenant: str, params: dict[str, str]) -> list[Any]:
    """Matching incidents, newest first (created_at, then id, descending)."""
    chosen = [i for i in truth[tenant]["incidents"] if _matches(i, params)]
    return sorted(chosen, key=lambda i: (_stamp(i.created_at), i.id), reverse=True)


def _get(http: requests.Session, stack: Stack, path: str, token: str = ACME, **params: Any) -> requests.Response:
    return http.get(f"{stack.url}{path}", params=params, headers={"apikey": token}, timeout=60)
