"""Asynchronous exports over HTTP: 202, the state machine runs (moto's ASL interpreter), presigned downloads."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset
from tests.e2e.conftest import ACME, ACME_INCIDENTS_ONLY, DEMO_END, GLOBEX, SYNC_LIMIT, Stack

pytestmark = pytest.mark.e2e

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n")


def _spreadsheet(row: dict[str, str]) -> dict[str, str]:
    return {key: ("'" + value if value[:1] in _TRIGGERS else value) for key, value in row.items()}


def _wait(http: requests.Session, stack: Stack, token: str, location: str, timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        response = http.get(f"{stack.url}{location}", headers={"apikey": token}, timeout=30)
        assert response.status_code == 200, response.text
        body = response.json()
        if body["status"]["state"] in ("succeeded", "failed"):
            return body
        assert time.monotonic() < deadline, body
        time.sleep(0.5)


def _download(url: str) -> bytes:
    # A presigned link is enough: no API key, plain HTTP GET
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text
    return response.content


def _assert_link_expires_in_300_seconds(url: str) -> None:
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["300"], url
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]


def _start(http: requests.Session, stack: Stack, token: str, body: dict) -> requests.Response:
    return http.post(f"{stack.url}/v1/exports", json=body, headers={"apikey": token}, timeout=60)


def _checked_file(http: requests.Session, stack: Stack, token: str, accepted: requests.Response) -> tuple[bytes, dict]:
    assert accepted.status_code == 202, accepted.text
    job = _wait(http, stack, token, accepted.headers["Location"])
    assert job["status"]["state"] == "succeeded", job
    status = job["status"]
    _assert_link_expires_in_300_seconds(status["downloadUrl"])
    content = _download(status["downloadUrl"])
    manifest = json.loads(_download(status["manifestUrl"]))
    # The file's SHA-256 equals the job's and the manifest's; bytes and rows agree everywhere
    digest = hashlib.sha256(content).hexdigest()
    assert digest == status["sha256"] == manifest["files"][0]["sha256"]
    assert len(content) == status["bytes"] == manifest["files"][0]["bytes"]
    assert status["records"] == manifest["totalRows"] == manifest["files"][0]["rows"]
    assert manifest["jobId"] == job["metadata"]["jobId"]
    return content, job


def test_a_sync_audit_export_over_the_limit_finishes_as_a_file_equal_to_the_records(stack, http, expected):
    # Given acme's whole audit log (6,000 records, over the sync limit), when requested synchronously
    accepted = http.get(stack.export_url, params={"to": DEMO_END}, headers={"apikey": ACME}, timeout=60)
    content, job = _checked_file(http, stack, ACME, accepted)
    # Then the downloaded CSV has each record exactly once, in order, equal to what was written
    reader = csv.reader(io.StringIO(content.decode("utf-8"), newline=""))
    assert next(reader) == list(AUDIT_COLUMNS)
    rows = [dict(zip(AUDIT_COLUMNS, row, strict=True)) for row in reader]
    assert len(expected["acme"]) > SYNC_LIMIT
    assert rows == [_spreadsheet(record) for record in expected["acme"]]
    assert job["status"]["records"] == 6000
    assert job["status"]["progress"]["partitionsDone"] == job["status"]["progress"]["partitionsTotal"] >= 1


def test_a_sync_dataset_export_over_the_limit_as_json_lines(stack, http, expected_rows):
    accepted = http.get(
        f"{stack.url}/v1/export/incident-events", params={"format": "jsonl"}, headers={"apikey": ACME}, timeout=60
    )
    content, _ = _checked_file(http, stack, ACME, accepted)
    rows = [json.loads(line) for line in content.decode("utf-8").splitlines()]
    assert rows == expected_rows["acme"]["incident-events"]


def test_post_exports_json_envelope_with_filters(stack, http, expected_rows, incident_facts):
    body = {"dataset": "incidents", "format": "json", "filter": {"severities": ["HIGH", "MEDIUM"]}, "tags": "PROD"}
    content, job = _checked_file(http, stack, ACME, _start(http, stack, ACME, body))
    document = json.loads(content)
    facts = incident_facts["acme"]
    want = [
        row
        for row in expected_rows["acme"]["incidents"]
        if facts[row["id"]]["severity"] in ("HIGH", "MEDIUM") and "PROD" in facts[row["id"]]["tags"]
    ]
    assert (document["apiVersion"], document["kind"]) == ("v1", "DatasetExport")
    assert document["metadata"]["totalRecords"] == len(want) == job["status"]["records"]
    assert document["records"] == want
    assert all(list(record) == list(DATASETS[Dataset.INCIDENTS].columns) for record in document["records"])


def test_sparse_filter_many_empty_partitions(stack, http, expected):
    # A rare action over the whole window: most day partitions hold no matching row
    want = [r for r in expected["globex"] if r["action"] == "apikey.revoke"]
    assert 0 < len(want) < 200
    content, _ = _checked_file(
        http,
        stack,
        GLOBEX,
        _start(http, stack, GLOBEX, {"dataset": "audit", "action": "apikey.revoke", "format": "jsonl"}),
    )
    assert [json.loads(line) for line in content.decode().splitlines()] == want


def test_a_range_with_no_data_is_a_valid_file_with_its_header(stack, http):
    body = {"dataset": "audit", "format": "csv", "from": "2020-01-01T00:00:00Z", "to": "2020-01-31T00:00:00Z"}
    content, job = _checked_file(http, stack, ACME, _start(http, stack, ACME, body))
    assert content.decode() == ",".join(AUDIT_COLUMNS) + "\r\n"
    assert job["status"]["records"] == 0
    assert job["metadata"]["filename"] == "audit-2020-01-01_2020-01-31.csv"
    empty_json, _ = _checked_file(http, stack, ACME, _start(http, stack, ACME, {**body, "format": "json"}))
    assert json.loads(empty_json)["records"] == []


def test_jobs_are_the_tenants_own(stack, http):
    accepted = _start(http, stack, ACME, {"dataset": "retrospectives", "format": "csv"})
    location = accepted.headers["Location"]
    _wait(http, stack, ACME, location)
    # Another tenant's job and a job that does not exist are both 404
    assert http.get(f"{stack.url}{location}", headers={"apikey": GLOBEX}).status_code == 404
    assert (
        http.get(f"{stack.url}/v1/exports/exp-20260101T000000-000000000000", headers={"apikey": ACME}).status_code
        == 404
    )
    listed = http.get(f"{stack.url}/v1/exports", headers={"apikey": ACME}).json()
    assert location.rsplit("/", 1)[1] in {item["metadata"]["jobId"] for item in listed["items"]}
    other = http.get(f"{stack.url}/v1/exports", headers={"apikey": GLOBEX}).json()
    assert location.rsplit("/", 1)[1] not in {item["metadata"]["jobId"] for item in other["items"]}


def test_an_expired_job_is_gone(stack, http):
    accepted = _start(http, stack, ACME, {"dataset": "incident-impacts", "format": "csv"})
    job = _wait(http, stack, ACME, accepted.headers["Location"])
    # Given the job's 30 days have passed (its TTL has not removed it yet)
    table = boto3.client(
        "dynamodb",
        endpoint_url=stack.dynamodb_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    table.update_item(
        TableName="ExportJobsTable",
        Key={"pk": {"S": "T#acme"}, "sk": {"S": f"JOB#{job['metadata']['jobId']}"}},
        UpdateExpression="SET expires_at = :t",
        ExpressionAttributeValues={":t": {"S": "2026-01-01T00:00:00.000Z"}},
    )
    response = http.get(f"{stack.url}{accepted.headers['Location']}", headers={"apikey": ACME})
    assert response.status_code == 410
    assert response.json()["error"] == "GONE" and "expired" in response.json()["message"]


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"dataset": "nope"}, "dataset"),
        ({"format": "csv"}, "dataset"),
        ({"dataset": "audit", "format": "xlsx"}, "format"),
        ({"dataset": "incidents", "filter": {"severity": ["HIGH"]}}, "filter"),
        ({"dataset": "incidents", "sort": {"field": "name"}}, "sort"),
        ({"dataset": "audit", "from": "yesterday"}, "from"),
        ({"dataset": "audit", "severities": "HIGH"}, "severities"),
        ({"dataset": "incidents", "from": "2026-05-01", "to": "2026-04-01"}, "from"),
    ],
)
def test_bad_job_requests_are_400_naming_the_field(stack, http, body, parameter):
    response = _start(http, stack, ACME, body)
    assert response.status_code == 400, response.text
    assert response.json()["parameter"] == parameter


def test_permissions(stack, http):
    assert _start(http, stack, ACME_INCIDENTS_ONLY, {"dataset": "incidents"}).status_code == 403
    # The job list needs no permission of its own: it shows the jobs the key may see. Without EXPORTS_READ that is
    # none of the jobs other keys started (this module's jobs were started with the all-permission key).
    everyone = http.get(f"{stack.url}/v1/exports", headers={"apikey": ACME}, timeout=30).json()["items"]
    assert any(item["metadata"]["dataset"] == "audit" for item in everyone)
    listed = http.get(f"{stack.url}/v1/exports", headers={"apikey": ACME_INCIDENTS_ONLY}, timeout=30)
    assert listed.status_code == 200
    assert listed.json()["items"] == []
