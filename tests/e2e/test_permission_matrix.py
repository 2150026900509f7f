"""Every route x permission cell of docs/permissions.md, over HTTP on the local stack, for one tenant's keys.

The table in the docs is the specification: this test reads it, checks that it names every API route of the template,
and walks every cell. A forbidden cell must answer a JSON error that carries no data and no link; an allowed cell must
carry the tenant's data.
"""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devtools.catalog_generator import CatalogWorld, catalog_world
from devtools.catalog_loader import load_world
from devtools.generate import audit_records
from devtools.generate_incidents import incident_bundles
from devtools.provision import local_refs
from devtools.template import api
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.asset_files import AssetFiles
from export_service.dal.audit_store import AuditStore
from export_service.dal.catalog_store import CatalogStore
from export_service.dal.incident_store import IncidentStore
from export_service.logic.api_keys import mint_api_key
from export_service.logic.audit_records import write_audit_records
from export_service.logic.incident_records import write_incident_bundles
from export_service.models.api_keys import Permission
from export_service.models.nightly import AUDIT_SOURCE, SOURCE_NAMES
from tests.e2e.conftest import ACME, Stack, demo_records
from tests.e2e.night_support import publish_night

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
TENANT = "perm-matrix"
COLUMNS = ("no key", "none", "INCIDENTS_READ", "AUDIT_READ", "EXPORTS_READ", "EXPORTS_WRITE")
COLUMNS += ("SOURCES_READ", "VALIDATORS_READ", "CATALOG_ASSETS_READ", "INCIDENTS_WRITE", "SQL_EXECUTION_WRITE", "all")
SINGLE = {name: (Permission(name),) for name in COLUMNS if name in Permission.__members__}
KEYS: dict[str, tuple[Permission, ...]] = {"none": (), **SINGLE, "all": tuple(Permission)}
ERROR_FIELDS = {"status", "error", "message", "parameter"}
START, END = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)


def _matrix() -> dict[str, dict[str, str]]:
    text = (ROOT / "docs" / "permissions.md").read_text()
    block = text.split("<!-- matrix:start -->", 1)[1].split("<!-- matrix:end -->", 1)[0]
    rows = [[cell.strip() for cell in line.strip().strip("|").split("|")] for line in block.strip().splitlines()]
    header, _rule, *body = rows
    assert tuple(header[1:]) == COLUMNS, header
    return {row[0].replace("`", ""): dict(zip(COLUMNS, row[1:], strict=True)) for row in body}


MATRIX = _matrix()


def _token(column: str) -> str:
    return f"ak_matrix_{column.lower()}.matrix-secret-{column.lower().replace('_', '-')}-0001"


@dataclass
class World:
    """What the tenant holds: ids the requests need, and the jobs another key (the all-permission key) started."""

    incident_id: str
    alert_filter: dict[str, list[str]]
    jobs: dict[str, str]  # dataset -> job id


def _put_key(store: ApiKeyStore, key_id: str, secret: str, permissions: tuple[Permission, ...], tenant: str) -> str:
    key, token = mint_api_key(tenant, permissions, datetime.now(UTC), key_id=key_id, secret=secret)
    store.put(key)
    return token


def _wait(http: requests.Session, stack: Stack, token: str, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        response = http.get(f"{stack.url}/v1/exports/{job_id}", headers={"apikey": token}, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"]["state"] in ("succeeded", "failed"):
            assert body["status"]["state"] == "succeeded", body
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


@pytest.fixture(scope="module")
def world(stack: Stack, http: requests.Session) -> World:
    dynamodb, refs = stack.dynamodb(), local_refs()
    keys = ApiKeyStore(dynamodb, refs["ApiKeysTable"])
    for column, held in KEYS.items():
        key_id, secret = _token(column).split(".")
        _put_key(keys, key_id, secret, held, TENANT)
    write_audit_records(AuditStore(dynamodb, refs["AuditTable"]), TENANT, audit_records(TENANT, 40, START, END, 7))
    bundles = list(incident_bundles(TENANT, 8, START, END, 7))
    write_incident_bundles(IncidentStore(dynamodb, refs["IncidentsTable"]), TENANT, bundles)
    s3 = boto3.client(
        "s3", endpoint_url=stack.moto_endpoint, region_name="us-east-1", aws_access_key_id="local",
        aws_secret_access_key="local",
    )  # fmt: skip
    load_world(
        _catalog(), CatalogStore(dynamodb, refs["CatalogTable"]), AssetFiles(s3, refs["CatalogBucket"]), START, END, 7
    )
    publish_night(dynamodb, refs["ExportRequestsTable"], TENANT)

    owner = _token("all")
    incidents = http.get(f"{stack.url}/v1/incidents", headers={"apikey": owner}, timeout=60)
    assert incidents.status_code == 200, incidents.text
    incident_id = str(incidents.json()[0]["id"])
    alerts = http.get(f"{stack.url}/v1/incidents/{incident_id}/alerts", headers={"apikey": owner}, timeout=60)
    assert alerts.status_code == 200 and alerts.json(), alerts.text
    first = alerts.json()[0]
    alert_filter = {
        "sources": [first["asset_id"]],
        "upload_dates": [first["metric_time"]],
        "violation_names": [first["violation_name"]],
    }
    jobs = {}
    for dataset in ("audit", "incidents"):
        started = http.post(f"{stack.url}/v1/exports", json={"dataset": dataset}, headers={"apikey": owner}, timeout=60)
        assert started.status_code == 202, started.text
        jobs[dataset] = _wait(http, stack, owner, started.json()["metadata"]["jobId"])["metadata"]["jobId"]
    return World(incident_id, alert_filter, jobs)


Request = Callable[[World], tuple[str, str, dict[str, Any] | None]]
BACKEND = f"/api/backend/{TENANT}"  # the key's own tenant


def _number(world: World) -> str:
    """The integer id of the world's incident where incidents are addressed by number (the digits of INC-<n>)."""
    incident = next(
        b.incident for b in incident_bundles(TENANT, 8, START, END, 7) if b.incident.id == world.incident_id
    )
    return incident.number.removeprefix("INC-")


@lru_cache(maxsize=1)
def _catalog() -> CatalogWorld:
    return catalog_world(TENANT, START, END, 7)


def _debug_incident(_world: World) -> str:
    """An incident whose debug query always answers a row (a freshness check's aggregate)."""
    catalog = _catalog()
    kinds = {validator.id: validator.type.value for validator in catalog.validators}
    return next(incidents[0].id for group, incidents in catalog.groups if kinds[group.validator_id] == "FRESHNESS")


def _sample(_world: World) -> str:
    asset = _catalog().assets[0]
    return f"assetId={asset.id}&credentialId={asset.credential_id}&query=SELECT%20*%20FROM%20asset%20LIMIT%205"


def _catalog_request(prefix: str, resource: str, world: World) -> tuple[str, str, None]:
    """The catalog's routes, at their CSV export paths and the product's /v1/export/<resource>."""
    query = {"incident-debug-records": f"?incidentId={_debug_incident(world)}", "sample-data": f"?{_sample(world)}"}
    return "GET", f"{prefix}/{resource}{query.get(resource, '')}", None


CATALOG_RESOURCES = ("sources", "validators", "incident-groups", "activities", "incident-debug-records", "sample-data")
CATALOG_ROUTES = [(prefix, resource) for prefix in ("/api/export/v1", "/v1/export") for resource in CATALOG_RESOURCES]
RANGE = "from=2026-03-01T00:00:00Z&to=2026-04-01T00:00:00Z"
PERIOD = "from_time=2026-03-01T00:00:00Z&to_time=2026-04-01T00:00:00Z"
REQUESTS: dict[str, Request] = {
    "GET /v1/audit/export": lambda w: ("GET", f"/v1/audit/export?{RANGE}", None),
    "GET /v1/export/{dataset}": lambda w: ("GET", f"/v1/export/incident-events?{RANGE}", None),
    "GET /v1/incidents": lambda w: ("GET", "/v1/incidents", None),
    "GET /v1/incidents/{incidentId}": lambda w: ("GET", f"/v1/incidents/{w.incident_id}", None),
    "GET /v1/incidents/{incidentId}/alerts": lambda w: ("GET", f"/v1/incidents/{w.incident_id}/alerts", None),
    "GET /v1/incidents/distribution": lambda w: ("GET", f"/v1/incidents/distribution?{PERIOD}", None),
    "GET /v1/incidents/summary": lambda w: ("GET", f"/v1/incidents/summary?{PERIOD}", None),
    "POST /v1/alerts/by-filters": lambda w: ("POST", "/v1/alerts/by-filters", w.alert_filter),
    "POST /v1/exports (audit)": lambda w: ("POST", "/v1/exports", {"dataset": "audit"}),
    "POST /v1/exports (incidents)": lambda w: ("POST", "/v1/exports", {"dataset": "incidents"}),
    "GET /v1/exports/{jobId} (audit job)": lambda w: ("GET", f"/v1/exports/{w.jobs['audit']}", None),
    "GET /v1/exports/{jobId} (incidents job)": lambda w: ("GET", f"/v1/exports/{w.jobs['incidents']}", None),
    "GET /v1/exports": lambda w: ("GET", "/v1/exports", None),
    "GET /v1/export-requests": lambda w: ("GET", "/v1/export-requests", None),
    "GET /v1/manifest-keys": lambda w: ("GET", "/v1/manifest-keys", None),
    "GET /api/v1/audit/export": lambda w: ("GET", f"/api/v1/audit/export?{RANGE}", None),
    "GET /v5/audit-sentinel/events/export": lambda w: ("GET", f"/v5/audit-sentinel/events/export?{RANGE}", None),
    "GET /api/v1/audit/export/download/{jobId} (audit job)": lambda w: (
        "GET",
        f"/api/v1/audit/export/download/{w.jobs['audit']}",
        None,
    ),
    "GET /v1/integrations/data_export/export_requests": lambda w: (
        "GET",
        "/v1/integrations/data_export/export_requests",
        None,
    ),
    "GET /api/backend/{tenant}/incidents": lambda w: ("GET", f"{BACKEND}/incidents", None),
    "GET /api/backend/{tenant}/incidents/{incidentId}": lambda w: ("GET", f"{BACKEND}/incidents/{_number(w)}", None),
    "GET /api/backend/{tenant}/incidents/distribution": lambda w: (
        "GET",
        f"{BACKEND}/incidents/distribution?{PERIOD}",
        None,
    ),
    "GET /api/backend/{tenant}/incidents/summary": lambda w: ("GET", f"{BACKEND}/incidents/summary?{PERIOD}", None),
    "POST /api/backend/{tenant}/configuration/alerts/by_filters": lambda w: (
        "POST",
        f"{BACKEND}/configuration/alerts/by_filters",
        w.alert_filter,
    ),
    **{f"GET {prefix}/{resource}": partial(_catalog_request, prefix, resource) for prefix, resource in CATALOG_ROUTES},
}


def _has_data(label: str, response: requests.Response, world: World) -> bool:
    """Whether an answer carries the tenant's data (rows, jobs, links)."""
    if label in ("GET /v1/audit/export", "GET /v1/export/{dataset}", "GET /api/v1/audit/export") or label.startswith(
        ("GET /v5/", "GET /api/export/v1/", "GET /v1/export/")
    ):
        return response.text.count("\n") > 1  # CSV: a header and rows
    if response.status_code == 302:
        return "X-Amz-Signature" in response.headers["Location"]  # a link to the file
    body = response.json()
    if label in ("GET /v1/export-requests", "GET /v1/integrations/data_export/export_requests"):
        return bool(body["data"])
    if label == "GET /v1/exports":
        return bool({item["metadata"]["jobId"] for item in body["items"]} & set(world.jobs.values()))
    if label.startswith("GET /v1/exports/"):
        return "downloadUrl" in body["status"]
    if label.startswith("POST /v1/exports"):
        return bool(body["metadata"]["jobId"])
    if label == "GET /v1/incidents":
        return bool(body)
    if label.endswith("/summary"):
        return body["total"] > 0
    return bool(body)  # details, alerts, distribution: a non-empty object or list


def _assert_carries_nothing(response: requests.Response) -> None:
    assert response.headers["Content-Type"].startswith("application/json"), response.headers
    body = response.json()
    assert set(body) <= ERROR_FIELDS, body
    assert "X-Amz" not in response.text and "http" not in response.text.lower(), response.text


def test_the_matrix_names_every_api_route_of_the_template():
    routes = {f"{route.method.upper()} {route.path}" for route in api().routes}
    named = {label.split(" (")[0] for label in MATRIX}
    assert routes == named, routes ^ named
    assert set(MATRIX) == set(REQUESTS)


@pytest.mark.parametrize("label", sorted(MATRIX))
def test_every_cell_of_the_route(label: str, stack: Stack, http: requests.Session, world: World):
    method, path, body = REQUESTS[label](world)
    for column, expected in MATRIX[label].items():
        headers = {} if column == "no key" else {"apikey": _token(column)}
        response = http.request(
            method, f"{stack.url}{path}", json=body, headers=headers, timeout=60, allow_redirects=False
        )
        status = int(expected.split()[0])
        assert response.status_code == status, (label, column, response.status_code, response.text[:300])
        if status >= 400:
            _assert_carries_nothing(response)
        else:
            assert _has_data(label, response, world) is (expected != f"{status} empty"), (label, column, response.text)


def test_a_writer_collects_its_own_job_but_not_another_keys(stack: Stack, http: requests.Session, world: World):
    keys = ApiKeyStore(stack.dynamodb(), local_refs()["ApiKeysTable"])
    token = _put_key(
        keys,
        "ak_matrix_writer_audit",
        "matrix-writer-audit-0001",
        (Permission.EXPORTS_WRITE, Permission.AUDIT_READ),
        TENANT,
    )
    started = http.post(f"{stack.url}/v1/exports", json={"dataset": "audit"}, headers={"apikey": token}, timeout=60)
    assert started.status_code == 202, started.text
    job = _wait(http, stack, token, started.json()["metadata"]["jobId"])
    content = requests.get(job["status"]["downloadUrl"], timeout=60).content.decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(content, newline="")))
    assert len(demo_records(rows)) == 40  # the tenant's records (the matrix's own exports are audited besides)
    others = http.get(f"{stack.url}/v1/exports/{world.jobs['audit']}", headers={"apikey": token}, timeout=30)
    assert others.status_code == 403 and "EXPORTS_READ" in others.json()["message"]
    _assert_carries_nothing(others)
    listed = http.get(f"{stack.url}/v1/exports", headers={"apikey": token}, timeout=30).json()["items"]
    assert [item["metadata"]["jobId"] for item in listed] == [job["metadata"]["jobId"]]
    refused = http.post(f"{stack.url}/v1/exports", json={"dataset": "incidents"}, headers={"apikey": token}, timeout=60)
    assert refused.status_code == 403 and "INCIDENTS_READ" in refused.json()["message"]


def test_an_audit_reader_collects_the_job_its_too_large_export_became(stack: Stack, http: requests.Session):
    keys = ApiKeyStore(stack.dynamodb(), local_refs()["ApiKeysTable"])
    token = _put_key(keys, "ak_matrix_acme_audit", "matrix-acme-audit-0001", (Permission.AUDIT_READ,), "acme")
    accepted = http.get(stack.export_url, headers={"apikey": token}, timeout=60)  # acme: over the synchronous limit
    assert accepted.status_code == 202, accepted.text
    job = _wait(http, stack, token, accepted.json()["metadata"]["jobId"])
    assert requests.get(job["status"]["downloadUrl"], timeout=60).status_code == 200
    # another acme key with every permission sees it too; the same tenant's incidents-only key does not
    assert http.get(f"{stack.url}{accepted.headers['Location']}", headers={"apikey": ACME}, timeout=30).ok
    incidents_only = _put_key(keys, "ak_matrix_acme_inc", "matrix-acme-inc-0001", (Permission.INCIDENTS_READ,), "acme")
    refused = http.get(f"{stack.url}{accepted.headers['Location']}", headers={"apikey": incidents_only}, timeout=30)
    assert refused.status_code == 403 and "AUDIT_READ" in refused.json()["message"]


def test_the_nightly_listing_shows_the_incident_sources_to_an_incident_reader(
    stack: Stack, http: requests.Session, world: World
):
    keys = ApiKeyStore(stack.dynamodb(), local_refs()["ApiKeysTable"])
    held = (Permission.EXPORTS_READ, Permission.INCIDENTS_READ)
    token = _put_key(keys, "ak_matrix_nightly_inc", "matrix-nightly-inc-0001", held, TENANT)
    listing = http.get(f"{stack.url}/v1/export-requests", headers={"apikey": token}, timeout=30)
    assert listing.status_code == 200, listing.text
    assert {entry["source"] for entry in listing.json()["data"]} == set(SOURCE_NAMES) - {AUDIT_SOURCE}
    assert not re.search(r"audit_event", listing.text)
