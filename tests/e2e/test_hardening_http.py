"""Production limits over HTTP on the local stack: the per-tenant rate limit (usage plan, 429 with Retry-After),
credentials that disagree (401), a deeply nested body (400 naming body), idempotent job starts, and every gateway
answer in the error model."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from pathlib import Path

import boto3
import pytest

from tests.e2e.conftest import ACME, GLOBEX

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["status"] == status and isinstance(body["status"], int), body
    assert body["error"] == code and body["message"], body
    return body


def _keys(stack, *args: str) -> str:
    command = [sys.executable, "-m", "devtools.keys", "--endpoint", stack.dynamodb_endpoint, *args]
    done = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True, timeout=60)
    return done.stdout


def test_a_tenant_over_its_rate_is_throttled_by_its_usage_plan_with_429_and_retry_after(stack, http):
    # A plan of one request every 2 seconds (2 at once) for one tenant; its key is provisioned by the key tool as on
    # AWS.
    apigateway = boto3.client(
        "apigateway",
        endpoint_url=stack.moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    plan = apigateway.create_usage_plan(name="e2e-slow-plan", throttle={"rateLimit": 0.5, "burstLimit": 2})
    created = _keys(
        stack,
        "--usage-plan",
        plan["id"],
        "--apigateway-endpoint",
        stack.moto_endpoint,
        "create",
        "--tenant",
        "ratelimited",
        "--permissions",
        "EXPORTS_READ",
    )
    assert f"in usage plan {plan['id']}" in created
    token = next(line.split()[1] for line in created.splitlines() if line.startswith("token:"))

    answers = [http.get(f"{stack.url}/v1/exports", headers={"apikey": token}) for _ in range(6)]
    statuses = [answer.status_code for answer in answers]
    assert statuses[:2] == [200, 200], statuses  # the burst
    throttled = [answer for answer in answers if answer.status_code == 429]
    assert throttled, statuses
    body = _error(throttled[0], 429, "TOO_MANY_REQUESTS")
    assert body["limit"] == "requestRate"
    assert int(throttled[0].headers["Retry-After"]) >= 1
    # another tenant is not slowed down by it
    assert http.get(f"{stack.url}/v1/exports", headers={"apikey": GLOBEX}).status_code == 200
    time.sleep(2.1)  # the bucket refills at the plan's rate
    assert http.get(f"{stack.url}/v1/exports", headers={"apikey": token}).status_code == 200


def test_a_valid_apikey_with_an_invalid_authorization_is_401(stack, http):
    for headers in (
        {"apikey": ACME, "Authorization": "Bearer not-a-key"},
        {"apikey": ACME, "Authorization": f"Bearer {GLOBEX}"},
        {"Authorization": f"Bearer {ACME}", "apikey": "garbage"},
    ):
        _error(http.get(stack.export_url, params={"to": "2026-03-10"}, headers=headers), 401, "UNAUTHORIZED")
    agreeing = {"apikey": ACME, "Authorization": f"Bearer {ACME}"}
    assert http.get(stack.export_url, params={"to": "2026-03-10"}, headers=agreeing).status_code == 200


@pytest.mark.parametrize("path", ["/v1/exports", "/v1/alerts/by-filters"])
def test_a_body_nested_2000_deep_is_a_400_naming_body(stack, http, path):
    body = '{"dataset": "audit", "filter": ' + "[" * 2000 + "]" * 2000 + "}"
    response = http.post(
        stack.url + path, data=body, headers={"apikey": ACME, "Content-Type": "application/json"}, timeout=30
    )
    assert _error(response, 400, "INVALID_PARAMETER")["parameter"] == "body"


def test_the_same_idempotency_key_starts_one_job_and_another_body_is_refused(stack, http):
    key = str(uuid.uuid4())
    body = {"dataset": "audit", "format": "jsonl", "from": "2026-03-01", "to": "2026-03-02"}
    headers = {"apikey": ACME, "Idempotency-Key": key}
    first = http.post(f"{stack.url}/v1/exports", json=body, headers=headers)
    again = http.post(f"{stack.url}/v1/exports", json=body, headers=headers)
    assert first.status_code == again.status_code == 202, (first.text, again.text)
    assert first.json()["metadata"]["jobId"] == again.json()["metadata"]["jobId"]
    assert first.headers["Location"] == again.headers["Location"]
    other = http.post(f"{stack.url}/v1/exports", json={**body, "format": "csv"}, headers=headers)
    assert _error(other, 422, "IDEMPOTENCY_KEY_REUSED")["parameter"] == "Idempotency-Key"


def test_gateway_answers_are_in_the_error_model(stack, http):
    _error(http.get(stack.export_url), 401, "UNAUTHORIZED")
    _error(http.get(f"{stack.url}/v1/no-such-route", headers={"apikey": ACME}), 404, "NOT_FOUND")
