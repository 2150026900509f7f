"""A job whose records all fall on one day: the plan cuts the day by sort-key time ranges among several part
workers (the real state machine in moto), and the file holds every record once, in order."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import boto3
import pytest

from devtools.generate import audit_records
from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from export_service.logic.audit_records import write_audit_records
from export_service.models.audit import AUDIT_COLUMNS
from tests.helpers import authorizer_context
from tests.integration.support import call

pytestmark = pytest.mark.integration

TENANT = "busy-day"
PERMISSIONS = "AUDIT_READ,EXPORTS_READ,EXPORTS_WRITE"
DAY_START, DAY_END = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 2, 23, 59, 59, tzinfo=UTC)
RECORDS = 700


def _call(method: str, path: str, resource: str, **kwargs: object) -> dict:
    event = rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        authorizer=authorizer_context(TENANT, "ak_busy_day", PERMISSIONS),
        **kwargs,  # type: ignore[arg-type]
    )
    function = "StartExportFunction" if method == "POST" else "GetExportFunction"
    response = call(function, event)
    assert response["statusCode"] in (200, 202), response["body"]
    return json.loads(response["body"])


def test_a_busy_day_is_cut_among_workers_and_every_row_is_written_once_in_order(stack, executing) -> None:
    write_audit_records(stack.audit_store, TENANT, audit_records(TENANT, RECORDS, DAY_START, DAY_END))
    body = {"dataset": "audit", "format": "jsonl", "from": "2026-03-01", "to": "2026-03-31"}
    started = _call(
        "POST",
        "/v1/exports",
        "/v1/exports",
        headers={"Content-Type": ["application/json"]},
        body=json.dumps(body),
    )
    job_id = started["metadata"]["jobId"]
    deadline = time.monotonic() + 120
    while True:
        job = _call("GET", f"/v1/exports/{job_id}", "/v1/exports/{jobId}", path_parameters={"jobId": job_id})
        if job["status"]["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"]["state"] == "succeeded", job
    assert job["status"]["progress"]["partitionsTotal"] > 4  # one day, several workers
    key = f"exports/{TENANT}/{job_id}/{job['metadata']['filename']}"
    content = boto3.client("s3").get_object(Bucket=local_refs()["ExportBucket"], Key=key)["Body"].read()
    rows = [json.loads(line) for line in content.decode().splitlines()]
    assert list(rows[0]) == list(AUDIT_COLUMNS)
    order = [(row["timestamp"], row["id"]) for row in rows]
    assert order == sorted(order) and len(set(order)) == len(order) == RECORDS == job["status"]["records"]
