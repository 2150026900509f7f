"""Deploying the SAM template: the API Gateway account setting, names a second stack would collide with, parameters."""

from __future__ import annotations

import copy
import re
from functools import lru_cache
from typing import Any

import boto3
import pytest
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from devtools.template import ROOT, load_template
from tests.template.template_support import _listed

pytestmark = pytest.mark.template


# What CloudFormation gets: the template through the SAM transform (as `sam deploy` sends it), then each condition
# evaluated for a parameter value and each Fn::If resolved, the way CloudFormation does before it creates anything.


ACCOUNT_LOGS_ROLE = "ApiGatewayAccountLogsRole"


@lru_cache(maxsize=4)
def _translated(account_logs_role: str) -> dict[str, Any]:
    template = copy.deepcopy(load_template())
    for resource in template["Resources"].values():
        for key in ("CodeUri", "ContentUri", "DefinitionUri"):
            if key in resource.get("Properties", {}):
                resource["Properties"][key] = "s3://artifacts/key"  # sam deploy uploads the local paths first
    translator = Translator(None, Parser(), boto_session=boto3.session.Session(region_name="us-east-1"))
    return translator.translate(template, {ACCOUNT_LOGS_ROLE: account_logs_role}, get_managed_policy_map=lambda: {})


def _conditions(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, bool]:
    definitions = template.get("Conditions", {})

    def evaluate(node: Any) -> Any:
        if not isinstance(node, dict):
            return node
        ((function, argument),) = node.items()
        if function == "Ref":
            return parameters[argument]
        if function == "Condition":
            return evaluate(definitions[argument])
        if function == "Fn::Equals":
            return evaluate(argument[0]) == evaluate(argument[1])
        if function == "Fn::Not":
            return not evaluate(argument[0])
        if function == "Fn::And":
            return all(evaluate(item) for item in argument)
        if function == "Fn::Or":
            return any(evaluate(item) for item in argument)
        raise AssertionError(f"condition function {function} not handled")

    return {name: bool(evaluate(definition)) for name, definition in definitions.items()}


_NO_VALUE = {"Ref": "AWS::NoValue"}


def _deployed(account_logs_role: str) -> dict[str, dict[str, Any]]:
    """The resources CloudFormation creates for this value of ApiGatewayAccountLogsRole, every Fn::If resolved."""
    template = _translated(account_logs_role)
    parameters = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    conditions = _conditions(template, {**parameters, ACCOUNT_LOGS_ROLE: account_logs_role})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            if set(node) == {"Fn::If"}:
                name, if_true, if_false = node["Fn::If"]
                return resolve(if_true if conditions[name] else if_false)
            resolved = {key: resolve(value) for key, value in node.items()}
            return {key: value for key, value in resolved.items() if value != _NO_VALUE}
        if isinstance(node, list):
            return [item for item in (resolve(item) for item in node) if item != _NO_VALUE]
        return node

    return {
        logical_id: resolve(resource)
        for logical_id, resource in template["Resources"].items()
        if "Condition" not in resource or conditions[resource["Condition"]]
    }


def _references(node: Any) -> set[str]:
    """Logical ids and pseudo parameters that Ref, Fn::GetAtt and Fn::Sub name anywhere in node (Metadata too)."""
    if isinstance(node, list):
        return set().union(*(_references(item) for item in node)) if node else set()
    if not isinstance(node, dict):
        return set()
    found: set[str] = set()
    for key, value in node.items():
        if key == "Ref" and isinstance(value, str):
            found.add(value)
        elif key == "Fn::GetAtt":
            found.add(value[0] if isinstance(value, list) else value.split(".")[0])
        elif key == "Fn::Sub":
            text = value if isinstance(value, str) else value[0]
            found |= {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)}
            if isinstance(value, list):
                found |= _references(value[1])
        else:
            found |= _references(value)
    return found


def _dependencies(deployed: dict[str, dict[str, Any]], logical_id: str) -> set[str]:
    """Every resource CloudFormation creates before logical_id (references and DependsOn, transitively)."""
    seen: set[str] = set()
    pending = [logical_id]
    while pending:
        resource = deployed[pending.pop()]
        depends_on = resource.get("DependsOn", [])
        direct = (_references(resource) | set(_listed(depends_on))) & set(deployed)
        pending.extend(direct - seen)
        seen |= direct
    return seen


def _stage(deployed: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    (stage,) = ((name, res) for name, res in deployed.items() if res["Type"] == "AWS::ApiGateway::Stage")
    return stage


def _api_gateway_roles(deployed: dict[str, dict[str, Any]]) -> list[str]:
    return [
        name
        for name, res in deployed.items()
        if res["Type"] == "AWS::IAM::Role" and "apigateway.amazonaws.com" in str(res["Properties"])
    ]


def test_by_default_the_stack_leaves_the_account_setting_alone_and_its_stage_does_not_log():
    parameter = load_template()["Parameters"][ACCOUNT_LOGS_ROLE]
    assert parameter["Default"] == "off"
    assert parameter["AllowedValues"] == ["create", "existing", "off"]
    deployed = _deployed("off")
    assert not [res for res in deployed.values() if res["Type"] == "AWS::ApiGateway::Account"]
    assert _api_gateway_roles(deployed) == []
    _, stage = _stage(deployed)
    # without the account's CloudWatch Logs role API Gateway refuses a stage with AccessLogSetting
    assert "AccessLogSetting" not in stage["Properties"]
    assert "ApiAccessLogGroup" not in deployed


def test_create_sets_the_account_logs_role_before_the_stage_that_logs_and_keeps_the_role():
    deployed = _deployed("create")
    (account_id,) = (name for name, res in deployed.items() if res["Type"] == "AWS::ApiGateway::Account")
    role_id = deployed[account_id]["Properties"]["CloudWatchRoleArn"]["Fn::GetAtt"][0]
    assert _api_gateway_roles(deployed) == [role_id]
    role = deployed[role_id]
    # the account setting outlives the stack (nothing unsets it), so the role it points at must outlive it too
    assert role["DeletionPolicy"] == "Retain" and role["UpdateReplacePolicy"] == "Retain"
    assert role["Properties"]["AssumeRolePolicyDocument"]["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "apigateway.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    assert role["Properties"]["ManagedPolicyArns"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs"}
    ]
    assert "RoleName" not in role["Properties"]
    stage_id, stage = _stage(deployed)
    destination = stage["Properties"]["AccessLogSetting"]["DestinationArn"]
    assert deployed[destination["Fn::GetAtt"][0]]["Type"] == "AWS::Logs::LogGroup"
    assert "$context.authorizer.principalId" in stage["Properties"]["AccessLogSetting"]["Format"]
    # CloudFormation creates the account setting (and its role) before the stage that writes access logs
    assert {account_id, role_id} <= _dependencies(deployed, stage_id)


def test_existing_logs_through_the_role_already_set_and_creates_no_account_setting():
    deployed = _deployed("existing")
    assert not [res for res in deployed.values() if res["Type"] == "AWS::ApiGateway::Account"]
    assert _api_gateway_roles(deployed) == []
    _, stage = _stage(deployed)
    log_group = deployed[stage["Properties"]["AccessLogSetting"]["DestinationArn"]["Fn::GetAtt"][0]]
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionDays"}


# Names scoped to this stack's own REST API, not to the account and region.
_NAMES_SCOPED_TO_THE_API = {("AWS::ApiGateway::Stage", "StageName"), ("AWS::ApiGateway::Deployment", "StageName")}
# Properties that end in "Name" but name no resource of their own (what an alarm watches).
_NOT_RESOURCE_NAMES = {("AWS::CloudWatch::Alarm", "MetricName")}


@pytest.mark.parametrize("account_logs_role", ["create", "existing", "off"])
def test_no_resource_has_a_name_a_second_stack_in_the_same_account_and_region_would_collide_with(account_logs_role):
    deployed = _deployed(account_logs_role)
    fixed = [
        f"{name}.{key} = {value}"
        for name, res in deployed.items()
        for key, value in res.get("Properties", {}).items()
        if key.endswith("Name")
        and (res["Type"], key) not in _NAMES_SCOPED_TO_THE_API | _NOT_RESOURCE_NAMES
        # a name is the stack's when it is made from the stack name or from a resource whose name CloudFormation made
        and not ({"AWS::StackName"} | set(deployed)) & _references(value)
    ]
    assert fixed == []
    schedules = [res for res in deployed.values() if res["Type"] == "AWS::Scheduler::Schedule"]
    assert len(schedules) == 2  # the nightly export and its commit deadline check
    for schedule in schedules:
        assert "Name" not in schedule["Properties"]  # SAM's default is the logical id, the same in every stack
    layers = [res for res in deployed.values() if res["Type"] == "AWS::Lambda::LayerVersion"]
    assert sorted(layer["Properties"]["LayerName"]["Fn::Sub"] for layer in layers) == [
        "${AWS::StackName}-shared",
        "${AWS::StackName}-sql",
    ]


def test_docs_deploy_lists_every_template_parameter_with_its_default():
    text = (ROOT / "docs" / "deploy.md").read_text()
    for name, parameter in load_template()["Parameters"].items():
        rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, name
        assert f"| `{parameter['Default']}` |" in rows[0], name
