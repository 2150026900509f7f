"""One representative request per function, for the cold-start table: a REST proxy event (or the authorizer's
REQUEST event, or a state machine task's payload) against the local stack's demo data (tenant acme)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from devtools.lambda_runtime import rest_proxy_event
from devtools.local_stack import DEMO_KEYS
from devtools.template import ROOT

TENANT = "acme"
TOKEN = DEMO_KEYS[0].token  # devtools/local_stack.py's documented demo key for acme: every permission
PERMISSIONS = (
    "AUDIT_READ,INCIDENTS_READ,EXPORTS_READ,EXPORTS_WRITE,SOURCES_READ,VALIDATORS_READ,CATALOG_ASSETS_READ,"
    "INCIDENTS_WRITE,SQL_EXECUTION_WRITE"
)


@dataclass(frozen=True)
class World:
    """What the requests name: the demo window's last day, an incident, a job, a catalog incident and asset."""

    day: datetime
    incident_id: str
    job_id: str
    catalog_incident_id: str
    asset_id: str
    credential_id: str


def _api(
    method: str,
    path: str,
    resource: str | None = None,
    query: dict[str, str] | None = None,
    body: Any = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    return rest_proxy_event(
        method=method,
        path=path,
        resource=resource or path,
        path_parameters=path_parameters,
        headers={"Content-Type": ["application/json"]} if body is not None else None,
        query={name: [value] for name, value in (query or {}).items()},
        body=json.dumps(body) if body is not None else None,
        authorizer={"tenantId": TENANT, "keyId": "ak_demo_acme", "permissions": PERMISSIONS, "principalId": "x"},
    )


def _authorizer(_world: World) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "authorizer_request.json").read_text())
    event["headers"] = {"apikey": TOKEN}
    event["multiValueHeaders"] = {"apikey": [TOKEN]}
    return event


def _day(world: World) -> dict[str, str]:
    return {"from": f"{world.day:%Y-%m-%d}", "to": f"{world.day + timedelta(days=1):%Y-%m-%d}"}


REQUESTS: dict[str, Callable[[World], dict[str, Any]]] = {
    "AuthorizerFunction": _authorizer,
    "AuditExportFunction": lambda w: _api("GET", "/v1/audit/export", query=_day(w)),
    "DatasetExportFunction": lambda w: _api(
        "GET", "/v1/export/incidents", "/v1/export/{dataset}", _day(w), path_parameters={"dataset": "incidents"}
    ),
    "ListIncidentsFunction": lambda w: _api("GET", "/v1/incidents", query={"limit": "5"}),
    "GetIncidentFunction": lambda w: _api(
        "GET",
        f"/v1/incidents/{w.incident_id}",
        "/v1/incidents/{incidentId}",
        path_parameters={"incidentId": w.incident_id},
    ),
    "IncidentAlertsFunction": lambda w: _api(
        "GET",
        f"/v1/incidents/{w.incident_id}/alerts",
        "/v1/incidents/{incidentId}/alerts",
        path_parameters={"incidentId": w.incident_id},
    ),
    "IncidentDistributionFunction": lambda w: _api("GET", "/v1/incidents/distribution"),
    "IncidentSummaryFunction": lambda w: _api("GET", "/v1/incidents/summary"),
    "AlertsByFiltersFunction": lambda w: _api(
        "POST",
        "/v1/alerts/by-filters",
        body={
            "sources": ["asset-1"],
            "upload_dates": [f"{w.day:%Y-%m-%d}T00:00:00.000Z"],
            "violation_names": ["volume"],
        },
    ),
    "StartExportFunction": lambda w: _api("POST", "/v1/exports", body={"dataset": "audit", "format": "csv", **_day(w)}),
    "GetExportFunction": lambda w: _api(
        "GET", f"/v1/exports/{w.job_id}", "/v1/exports/{jobId}", path_parameters={"jobId": w.job_id}
    ),
    "ListExportsFunction": lambda w: _api("GET", "/v1/exports"),
    "ListExportRequestsFunction": lambda w: _api(
        "GET", "/v1/export-requests", query={"newer_than": f"{w.day - timedelta(days=7):%Y-%m-%dT%H:%M:%S}"}
    ),
    "CatalogSourcesFunction": lambda w: _api("GET", "/v1/export/sources"),
    "CatalogValidatorsFunction": lambda w: _api("GET", "/v1/export/validators"),
    "CatalogIncidentGroupsFunction": lambda w: _api("GET", "/v1/export/incident-groups"),
    "CatalogActivitiesFunction": lambda w: _api("GET", "/v1/export/activities"),
    "IncidentDebugRecordsFunction": lambda w: _api(
        "GET", "/v1/export/incident-debug-records", query={"incidentId": w.catalog_incident_id}
    ),
    "SampleDataFunction": lambda w: _api(
        "GET",
        "/v1/export/sample-data",
        query={"assetId": w.asset_id, "credentialId": w.credential_id, "query": "SELECT 1"},
    ),
    "ManifestKeysFunction": lambda w: _api("GET", "/v1/manifest-keys"),
}


def reference_event() -> dict[str, Any]:
    """The reference function's request (devtools/bench/cold_reference.py)."""
    return _api("GET", "/v1/reference", query={"day": "2026-03-01"})
