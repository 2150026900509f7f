"""No export job stays "processing", and a tenant runs at most MaxConcurrentJobsPerTenant jobs at once.

An execution that times out or is aborted never reaches Finish or RecordFailure; EventBridge then delivers a Step
Functions Execution Status Change, and ExportJobStatusFunction marks the job failed. moto runs the real ASL (its
TimeoutSeconds and StopExecution included) but has no EventBridge: the test fires the event the rule would deliver,
built from events/ with the execution's own fields."""

from __future__ import annotations

import json
import threading
import time

import boto3
import pytest

from devtools.lambda_runtime import rest_proxy_event
from devtools.provision import local_refs
from devtools.template import ROOT, load_template, resolve
from export_service.api.deps import reset_dependencies
from export_service.dal.job_slots import JobSlots
from export_service.logic import job_steps
from tests.helpers import authorizer_context, load_event, response_header
from tests.integration.support import call

pytestmark = pytest.mark.integration

PERMISSIONS = "AUDIT_READ,EXPORTS_READ,EXPORTS_WRITE"


def _post(tenant: str, body: dict | None = None) -> dict:
    event = rest_proxy_event(
        method="POST",
        path="/v1/exports",
        resource="/v1/exports",
        headers={"Content-Type": ["application/json"]},
        body=json.dumps(body or {"dataset": "audit", "format": "csv", "to": "2026-03-02"}),
        authorizer=authorizer_context(tenant, f"ak_{tenant}_jobs", PERMISSIONS),
    )
    return call("StartExportFunction", event)


def _job(tenant: str, job_id: str) -> dict:
    event = rest_proxy_event(
        method="GET",
        path=f"/v1/exports/{job_id}",
        resource="/v1/exports/{jobId}",
        path_parameters={"jobId": job_id},
        authorizer=authorizer_context(tenant, f"ak_{tenant}_jobs", PERMISSIONS),
    )
    response = call("GetExportFunction", event)
    assert response["statusCode"] == 200, response["body"]
    return json.loads(response["body"])


def _started(tenant: str, body: dict | None = None) -> str:
    response = _post(tenant, body)
    assert response["statusCode"] == 202, response["body"]
    return json.loads(response["body"])["metadata"]["jobId"]


def _execution_arn(job_id: str) -> str:
    machine = local_refs()["ExportStateMachine"]
    return machine.replace(":stateMachine:", ":execution:") + f":{job_id}"


def _status_event(sample: str, job_id: str) -> dict:
    """The event EventBridge delivers for this execution: the sample (its status), with the execution's own arn,
    name and input as Step Functions reports them."""
    execution = boto3.client("stepfunctions").describe_execution(executionArn=_execution_arn(job_id))
    event = load_event(sample)
    event["resources"] = [execution["executionArn"]]
    event["detail"].update(
        executionArn=execution["executionArn"],
        stateMachineArn=execution["stateMachineArn"],
        name=execution["name"],
        input=execution["input"],
    )
    return event


def _wait_for(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("timed out waiting")


@pytest.fixture(autouse=True)
def limit(stack, monkeypatch):
    """Three jobs at once per tenant (the integration suite runs without a limit)."""
    monkeypatch.setenv("MAX_CONCURRENT_JOBS", "3")
    reset_dependencies()


@pytest.fixture
def stuck_worker(executing, monkeypatch):
    """Part workers that hang until the test ends (then fail), as a worker stuck on a slow read would."""
    entered, release = threading.Event(), threading.Event()

    def hang(*_args, **_kwargs):
        entered.set()
        release.wait(60)
        raise RuntimeError("released by the test")

    monkeypatch.setattr(job_steps, "export_part", hang)
    yield entered, release
    release.set()


def _running(tenant: str) -> set[str]:
    return JobSlots(boto3.client("dynamodb"), local_refs()["ExportJobsTable"], 3).running(tenant)


def test_an_aborted_execution_ends_with_its_job_failed(stuck_worker):
    entered, _release = stuck_worker
    sfn = boto3.client("stepfunctions")
    job_id = _started("aborts")
    assert entered.wait(30), "the part worker never started"
    assert job_id in _running("aborts")
    sfn.stop_execution(executionArn=_execution_arn(job_id), error="Operator")
    # Step Functions stops the execution there and then: no later state (Finish, RecordFailure) runs. (moto marks it
    # stopped and reports the status once the running task returns, so the status comes from the sample.)
    assert _job("aborts", job_id)["status"]["state"] == "processing"  # stuck, until the rule's event
    event = _status_event("sfn_execution_aborted", job_id)
    assert (event["detail"]["status"], event["detail"]["name"]) == ("ABORTED", job_id)

    outcome = call("ExportJobStatusFunction", event)
    assert outcome["changed"] is True
    job = _job("aborts", job_id)
    assert job["status"]["state"] == "failed"
    assert job["status"]["error"] == "the export was stopped before it finished; start it again"
    assert "downloadUrl" not in job["status"]
    assert job_id not in _running("aborts")  # its slot is given back


def test_a_timed_out_execution_ends_with_its_job_failed(stuck_worker):
    sfn = boto3.client("stepfunctions")
    machine = local_refs()["ExportStateMachine"]
    spec = load_template()["Resources"]["ExportStateMachine"]["Properties"]
    definition = (ROOT / spec["DefinitionUri"]).read_text()
    for key, value in spec["DefinitionSubstitutions"].items():
        definition = definition.replace("${" + key + "}", str(resolve(value, local_refs())))
    assert '"TimeoutSeconds": 14400' in definition
    sfn.update_state_machine(
        stateMachineArn=machine, definition=definition.replace('"TimeoutSeconds": 14400', '"TimeoutSeconds": 2')
    )
    try:
        job_id = _started("timeouts")
        assert stuck_worker[0].wait(30), "the part worker never started"
        _wait_for(lambda: sfn.describe_execution(executionArn=_execution_arn(job_id))["status"] == "TIMED_OUT")
        assert _job("timeouts", job_id)["status"]["state"] == "processing"  # stuck, until the rule's event
        event = _status_event("sfn_execution_timed_out", job_id)
    finally:
        sfn.update_state_machine(stateMachineArn=machine, definition=definition)

    assert call("ExportJobStatusFunction", event)["changed"] is True
    job = _job("timeouts", job_id)
    assert job["status"]["state"] == "failed"
    assert job["status"]["error"].startswith("the export ran longer than an export may run (4 hours)")
    assert job_id not in _running("timeouts")


def test_a_job_that_recorded_its_own_end_is_left_as_it_is(stack):
    job_id = _started("settled")  # moto records the execution without running it: the job stays processing
    table = boto3.client("dynamodb")
    key = {"pk": {"S": "T#settled"}, "sk": {"S": f"JOB#{job_id}"}}
    table.update_item(
        TableName=local_refs()["ExportJobsTable"],
        Key=key,
        UpdateExpression="SET #s = :s, #e = :e",
        ExpressionAttributeNames={"#s": "state", "#e": "error"},
        ExpressionAttributeValues={":s": {"S": "failed"}, ":e": {"S": "recorded by RecordFailure"}},
    )
    event = load_event("sfn_execution_aborted")
    event["detail"].update(name=job_id, input=json.dumps({"job_id": job_id, "tenant": "settled"}), status="FAILED")
    assert call("ExportJobStatusFunction", event)["changed"] is False
    assert _job("settled", job_id)["status"]["error"] == "recorded by RecordFailure"


def test_a_nightly_execution_is_not_an_export_job(stack):
    event = load_event("sfn_execution_aborted")
    event["detail"].update(name="nightly-20260301-acme", input=json.dumps({"mode": "nightly", "night": "x"}))
    assert call("ExportJobStatusFunction", event)["changed"] is False


def test_a_tenant_over_its_concurrent_jobs_is_refused_with_429_naming_the_limit(stack):
    # moto records executions without running them here: every started job stays processing
    started = [_started("busy") for _ in range(3)]
    refused = _post("busy")
    assert refused["statusCode"] == 429, refused["body"]
    assert response_header(refused, "Retry-After") == "30"
    error = json.loads(refused["body"])
    assert (error["status"], error["error"], error["limit"], error["maximum"]) == (
        429,
        "TOO_MANY_JOBS",
        "concurrentJobs",
        3,
    )
    assert "3 export jobs" in error["message"]
    # another tenant is not affected
    assert _post("idle")["statusCode"] == 202
    # a job that ends gives its slot back: the next start is accepted
    event = load_event("sfn_execution_aborted")
    event["detail"].update(name=started[0], input=json.dumps({"job_id": started[0], "tenant": "busy"}))
    call("ExportJobStatusFunction", event)
    assert _post("busy")["statusCode"] == 202


def test_a_slot_whose_release_was_lost_is_reclaimed(stack):
    started = [_started("leaky") for _ in range(3)]
    table = boto3.client("dynamodb")
    table.update_item(  # the job ended, but its slot was never given back
        TableName=local_refs()["ExportJobsTable"],
        Key={"pk": {"S": "T#leaky"}, "sk": {"S": f"JOB#{started[1]}"}},
        UpdateExpression="SET #s = :s",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":s": {"S": "succeeded"}},
    )
    assert started[1] in _running("leaky")
    assert _post("leaky")["statusCode"] == 202
    assert started[1] not in _running("leaky")
