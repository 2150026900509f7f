"""What an operator reads: metrics in one namespace (rows and bytes per format, job duration, sync-to-202 switches,
rejected requests by reason) and X-Ray subsegments around the read, format and upload phases of an export."""

from __future__ import annotations

import contextlib
import json
import time

import pytest

from devtools.lambda_runtime import rest_proxy_event
from export_service.api.deps import reset_dependencies
from export_service.dal import query, s3_files
from export_service.logic import export_engine, export_jobs
from tests.helpers import authorizer_context
from tests.integration.support import call

pytestmark = pytest.mark.integration


def _metrics(out: str) -> list[dict]:
    """The embedded-metric-format lines printed: (name, value, dimensions)."""
    found = []
    for line in out.splitlines():
        if '"_aws"' not in line:
            continue
        blob = json.loads(line)
        (directive,) = blob["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "ExportService"
        for metric in directive["Metrics"]:
            dimensions = {name: blob[name] for names in directive["Dimensions"] for name in names}
            found.append({"name": metric["Name"], "value": blob[metric["Name"]], **dimensions})
    return found


def _audit(query_: dict, tenant: str = "acme", permissions: str = "AUDIT_READ") -> dict:
    event = rest_proxy_event(
        method="GET",
        path="/v1/audit/export",
        resource="/v1/audit/export",
        query=query_,
        authorizer=authorizer_context(tenant, f"ak_{tenant}_signals", permissions),
    )
    return call("AuditExportFunction", event)


def test_an_answer_counts_its_rows_and_bytes_by_format(stack, capsys):
    response = _audit({"format": ["jsonl"], "from": ["2026-03-01"], "to": ["2026-03-02"]})
    assert response["statusCode"] == 200
    found = _metrics(capsys.readouterr().out)
    rows = next(m for m in found if m["name"] == "RowsExported")
    assert rows["Format"] == "jsonl" and rows["value"] == [float(len(response["body"].splitlines()))]
    size = next(m for m in found if m["name"] == "BytesExported")
    assert size["Format"] == "jsonl" and size["value"] == [float(len(response["body"]))]


def test_a_rejected_request_is_counted_by_its_reason(stack, capsys):
    assert _audit({"from": ["yesterday"]})["statusCode"] == 400
    assert _audit({}, permissions="INCIDENTS_READ")["statusCode"] == 403
    reasons = [m["Reason"] for m in _metrics(capsys.readouterr().out) if m["name"] == "RequestsRejected"]
    assert reasons == ["INVALID_PARAMETER", "FORBIDDEN"]


def test_a_sync_export_handed_to_a_job_is_counted(stack, capsys, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "10")
    reset_dependencies()
    assert _audit({"format": ["csv"], "to": ["2026-03-03T12:00:00Z"]}, tenant="globex")["statusCode"] == 202
    assert [m["value"] for m in _metrics(capsys.readouterr().out) if m["name"] == "SyncExportsHandedToJob"] == [[1.0]]


def test_a_job_traces_its_phases_and_reports_rows_bytes_and_duration(executing, capsys, monkeypatch):
    seen: list[str] = []

    @contextlib.contextmanager
    def recorded(name: str):
        seen.append(name)
        yield

    for module in (query, s3_files, export_engine, export_jobs):
        monkeypatch.setattr(module, "phase", recorded)
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers={"Content-Type": ["application/json"]},
        body=json.dumps({"dataset": "audit", "format": "csv", "from": "2026-03-01", "to": "2026-03-04"}),
        authorizer=authorizer_context("acme", "ak_acme_signals", "AUDIT_READ,EXPORTS_WRITE"),
    )
    job_id = json.loads(call("StartExportFunction", event)["body"])["metadata"]["jobId"]
    deadline = time.monotonic() + 60
    found: list[dict] = []
    while time.monotonic() < deadline:
        found += _metrics(capsys.readouterr().out)
        if any(m["name"] == "ExportJobDuration" for m in found):
            break
        time.sleep(0.2)
    assert {"read", "format", "upload"} <= set(seen), seen
    rows = [m for m in found if m["name"] == "RowsExported" and m["Format"] == "csv"]
    assert rows and rows[-1]["value"] == [240.0], job_id
    duration = next(m for m in found if m["name"] == "ExportJobDuration")
    assert duration["Format"] == "csv" and duration["value"][0] >= 0
