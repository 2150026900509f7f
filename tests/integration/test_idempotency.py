"""Idempotent job starts: POST /v1/exports with an Idempotency-Key (Powertools Idempotency on IdempotencyTable), and
an over-limit synchronous export retried within minutes, each answer the job their first request started."""

from __future__ import annotations

import json

import boto3
import pytest

from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from export_service.api.deps import reset_dependencies
from tests.helpers import authorizer_context, response_header
from tests.integration.support import call

pytestmark = pytest.mark.integration

PERMISSIONS = "AUDIT_READ,EXPORTS_READ,EXPORTS_WRITE"
BODY = {"dataset": "audit", "format": "csv", "from": "2026-03-01", "to": "2026-03-02"}


def _post(body: dict, key: str | None, *, key_id: str = "ak_acme_idem") -> dict:
    headers = {"Content-Type": ["application/json"]}
    if key is not None:
        headers["Idempotency-Key"] = [key]
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers=headers,
        body=json.dumps(body),
        authorizer=authorizer_context("acme", key_id, PERMISSIONS),
    )
    return call("StartExportFunction", event)


def _job_id(response: dict) -> str:
    assert response["statusCode"] == 202, response["body"]
    return json.loads(response["body"])["metadata"]["jobId"]


def _jobs(tenant: str = "acme") -> int:
    found = boto3.client("dynamodb").query(
        TableName=local_refs()["ExportJobsTable"],
        KeyConditionExpression="pk = :pk AND begins_with(sk, :job)",
        ExpressionAttributeValues={":pk": {"S": f"T#{tenant}"}, ":job": {"S": "JOB#"}},
        Select="COUNT",
    )
    return int(found["Count"])


def test_the_same_key_and_body_answer_the_same_job(stack):
    before = _jobs()
    first = _post(BODY, "5f0e1c2a-0000-4000-8000-000000000001")
    again = _post(dict(reversed(list(BODY.items()))), "5f0e1c2a-0000-4000-8000-000000000001")  # same body, any order
    assert _job_id(first) == _job_id(again)
    assert response_header(first, "Location") == response_header(again, "Location")
    assert _jobs() == before + 1  # one job, not two


def test_the_same_key_with_another_body_is_a_422_naming_the_header(stack):
    _job_id(_post(BODY, "5f0e1c2a-0000-4000-8000-000000000002"))
    other = _post({**BODY, "format": "jsonl"}, "5f0e1c2a-0000-4000-8000-000000000002")
    assert other["statusCode"] == 422, other["body"]
    error = json.loads(other["body"])
    assert (error["status"], error["error"], error["parameter"]) == (422, "IDEMPOTENCY_KEY_REUSED", "Idempotency-Key")


def test_keys_are_per_api_key_and_without_one_every_post_starts_a_job(stack):
    key = "5f0e1c2a-0000-4000-8000-000000000003"
    mine = _job_id(_post(BODY, key))
    theirs = _job_id(_post(BODY, key, key_id="ak_acme_other"))
    assert mine != theirs
    assert _job_id(_post(BODY, None)) != _job_id(_post(BODY, None))


def test_a_start_that_failed_keeps_nothing_and_can_be_retried_with_its_key(stack):
    key = "5f0e1c2a-0000-4000-8000-000000000004"
    refused = _post({**BODY, "from": "yesterday"}, key)
    assert refused["statusCode"] == 400, refused["body"]
    assert _job_id(_post(BODY, key))  # the same key now starts the corrected request


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve", "two words"])
def test_a_malformed_key_is_a_400_naming_the_header(stack, key):
    response = _post(BODY, key)
    assert response["statusCode"] == 400, response["body"]
    assert json.loads(response["body"])["parameter"] == "Idempotency-Key"


def _sync(query: dict[str, list[str]]) -> dict:
    event = rest_proxy_event(
        method="GET",
        path="/v1/audit/export",
        resource="/v1/audit/export",
        query=query,
        authorizer=authorizer_context("globex", "ak_globex_sync", "AUDIT_READ"),
    )
    return call("AuditExportFunction", event)


def test_an_over_limit_export_retried_within_minutes_answers_the_running_job(stack, monkeypatch):
    monkeypatch.setenv("SYNC_EXPORT_LIMIT", "10")  # globex has 150 records
    reset_dependencies()
    before = _jobs("globex")
    query = {"format": ["jsonl"], "to": ["2026-03-04T00:00:00Z"]}
    first = _sync(query)
    retried = _sync(dict(reversed(list(query.items()))))  # the same request (parameter order does not matter)
    assert _job_id(first) == _job_id(retried)
    assert _jobs("globex") == before + 1
    other = _sync({"format": ["csv"], "to": ["2026-03-04T00:00:00Z"]})  # another request: its own job
    assert _job_id(other) != _job_id(first)
