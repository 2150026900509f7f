"""The export job beyond 32 parts: statemachine/export_job_distributed.asl.json run by moto's interpreter. Plan writes
the Map's items to S3, the Distributed Map reads them (ItemReader), Finish reads each part's rows from the job item;
the file holds every record once, in order."""

from __future__ import annotations

import csv
import io
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import boto3
import pytest

from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from devtools.template import ROOT, load_template, resolve
from export_service.api.deps import reset_dependencies
from export_service.dal.audit_store import AuditStore
from export_service.dal.split import PartitionProber
from export_service.logic import distributed
from tests.helpers import authorizer_context
from tests.integration.support import call, expected, sealed

pytestmark = pytest.mark.integration

PERMISSIONS = "AUDIT_READ,EXPORTS_READ,EXPORTS_WRITE"


@pytest.fixture
def distributed_machine(executing: object) -> Iterator[str]:
    """The template's export state machine running the distributed ASL (its substitutions as the template gives
    them), put back afterwards: the functions start the machine their policies name."""
    props = load_template()["Resources"]["ExportStateMachine"]["Properties"]
    definition = (ROOT / "statemachine" / "export_job_distributed.asl.json").read_text()
    for key, value in props["DefinitionSubstitutions"].items():
        definition = definition.replace("${" + key + "}", str(resolve(value, local_refs())))
    sfn = boto3.client("stepfunctions")
    arn = local_refs()["ExportStateMachine"]
    before = sfn.describe_state_machine(stateMachineArn=arn)["definition"]
    sfn.update_state_machine(stateMachineArn=arn, definition=definition)
    try:
        yield arn
    finally:
        sfn.update_state_machine(stateMachineArn=arn, definition=before)


def _request(method: str, path: str, resource: str, function: str, **kwargs: object) -> dict:
    event = rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        authorizer=authorizer_context("acme", "ak_acme_distributed", PERMISSIONS),
        **kwargs,  # type: ignore[arg-type]
    )
    response = call(function, event)
    assert response["statusCode"] in (200, 202), response["body"]
    return json.loads(response["body"])


def test_a_distributed_map_job_exports_every_row_once_in_order(stack, distributed_machine, monkeypatch) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", distributed_machine)
    monkeypatch.setattr(distributed, "PART_ROWS", 25)  # 240 records: about ten parts ...
    # ... with days probed 10 keys at a time (80 records a day is then a busy day, cut into ranges)
    monkeypatch.setattr(AuditStore, "prober", lambda store: PartitionProber(store._client, store._table, 10))
    reset_dependencies()
    body = {"dataset": "audit", "format": "csv", "from": "2026-03-01", "to": "2026-03-04"}
    started = _request(
        "POST",
        "/v1/exports",
        "/v1/exports",
        "StartExportFunction",
        headers={"Content-Type": ["application/json"]},
        body=json.dumps(body),
    )
    job_id = started["metadata"]["jobId"]
    deadline = time.monotonic() + 120
    while True:
        job = _request(
            "GET",
            f"/v1/exports/{job_id}",
            "/v1/exports/{jobId}",
            "GetExportFunction",
            path_parameters={"jobId": job_id},
        )
        if job["status"]["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["status"]["state"] == "succeeded", job
    assert job["status"]["progress"]["partitionsTotal"] >= 8
    key = f"exports/acme/{job_id}/{job['metadata']['filename']}"
    content = boto3.client("s3").get_object(Bucket=local_refs()["ExportBucket"], Key=key)["Body"].read()
    rows = list(csv.reader(io.StringIO(content.decode(), newline="")))
    want = expected(sealed("acme"), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    assert [row[0] for row in rows[1:]] == [record["id"] for record in want] and len(want) == 240
    assert boto3.client("s3").get_object(Bucket=local_refs()["ExportBucket"], Key=f"exports/acme/{job_id}/items.json")
