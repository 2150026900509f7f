"""The SAM template's nightly export: retention, the schedule, the state machine's nightly branch, least privilege."""

from __future__ import annotations

import pytest

from devtools.template import ROOT, load_template, resources
from tests.template.template_support import _listed

pytestmark = pytest.mark.template


def _statements(fn: dict) -> list[dict]:
    return [statement for policy in fn["Properties"]["Policies"] for statement in policy["Statement"]]


def test_export_requests_expire_after_30_days_and_enabled_tenants_are_indexed():
    from datetime import timedelta  # noqa: PLC0415

    from export_service.dal.s3_files import PRESIGN_SECONDS  # noqa: PLC0415
    from export_service.logic.nightly import RETENTION  # noqa: PLC0415

    template = load_template()
    table = template["Resources"]["ExportRequestsTable"]["Properties"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    indexes = {index["IndexName"]: index for index in table["GlobalSecondaryIndexes"]}
    assert indexes["ByEnabled"]["KeySchema"][0] == {"AttributeName": "nightly_enabled", "KeyType": "HASH"}
    assert {"AttributeName": "nightly_enabled", "AttributeType": "S"} in table["AttributeDefinitions"]
    bucket = template["Resources"]["ExportBucket"]["Properties"]
    assert any(
        rule.get("ExpirationInDays") == 30 and rule["Status"] == "Enabled"
        for rule in bucket["LifecycleConfiguration"]["Rules"]
    )
    assert timedelta(days=30) == RETENTION
    assert PRESIGN_SECONDS == 300


def test_the_listing_may_sign_nightly_reads_and_list_the_bucket_so_an_expunged_link_is_404_not_403():
    # moto does not enforce IAM, so the e2e 404 cannot show this: S3 answers a GET of a missing key with 404 only when
    # the signer holds s3:ListBucket on the bucket, and with 403 otherwise.
    fn = load_template()["Resources"]["ListExportRequestsFunction"]
    granted = {
        action: _listed(statement["Resource"])
        for statement in _statements(fn)
        if statement["Effect"] == "Allow"
        for action in _listed(statement["Action"])
    }
    assert granted["s3:ListBucket"] == [{"Fn::GetAtt": ["ExportBucket", "Arn"]}]
    assert granted["s3:GetObject"] == [{"Fn::Sub": "${ExportBucket.Arn}/nightly/*"}]
    assert not any(action.startswith("s3:") and action not in {"s3:ListBucket", "s3:GetObject"} for action in granted)


def test_the_nightly_schedule_delivers_an_eventbridge_event_to_the_dispatcher():
    import json  # noqa: PLC0415

    from devtools.nightly import EVENT_PATH  # noqa: PLC0415

    fn = load_template()["Resources"]["NightlyDispatchFunction"]["Properties"]
    schedule = fn["Events"]["Nightly"]  # (the other schedule, CommitDeadline, checks nights: test_template_alarms)
    assert schedule["Type"] == "ScheduleV2"
    props = schedule["Properties"]
    assert props["ScheduleExpressionTimezone"] == "UTC"
    text = props["Input"]["Fn::Sub"]
    event = json.loads(text.replace("${AWS::AccountId}", "123456789012").replace("${AWS::Region}", "us-east-1"))
    assert event["time"] == "<aws.scheduler.scheduled-time>"
    assert event["source"] == "aws.scheduler" and event["detail-type"] == "Scheduled Event"
    assert event["detail"] == {}
    assert set(event) == set(json.loads(EVENT_PATH.read_text()))
    assert "STATE_MACHINE_ARN" in fn["Environment"]["Variables"]


def test_the_state_machine_routes_nightly_runs_to_the_sources_map_then_the_commit():
    import json  # noqa: PLC0415

    (machine,) = resources(load_template(), "AWS::Serverless::StateMachine").values()
    props = machine["Properties"]
    assert {"NightlySourceFunctionArn", "NightlyCommitFunctionArn"} <= set(props["DefinitionSubstitutions"])
    assert props["DefinitionSubstitutions"]["NightlySourceFunctionArn"] == {
        "Fn::GetAtt": ["NightlySourceFunction", "Arn"]
    }
    assert props["DefinitionSubstitutions"]["NightlyCommitFunctionArn"] == {
        "Fn::GetAtt": ["NightlyCommitFunction", "Arn"]
    }
    asl = json.loads((ROOT / "statemachine" / "export_job.asl.json").read_text())
    states = asl["States"]
    route = states[asl["StartAt"]]
    assert route["Type"] == "Choice"
    assert route["Default"] == "Plan"
    (choice,) = route["Choices"]
    assert {"Variable": "$.mode", "StringEquals": "nightly"} in choice["And"]
    # an input without a format (a dispatcher of the release before formats) is set to csv on the way
    fmt = states[choice["Next"]]
    assert fmt["Type"] == "Choice" and fmt["Choices"] == [
        {"Variable": "$.format", "IsPresent": True, "Next": "NightlySources"}
    ]
    default = states[fmt["Default"]]
    assert default == {"Type": "Pass", "Result": "csv", "ResultPath": "$.format", "Next": "NightlySources"}
    sources = states["NightlySources"]
    assert sources["ItemSelector"]["format.$"] == "$.format"
    assert sources["Type"] == "Map" and sources["ItemsPath"] == "$.sources"
    (task,) = sources["ItemProcessor"]["States"].values()
    assert task["Type"] == "Task" and task["Parameters"]["FunctionName"] == "${NightlySourceFunctionArn}"
    # throttling first (it waits longer), then any error; States.ALL must be the last retrier
    assert task["Retry"][0]["ErrorEquals"][0] == "Lambda.TooManyRequestsException"
    assert task["Retry"][0]["MaxAttempts"] >= 5
    assert task["Retry"][-1]["ErrorEquals"] == ["States.ALL"] and task["Retry"][-1]["MaxAttempts"] >= 2
    assert sources["Next"] == "NightlyCommit"
    commit = states["NightlyCommit"]
    assert commit["Parameters"]["FunctionName"] == "${NightlyCommitFunctionArn}" and commit["Retry"]
    for state in (sources, commit):
        (catch,) = state["Catch"]
        assert catch["ErrorEquals"] == ["States.ALL"]
        assert states[catch["Next"]]["Type"] == "Fail"


def test_nightly_steps_write_only_their_own_files_and_table():
    fns = resources(load_template(), "AWS::Serverless::Function")
    s3 = [
        statement
        for statement in _statements(fns["NightlySourceFunction"])
        if any(action.startswith("s3:") for action in _listed(statement["Action"]))
    ]
    assert any("s3:PutObject" in _listed(statement["Action"]) for statement in s3)
    for statement in s3:
        assert [str(resource) for resource in _listed(statement["Resource"])] == [
            str({"Fn::Sub": "${ExportBucket.Arn}/nightly/*"})
        ]
    for statement in _statements(fns["NightlySourceFunction"]):
        assert not any(action.startswith("dynamodb:") and action != "dynamodb:Query" for action in statement["Action"])
    for statement in _statements(fns["NightlyCommitFunction"]):
        actions = _listed(statement["Action"])
        if all(action.startswith("dynamodb:") for action in actions):
            assert _listed(statement["Resource"]) == [{"Fn::GetAtt": ["ExportRequestsTable", "Arn"]}]
            continue
        # the night's signed manifest beside its files, its signature, its completion event (docs/verify.md)
        assert actions in (["s3:PutObject"], ["kms:Sign"], ["events:PutEvents"]), actions
        if actions == ["s3:PutObject"]:
            assert [str(resource) for resource in _listed(statement["Resource"])] == [
                str({"Fn::Sub": "${ExportBucket.Arn}/nightly/*"})
            ]
