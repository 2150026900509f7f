"""End-to-end fixtures: the real local stack (`python -m devtools.local_stack`) in a subprocess, called over HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from devtools.dynamodb_local import free_port
from devtools.generate import DEFAULT_SEED, DEMO_TENANTS, audit_records, demo_window
from devtools.local_stack import DEMO_KEYS
from export_service.logic.audit_records import seal_audit_record

ROOT = Path(__file__).resolve().parents[2]
ANCHOR = datetime(2026, 6, 1, tzinfo=UTC)
DAYS = 90
# Lowered for the run so the "too large" path is reachable with demo data: acme (6,000) is over, globex (4,000) under.
SYNC_LIMIT = 5000


@dataclass(frozen=True)
class Stack:
    url: str
    dynamodb_endpoint: str
    window: tuple[datetime, datetime]
    moto_endpoint: str = ""

    @property
    def export_url(self) -> str:
        return f"{self.url}/v1/audit/export"

    def dynamodb(self) -> Any:
        """A DynamoDB client of the stack's DynamoDB Local (its access key must be "local")."""
        return boto3.client(
            "dynamodb",
            endpoint_url=self.dynamodb_endpoint,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )


def _token(key_id: str) -> str:
    return next(demo.token for demo in DEMO_KEYS if demo.key_id == key_id)


ACME = _token("ak_demo_acme")
GLOBEX = _token("ak_demo_globex")
ACME_INCIDENTS_ONLY = _token("ak_demo_acme_incidents")

# Every export is itself audited (logic/export_audit.py): the tests' own exports add records to the demo tenants'
# audit logs, stamped when they run (after the demo window), with this system source. A comparison with the generated
# records either bounds its range to the demo window (DEMO_END) or leaves them out (demo_records).
EXPORT_ACTIONS_SOURCE = "export_api"
DEMO_END = demo_window(ANCHOR, DAYS)[1].strftime("%Y-%m-%dT%H:%M:%SZ")


def demo_records(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [row for row in rows if row.get("systemSource") != EXPORT_ACTIONS_SOURCE]


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    port, ddb_port, moto_port = free_port(), free_port(), free_port()
    log_path = tmp_path_factory.mktemp("stack") / "local_stack.log"
    env = {**os.environ, "SYNC_EXPORT_LIMIT": str(SYNC_LIMIT), "PYTHONUNBUFFERED": "1"}
    # Tests start jobs without waiting for each: room for all of them (the limit is tested in test_job_lifecycle).
    env["MAX_CONCURRENT_JOBS"] = "50"
    env["SQL_TIME_LIMIT_SECONDS"] = "3"  # the hostile-SQL tests wait for the limit a few times
    # the catalog answers up to this many rows inline (100,000 deployed): globex's 543 activities become a job
    env["CATALOG_ROW_CAP"] = "500"
    for name in [name for name in env if name.startswith("AWS_ENDPOINT_URL")]:
        env.pop(name)
    command = [sys.executable, "-m", "devtools.local_stack", "--port", str(port), "--dynamodb-port", str(ddb_port)]
    command += ["--moto-port", str(moto_port), "--anchor", ANCHOR.date().isoformat(), "--days", str(DAYS), "--quiet"]
    # Tests send requests back to back: the tenants' usage plan must not throttle them (test_hardening_http gives a
    # tenant a plan of its own to see the 429).
    command += ["--parameter-overrides", "TenantRateLimit=1000", "TenantBurstLimit=2000"]
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 240
        while "local stack ready" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"local stack did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield Stack(
            f"http://127.0.0.1:{port}",
            f"http://127.0.0.1:{ddb_port}",
            demo_window(ANCHOR, DAYS),
            moto_endpoint=f"http://127.0.0.1:{moto_port}",
        )
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    assert "Traceback" not in log_path.read_text(), log_path.read_text()[-4000:]


@pytest.fixture(scope="session")
def expected() -> dict[str, list[dict[str, str]]]:
    """What the stack's generator wrote, rebuilt independently: tenant -> sealed records in time order."""
    start, end = demo_window(ANCHOR, DAYS)
    return {
        tenant: [seal_audit_record(r).model_dump() for r in audit_records(tenant, count, start, end, DEFAULT_SEED)]
        for tenant, count in DEMO_TENANTS.items()
    }


@pytest.fixture(scope="session")
def expected_rows() -> dict[str, dict[str, list[dict[str, str]]]]:
    """tenant -> dataset -> exported rows, rebuilt from the generator, in export order (created_at, id)."""
    from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles  # noqa: PLC0415
    from export_service.logic.incident_records import export_row  # noqa: PLC0415
    from export_service.models.incidents import Dataset  # noqa: PLC0415

    start, end = demo_window(ANCHOR, DAYS)
    result: dict[str, dict[str, list[dict[str, str]]]] = {}
    for tenant, count in DEMO_INCIDENTS.items():
        rows: dict[str, list[dict[str, str]]] = {dataset.value: [] for dataset in Dataset}
        for bundle in incident_bundles(tenant, count, start, end, DEFAULT_SEED):
            rows["incidents"].append(export_row(Dataset.INCIDENTS, bundle.incident))
            for dataset, models in (
                (Dataset.INCIDENT_EVENTS, bundle.events),
                (Dataset.INCIDENT_ROLE_ASSIGNMENTS, bundle.role_assignments),
                (Dataset.INCIDENT_IMPACTS, bundle.impacts),
                (Dataset.RETROSPECTIVES, bundle.retrospectives),
            ):
                rows[dataset.value].extend(export_row(dataset, model) for model in models)
        result[tenant] = {name: sorted(items, key=lambda r: (r["created_at"], r["id"])) for name, items in rows.items()}
    return result


@pytest.fixture(scope="session")
def incident_facts() -> dict[str, dict[str, dict[str, object]]]:
    """tenant -> incident id -> the incident API fields filters use (severity, priority, status, tags, project_id)."""
    from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles  # noqa: PLC0415

    start, end = demo_window(ANCHOR, DAYS)
    return {
        tenant: {
            b.incident.id: {
                "severity": b.incident.severity,
                "priority": b.incident.priority,
                "status": b.incident.status,
                "tags": list(b.incident.tags),
                "project_id": b.incident.project_id,
            }
            for b in incident_bundles(tenant, count, start, end, DEFAULT_SEED)
        }
        for tenant, count in DEMO_INCIDENTS.items()
    }


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session
