"""The session's IAM check (tests/iam/check.py) on small SAM templates and on template.yaml itself: the SAM transform
(policy templates included), local ARNs, refused calls named, unused grants reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.lambda_runtime import RecordedCall
from devtools.provision import local_refs
from devtools.template import load_template
from tests.iam.check import check_calls, function_policies, policy_refs

ARN = "arn:aws:dynamodb:us-east-1:123456789012"
REQUESTS = f"{ARN}:table/RequestsTable"

TEMPLATE = """\
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Globals:
  Function:
    Runtime: python3.11
    Handler: app.handler
Resources:
  Dispatcher:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/dispatcher/
      Policies:
        - Statement:
            - Effect: Allow
              Action: [dynamodb:Query]
              Resource: !Sub ${RequestsTable.Arn}/index/ByEnabled
            - Effect: Allow
              Action: [states:StartExecution]
              Resource: !Ref Machine
  Reader:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/reader/
      Policies:
        - DynamoDBReadPolicy: {TableName: !Ref RequestsTable}
        - S3ReadPolicy: {BucketName: !Ref Files}
  Idle:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/idle/
      Policies:
        - Statement:
            - {Effect: Allow, Action: "sqs:SendMessage", Resource: "*"}
  Machine:
    Type: AWS::Serverless::StateMachine
    Properties:
      DefinitionUri: statemachine/machine.asl.json
  RequestsTable:
    Type: AWS::DynamoDB::Table
    Properties:
      AttributeDefinitions: [{AttributeName: pk, AttributeType: S}]
      KeySchema: [{AttributeName: pk, KeyType: HASH}]
  Files:
    Type: AWS::S3::Bucket
  FilesPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Files
      PolicyDocument:
        Statement:
          - Effect: Deny
            Principal: "*"
            Action: s3:*
            Resource: !Sub ${Files.Arn}/private/*
"""
MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:Machine"
FILES = "arn:aws:s3:::export-service-local-files"


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "template.yaml"
    path.write_text(TEMPLATE)
    return path


def call(function: str, action: str, resource: str) -> RecordedCall:
    return RecordedCall(function, action, resource)


def test_the_dispatchers_base_table_read_is_refused_and_named(template: Path) -> None:
    calls = [
        call("Dispatcher", "dynamodb:Query", f"{REQUESTS}/index/ByEnabled"),
        call("Dispatcher", "dynamodb:GetItem", REQUESTS),
        call("Dispatcher", "states:StartExecution", MACHINE),
    ]
    report = check_calls(calls, template)
    assert report.failed
    assert [(c.function, c.action, c.resource) for c, _ in report.refused] == [
        ("Dispatcher", "dynamodb:GetItem", REQUESTS)
    ]
    text = "\n".join(report.lines())
    assert f"Dispatcher: dynamodb:GetItem on {REQUESTS}" in text
    assert "no statement allows it" in text
    assert report.never_ran == ["Idle", "Reader"]


def test_allowed_calls_pass_and_the_grants_they_did_not_use_are_reported(template: Path) -> None:
    report = check_calls([call("Dispatcher", "dynamodb:Query", f"{REQUESTS}/index/ByEnabled")], template)
    assert not report.failed
    assert report.unused == {"Dispatcher": [("states:StartExecution", MACHINE)]}
    assert "every recorded call is allowed" in "\n".join(report.lines())


def test_sam_policy_templates_are_expanded_to_local_arns(template: Path) -> None:
    policies = function_policies(template)
    granted = {(a, r) for s in policies.inline["Reader"] for a in s.actions for r in s.resources}
    assert ("dynamodb:GetItem", REQUESTS) in granted
    assert ("dynamodb:Query", f"{REQUESTS}/index/*") in granted
    assert ("s3:GetObject", f"{FILES}/*") in granted
    reads = [
        call("Reader", "dynamodb:Query", f"{REQUESTS}/index/ByAnything"),
        call("Reader", "s3:GetObject", f"{FILES}/public/a.csv"),
    ]
    assert not check_calls(reads, template).failed
    writes = [call("Reader", "dynamodb:PutItem", REQUESTS), call("Reader", "s3:PutObject", f"{FILES}/a.csv")]
    assert len(check_calls(writes, template).refused) == 2


def test_a_bucket_policy_deny_applies_to_every_function(template: Path) -> None:
    report = check_calls([call("Reader", "s3:GetObject", f"{FILES}/private/a.csv")], template)
    ((_, decision),) = report.refused
    assert decision.reason == "explicitly denied by FilesPolicy #1"


def test_a_call_by_a_function_the_template_lacks_is_refused(template: Path) -> None:
    report = check_calls([call("Ghost", "s3:GetObject", f"{FILES}/a")], template)
    assert report.failed
    assert "no function of that name" in report.refused[0][1].reason


def test_nothing_recorded_is_nothing_checked(template: Path) -> None:
    report = check_calls([], template)
    assert not report.failed
    assert report.lines()[0].startswith("no AWS call was recorded")


def test_the_check_resolves_names_as_the_tests_create_them() -> None:
    refs, mine = local_refs(), policy_refs(load_template())
    assert {name: mine[name] for name in refs} == refs


def test_template_yaml_lets_the_dispatcher_read_a_tenants_setting_and_nothing_more() -> None:
    requests = f"{ARN}:table/ExportRequestsTable"
    machine = "arn:aws:states:us-east-1:123456789012:stateMachine:ExportStateMachine"
    needed = [
        call("NightlyDispatchFunction", "dynamodb:Query", f"{requests}/index/ByEnabled"),
        call("NightlyDispatchFunction", "dynamodb:GetItem", requests),
        call("NightlyDispatchFunction", "states:StartExecution", machine),
    ]
    assert not check_calls(needed).failed
    beyond = [
        call("NightlyDispatchFunction", "dynamodb:Query", requests),
        call("NightlyDispatchFunction", "dynamodb:Scan", requests),
        call("NightlyDispatchFunction", "dynamodb:PutItem", requests),
        call("NightlyDispatchFunction", "dynamodb:GetItem", f"{ARN}:table/AuditTable"),
    ]
    assert len(check_calls(beyond).refused) == len(beyond)
