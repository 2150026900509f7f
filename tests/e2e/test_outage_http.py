"""The database stops: every route answers 503 with Retry-After, in the error model, within seconds.

This runs a small stack of its own (no demo data) on a DynamoDB Local that the test starts and then stops, so the
session's stack keeps working for every other test."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from devtools.dynamodb_local import DynamoDBLocal, free_port
from devtools.lambda_runtime import CALL_LOG_ENV
from tests.e2e.conftest import ACME

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
JOB = "exp-20260301T000000-0123456789ab"
ROUTES = [
    ("GET", "/v1/audit/export?to=2026-03-02", None),
    ("GET", "/v1/export/incidents", None),
    ("GET", "/v1/incidents", None),
    ("POST", "/v1/exports", {"dataset": "audit", "format": "csv"}),
    ("GET", f"/v1/exports/{JOB}", None),
    ("GET", "/v1/exports", None),
    ("GET", "/v1/export-requests", None),
    ("GET", "/api/v1/audit/export", None),
]


@dataclass
class OwnStack:
    url: str
    dynamodb: DynamoDBLocal


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    logs = tmp_path_factory.mktemp("outage")
    dynamodb = DynamoDBLocal(free_port(), log_path=logs / "dynamodb-local.log").start()
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", CALL_LOG_ENV: os.environ[CALL_LOG_ENV]}
    for name in [name for name in env if name.startswith("AWS_ENDPOINT_URL")]:
        env.pop(name)
    command = [sys.executable, "-m", "devtools.local_stack", "--port", str(port), "--moto-port", str(free_port())]
    command += ["--dynamodb-endpoint", dynamodb.endpoint, "--no-demo-data", "--quiet"]
    log_path = logs / "local_stack.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while "local stack ready" not in log_path.read_text():
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"local stack did not start:\n{log_path.read_text()[-4000:]}")
            time.sleep(0.5)
        yield OwnStack(f"http://127.0.0.1:{port}", dynamodb)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        dynamodb.stop()


def _send(http: requests.Session, stack: OwnStack, method: str, path: str, body: object) -> requests.Response:
    return http.request(method, stack.url + path, headers={"apikey": ACME}, json=body, timeout=30)


def test_with_the_database_stopped_every_route_answers_503_with_retry_after_within_5_seconds(own_stack, http):
    # the stack works while its database runs
    assert _send(http, own_stack, "GET", "/v1/exports", None).status_code == 200
    own_stack.dynamodb.stop()
    for method, path, body in ROUTES:
        began = time.monotonic()
        response = _send(http, own_stack, method, path, body)
        elapsed = time.monotonic() - began
        assert response.status_code == 503, (method, path, response.text)
        assert elapsed < 5, f"{method} {path} answered after {elapsed:.1f}s"
        assert int(response.headers["Retry-After"]) >= 1, (method, path)
        assert response.headers["Content-Type"].startswith("application/json")
        error = response.json()
        assert error["status"] == 503 and isinstance(error["status"], int), error
        assert error["error"] == "SERVICE_UNAVAILABLE" and error["message"], error
