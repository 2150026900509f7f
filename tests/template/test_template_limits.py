"""Running in production: per-tenant quotas enforced by API Gateway, reserved concurrency, the job watchdog rule,
idempotency's table, and every gateway answer in the error model."""

from __future__ import annotations

import json

import pytest

from devtools.template import ROOT, load_template, resources

pytestmark = pytest.mark.template


def _resources() -> dict:
    return load_template()["Resources"]


def test_requests_are_metered_per_tenant_by_the_usage_plan_of_the_authorizers_key():
    api = _resources()["ExportApi"]["Properties"]
    assert api["ApiKeySourceType"] == "AUTHORIZER" and api["Auth"]["ApiKeyRequired"] is True
    (stage,) = api["MethodSettings"]
    assert stage["ThrottlingRateLimit"] == {"Ref": "ApiRateLimit"}
    assert stage["ThrottlingBurstLimit"] == {"Ref": "ApiBurstLimit"}
    plan = _resources()["TenantUsagePlan"]["Properties"]
    assert plan["Throttle"] == {"RateLimit": {"Ref": "TenantRateLimit"}, "BurstLimit": {"Ref": "TenantBurstLimit"}}
    assert plan["ApiStages"] == [{"ApiId": {"Ref": "ExportApi"}, "Stage": {"Ref": "ExportApi.Stage"}}]
    # keys minted without a tenant usage key are metered under the fallback key, which is in the plan
    fallback = _resources()["FallbackUsageKey"]["Properties"]["Value"]
    authorizer = _resources()["AuthorizerFunction"]["Properties"]["Environment"]["Variables"]
    assert authorizer["FALLBACK_USAGE_KEY"] == fallback
    link = _resources()["FallbackUsagePlanKey"]["Properties"]
    assert link["KeyId"] == {"Ref": "FallbackUsageKey"} and link["UsagePlanId"] == {"Ref": "TenantUsagePlan"}
    parameters = load_template()["Parameters"]
    for name in ("TenantRateLimit", "TenantBurstLimit", "ApiRateLimit", "ApiBurstLimit", "MaxConcurrentJobsPerTenant"):
        assert parameters[name]["MinValue"] >= 1, name


def test_every_gateway_answer_is_the_error_model_with_its_own_status_as_a_number():
    answers = _resources()["ExportApi"]["Properties"]["GatewayResponses"]
    for kind, answer in answers.items():
        template = answer["ResponseTemplates"]["application/json"]
        body = json.loads(template.replace("$context.error.messageString", '"a message"'))
        assert body["status"] == answer["StatusCode"], kind
        assert isinstance(body["status"], int) and body["error"].isupper() and body["message"], kind
    for kind, status, wait in (
        ("THROTTLED", 429, "'1'"),
        ("AUTHORIZER_FAILURE", 503, "'5'"),
        ("AUTHORIZER_CONFIGURATION_ERROR", 503, "'5'"),
    ):
        assert answers[kind]["StatusCode"] == status
        assert answers[kind]["ResponseParameters"]["Headers"]["Retry-After"] == wait, kind


def test_export_workers_are_capped_by_reserved_concurrency_and_the_state_machine_waits_out_throttling():
    functions = resources(load_template(), "AWS::Serverless::Function")
    capped = {name for name, fn in functions.items() if "ReservedConcurrentExecutions" in fn["Properties"]}
    assert capped == {
        "AuthorizerFunction",
        "ExportPlanFunction",
        "ExportPartFunction",
        "ExportFinishFunction",
        "NightlySourceFunction",
    }
    assert functions["ExportPartFunction"]["Properties"]["ReservedConcurrentExecutions"] == {
        "Fn::If": ["ReserveWorkerConcurrency", {"Ref": "ExportWorkerConcurrency"}, {"Ref": "AWS::NoValue"}]
    }
    asl = json.loads((ROOT / "statemachine" / "export_job.asl.json").read_text())["States"]
    tasks = [asl["Plan"], asl["ExportParts"]["ItemProcessor"]["States"]["ExportPart"], asl["Finish"]]
    nightly = asl["NightlySources"]["ItemProcessor"]["States"]["NightlySource"]
    tasks += [asl["RecordFailure"], asl["NightlyCommit"], nightly]
    for task in tasks:
        first = task["Retry"][0]
        assert "Lambda.TooManyRequestsException" in first["ErrorEquals"] and first["MaxAttempts"] >= 8
        assert task["Retry"][-1]["ErrorEquals"] == ["States.ALL"]


def test_a_stopped_export_execution_reaches_the_job_watchdog():
    function = _resources()["ExportJobStatusFunction"]["Properties"]
    (rule,) = function["Events"].values()
    assert rule["Type"] == "EventBridgeRule"
    pattern = rule["Properties"]["Pattern"]
    assert pattern["source"] == ["aws.states"]
    assert pattern["detail-type"] == ["Step Functions Execution Status Change"]
    assert sorted(pattern["detail"]["status"]) == ["ABORTED", "FAILED", "TIMED_OUT"]
    assert pattern["detail"]["stateMachineArn"] == [{"Ref": "ExportStateMachine"}]
    assert rule["Properties"]["DeadLetterConfig"] == {"Type": "SQS"}


def test_idempotency_records_expire_by_ttl_and_only_job_starting_functions_may_write_them():
    table = _resources()["IdempotencyTable"]["Properties"]
    assert table["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    writers = {
        name
        for name, fn in resources(load_template(), "AWS::Serverless::Function").items()
        if "IdempotencyTable" in json.dumps(fn["Properties"].get("Policies", []))
    }
    starters = {
        name
        for name, fn in resources(load_template(), "AWS::Serverless::Function").items()
        if "states:StartExecution" in json.dumps(fn["Properties"].get("Policies", []))
        and name != "NightlyDispatchFunction"
    }
    assert writers == starters
