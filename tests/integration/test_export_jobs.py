"""Export jobs through the real state machine: moto interprets the ASL file, its Lambda tasks run in-process.

Faults: a part worker that crashes once (after writing its whole part) is retried, and the file still has each row
exactly once; a worker that keeps failing ends in the Catch, and the job records why.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import threading
import time
from datetime import UTC, datetime
from urllib.parse import unquote, urlsplit

import boto3
import pytest

from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from export_service.logic import job_steps
from export_service.models.audit import AUDIT_COLUMNS
from tests.helpers import authorizer_context
from tests.integration.support import call, expected, sealed

pytestmark = pytest.mark.integration

JOB_PERMISSIONS = "AUDIT_READ,EXPORTS_READ,EXPORTS_WRITE"


def _post(body: dict) -> dict:
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers={"Content-Type": ["application/json"]},
        body=json.dumps(body),
        authorizer=authorizer_context("acme", "ak_acme_jobs", JOB_PERMISSIONS),
    )
    response = call("StartExportFunction", event)
    assert response["statusCode"] == 202, response["body"]
    return json.loads(response["body"])


def _status(job_id: str) -> dict:
    event = rest_proxy_event(
        method="GET",
        path=f"/v1/exports/{job_id}",
        resource="/v1/exports/{jobId}",
        path_parameters={"jobId": job_id},
        authorizer=authorizer_context("acme", "ak_acme_jobs", JOB_PERMISSIONS),
    )
    response = call("GetExportFunction", event)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def _wait(job_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body = _status(job_id)
        if body["status"]["state"] in ("succeeded", "failed"):
            return body
        time.sleep(0.2)
    raise AssertionError(f"job {job_id} did not finish: {_status(job_id)}")


def _file(job: dict) -> bytes:
    path = urlsplit(job["status"]["downloadUrl"]).path  # virtual-hosted or path-style: the key starts at exports/
    key = unquote(path[path.index("exports/") :])
    bucket = local_refs()["ExportBucket"]
    return boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()


def test_a_job_runs_through_the_state_machine(executing):
    job = _wait(
        _post({"dataset": "audit", "format": "csv", "from": "2026-03-01", "to": "2026-03-04"})["metadata"]["jobId"]
    )
    assert job["status"]["state"] == "succeeded", job
    content = _file(job)
    assert hashlib.sha256(content).hexdigest() == job["status"]["sha256"]
    rows = list(csv.reader(io.StringIO(content.decode(), newline="")))
    assert rows[0] == list(AUDIT_COLUMNS)
    want = expected(sealed("acme"), datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 4, tzinfo=UTC))
    assert [row[0] for row in rows[1:]] == [record["id"] for record in want]
    assert job["status"]["records"] == len(want) == 240


def test_a_worker_that_crashes_once_is_retried_and_each_row_is_written_once(executing, monkeypatch):
    real = job_steps.export_part
    calls: list[int] = []

    lock = threading.Lock()

    def crash_once(spec, stores, parts, upload, *progress):
        with lock:  # parts run concurrently (the Map state): number the calls as they start
            number = len(calls)
            calls.append(number)
        rows = real(spec, stores, parts, upload, *progress)  # the whole part is written ...
        if number == 0:
            raise RuntimeError("worker lost after writing its rows")  # ... and then the worker dies
        return rows

    monkeypatch.setattr(job_steps, "export_part", crash_once)
    job = _wait(
        _post({"dataset": "audit", "format": "jsonl", "from": "2026-03-01", "to": "2026-03-04"})["metadata"]["jobId"]
    )
    assert job["status"]["state"] == "succeeded", job
    parts = job["status"]["progress"]["partitionsTotal"]
    assert len(calls) == parts + 1  # one retry
    ids = [json.loads(line)["id"] + json.loads(line)["timestamp"] for line in _file(job).decode().splitlines()]
    assert len(ids) == len(set(ids)) == 240
    # rows so far: each part set its own figure, the retried one overwrote its first try's (never counted twice)
    item = boto3.client("dynamodb").get_item(
        TableName=local_refs()["ExportJobsTable"],
        Key={"pk": {"S": "T#acme"}, "sk": {"S": f"JOB#{job['metadata']['jobId']}"}},
    )["Item"]
    assert sum(int(value["N"]) for name, value in item.items() if name.startswith("rows_p")) == 240
    assert job["status"]["progress"]["recordsSoFar"] == 240


def test_a_worker_that_keeps_failing_fails_the_job_with_a_reason(executing, monkeypatch):
    def always_fail(spec, stores, parts, upload, *progress):
        raise RuntimeError("DynamoDB is unreachable")

    monkeypatch.setattr(job_steps, "export_part", always_fail)
    job = _wait(_post({"dataset": "audit", "format": "csv", "to": "2026-03-02"})["metadata"]["jobId"], timeout=90)
    assert job["status"]["state"] == "failed"
    # The caller learns that it failed and how to follow up, not the internal error text
    assert job["status"]["error"].startswith("the export failed (RuntimeError)")
    assert job["metadata"]["jobId"] in job["status"]["error"]
    assert "unreachable" not in job["status"]["error"]
    assert "Traceback" not in json.dumps(job)
    assert "downloadUrl" not in job["status"]


def test_a_base64_encoded_body_is_read_like_a_plain_one(stack):
    # With BinaryMediaTypes */* (for the PDF), API Gateway base64-encodes request bodies and says so in the event
    body = {"dataset": "audit", "format": "jsonl", "event_type": ["incident"], "locale": "de"}
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers={"Content-Type": ["application/json"]},
        body=base64.b64encode(json.dumps(body).encode()).decode(),
        authorizer=authorizer_context("acme", "ak_acme_jobs", JOB_PERMISSIONS),
    )
    event["isBase64Encoded"] = True
    response = call("StartExportFunction", event)
    assert response["statusCode"] == 202, response["body"]
    job = json.loads(response["body"])
    assert (job["metadata"]["dataset"], job["metadata"]["format"]) == ("audit", "jsonl")


@pytest.mark.parametrize(
    ("content_type", "raw", "status", "error"),
    [
        ("application/json", b'\xff\xfe{"dataset": "audit"}', 400, "INVALID_PARAMETER"),  # not UTF-8
        ("text/plain", json.dumps({"dataset": "audit"}).encode(), 415, "UNSUPPORTED_MEDIA_TYPE"),
        # Powertools would parse these as forms (and fail on a multipart type without its boundary): JSON only here
        ("application/x-www-form-urlencoded", b"dataset=audit", 415, "UNSUPPORTED_MEDIA_TYPE"),
        ("multipart/form-data", b"dataset=audit", 415, "UNSUPPORTED_MEDIA_TYPE"),
        (
            "multipart/form-data; boundary=xyz",
            b'--xyz\r\nContent-Disposition: form-data; name="dataset"\r\n\r\naudit\r\n--xyz--\r\n',
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        ("application/vnd.api+json", json.dumps({"dataset": "audit"}).encode(), 415, "UNSUPPORTED_MEDIA_TYPE"),
    ],
)
@pytest.mark.parametrize(
    ("function", "resource"),
    [("StartExportFunction", "/v1/exports"), ("AlertsByFiltersFunction", "/v1/alerts/by-filters")],
)
def test_a_body_the_api_cannot_read_is_a_4xx_naming_the_body(
    stack, function, resource, content_type, raw, status, error
):
    event = rest_proxy_event(
        method="POST",
        path=resource,
        resource=resource,
        headers={"Content-Type": [content_type]},
        body=base64.b64encode(raw).decode(),
        authorizer=authorizer_context("acme", "ak_acme_jobs", f"{JOB_PERMISSIONS},INCIDENTS_READ"),
    )
    event["isBase64Encoded"] = True  # as API Gateway sends every body (BinaryMediaTypes */*)
    response = call(function, event)
    assert response["statusCode"] == status, response["body"]
    body = json.loads(response["body"])
    assert body["error"] == error and body["parameter"] == "body"


@pytest.mark.parametrize("content_type", ["Application/JSON", "application/json; charset=UTF-8", "APPLICATION/JSON;"])
def test_a_json_media_type_in_any_letter_case_or_with_a_charset_is_json(stack, content_type):
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers={"Content-Type": [content_type]},
        body=json.dumps({"dataset": "audit", "format": "csv"}),
        authorizer=authorizer_context("acme", "ak_acme_jobs", JOB_PERMISSIONS),
    )
    response = call("StartExportFunction", event)
    assert response["statusCode"] == 202, response["body"]
    assert json.loads(response["body"])["metadata"]["dataset"] == "audit"


def test_a_body_the_api_cannot_read_still_answers_403_to_a_key_without_the_permission(stack):
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers={"Content-Type": ["text/plain"]},
        body="x",
        authorizer=authorizer_context("acme", "ak_acme_reader", "AUDIT_READ"),
    )
    assert call("StartExportFunction", event)["statusCode"] == 403
