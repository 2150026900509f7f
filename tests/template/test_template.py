"""The SAM template: valid (sam validate --lint), buildable (sam build), and consistent with the code."""

from __future__ import annotations

import copy
import importlib.metadata
import os
import re
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator

from devtools.provision import local_refs
from devtools.template import ROOT, api, functions, load_template, resources

pytestmark = pytest.mark.template

SAM = str(Path(ROOT, ".venv", "bin", "sam")) if Path(ROOT, ".venv", "bin", "sam").exists() else shutil.which("sam")
ENV = {**os.environ, "SAM_CLI_TELEMETRY": "0"}


def test_sam_validate_lint():
    result = subprocess.run(
        [SAM, "validate", "--lint"], check=False, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_sam_build_packages_functions_and_layer(tmp_path):
    build_dir = tmp_path / "build"
    result = subprocess.run(
        [SAM, "build", "--build-dir", str(build_dir), "--cache-dir", str(tmp_path / "cache")],
        check=False,
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    layer = build_dir / "SharedLayer" / "python"
    assert (layer / "export_service" / "api" / "routes" / "audit_export.py").is_file()
    assert (layer / "aws_lambda_powertools").is_dir()
    assert (layer / "pydantic").is_dir()
    assert (layer / "export_service" / "fonts" / "DejaVuSansCondensed.ttf").is_file()
    assert (layer / "export_service" / "locales" / "de" / "LC_MESSAGES" / "audit_report.po").is_file()
    assert (layer / "fpdf").is_dir() and (layer / "babel").is_dir() and (layer / "tzdata").is_dir()
    for name in ("AuthorizerFunction", "AuditExportFunction", "DatasetExportFunction", "ExportPartFunction"):
        assert (build_dir / name / "app.py").is_file()
    # The layer ships exactly the pinned distributions at the pinned versions, nothing unpinned besides.
    shipped = {}
    for dist_info in layer.glob("*.dist-info"):
        metadata = importlib.metadata.PathDistribution(dist_info).metadata
        shipped[canonicalize_name(metadata["Name"])] = metadata["Version"]
    assert shipped == {name: str(pin.specifier)[2:] for name, pin in _layer_pins().items()}


def test_every_function_handler_exists():
    for spec in functions(local_refs()).values():
        module, _, attr = spec.handler.rpartition(".")
        source = (spec.code_dir / f"{module}.py").read_text()
        assert f"def {attr}(" in source, spec.logical_id


def test_every_route_is_behind_the_authorizer_and_served_by_its_function():
    spec = api()
    assert spec.authorizer_function == "AuthorizerFunction"
    routes = {(route.method, route.path): route for route in spec.routes}
    assert ("GET", "/v1/audit/export") in routes
    assert ("GET", "/v1/export/{dataset}") in routes
    assert {("POST", "/v1/exports"), ("GET", "/v1/exports/{jobId}"), ("GET", "/v1/exports")} <= set(routes)
    assert all(route.authorizer == "ApiKeyAuthorizer" for route in spec.routes)
    for route in spec.routes:
        source = (functions(local_refs())[route.function].code_dir / "app.py").read_text()
        assert "create_app" in source, route.function


def test_bucket_is_private_encrypted_and_tls_only():
    template = load_template()
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    props = bucket["Properties"]
    assert all(props["PublicAccessBlockConfiguration"].values())
    assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
    (policy,) = resources(template, "AWS::S3::BucketPolicy").values()
    statement = policy["Properties"]["PolicyDocument"]["Statement"][0]
    assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_functions_have_least_privilege_and_log_retention():
    template = load_template()
    fns = resources(template, "AWS::Serverless::Function")
    data_tables = {"AuditTable", "IncidentsTable", "ApiKeysTable"}
    for name, fn in fns.items():
        statements = [statement for policy in fn["Properties"]["Policies"] for statement in policy["Statement"]]
        assert statements, name
        for statement in statements:
            actions = [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
            assert all(not action.endswith("*") for action in actions), name
            targets = (
                {str(resource) for resource in statement["Resource"]}
                if isinstance(statement["Resource"], list)
                else {str(statement["Resource"])}
            )
            if any(a in actions for a in ("dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem")):
                # The export functions never write or scan the data: only export jobs are written
                assert not any(table in target for table in data_tables for target in targets), (name, actions)
    log_groups = resources(template, "AWS::Logs::LogGroup")
    named = {str(group["Properties"].get("LogGroupName")) for group in log_groups.values()}
    for name in fns:
        assert any(name in text for text in named), f"{name} has no log group with retention"
    assert all("RetentionInDays" in group["Properties"] for group in log_groups.values())


def test_state_machine_is_the_asl_file_with_every_task_substituted():
    import json  # noqa: PLC0415

    (machine,) = resources(load_template(), "AWS::Serverless::StateMachine").values()
    props = machine["Properties"]
    definition = (ROOT / props["DefinitionUri"]).read_text()
    states = json.loads(definition)["States"]
    assert states["ExportParts"]["Type"] == "Map" and states["ExportParts"]["MaxConcurrency"] >= 2
    assert all(state.get("Retry") for name, state in states.items() if state["Type"] == "Task")
    assert all(state.get("Catch") for name, state in states.items() if name in ("Plan", "ExportParts", "Finish"))
    for placeholder in props["DefinitionSubstitutions"]:
        assert "${" + placeholder + "}" in definition


def test_jobs_and_files_expire_after_30_days():
    template = load_template()
    jobs = template["Resources"]["ExportJobsTable"]["Properties"]
    assert jobs["TimeToLiveSpecification"] == {"AttributeName": "ttl", "Enabled": True}
    (bucket,) = resources(template, "AWS::S3::Bucket").values()
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireExportsAfter30Days"]["ExpirationInDays"] == 30


def _statements(fn: dict) -> list[dict]:
    return [statement for policy in fn["Properties"]["Policies"] for statement in policy["Statement"]]


def _listed(value: object) -> list:
    return value if isinstance(value, list) else [value]


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
    (schedule,) = (event for event in fn["Events"].values() if event["Type"] == "ScheduleV2")
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
    assert choice["Next"] == "NightlySources"
    sources = states["NightlySources"]
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
        assert all(action.startswith("dynamodb:") for action in _listed(statement["Action"]))
        assert _listed(statement["Resource"]) == [{"Fn::GetAtt": ["ExportRequestsTable", "Arn"]}]


def test_incident_api_has_one_function_per_route_and_a_generated_cursor_key():
    routes = {(route.method, route.path): route.function for route in api().routes}
    incident_routes = {
        ("GET", "/v1/incidents"): "ListIncidentsFunction",
        ("GET", "/v1/incidents/{incidentId}"): "GetIncidentFunction",
        ("GET", "/v1/incidents/{incidentId}/alerts"): "IncidentAlertsFunction",
        ("GET", "/v1/incidents/distribution"): "IncidentDistributionFunction",
        ("GET", "/v1/incidents/summary"): "IncidentSummaryFunction",
        ("POST", "/v1/alerts/by-filters"): "AlertsByFiltersFunction",
    }
    assert {key: routes.get(key) for key in incident_routes} == incident_routes
    template = load_template()
    (secret,) = resources(template, "AWS::SecretsManager::Secret").values()
    assert secret["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    # The deployed key is generated and read at run time: no signing key in the template's configuration
    assert "CURSOR_SIGNING_KEY" not in (ROOT / "template.yaml").read_text()
    lister = template["Resources"]["ListIncidentsFunction"]["Properties"]
    assert lister["Environment"]["Variables"]["CURSOR_SECRET_ARN"] == {"Ref": "CursorSigningSecret"}
    statements = [s for policy in lister["Policies"] for s in policy["Statement"]]
    assert {
        "Effect": "Allow",
        "Action": ["secretsmanager:GetSecretValue"],
        "Resource": [{"Ref": "CursorSigningSecret"}],
    } in statements
    # only the list signs cursors
    for name in set(incident_routes.values()) - {"ListIncidentsFunction"}:
        assert "CURSOR_SECRET_ARN" not in str(template["Resources"][name]), name


def test_pdf_is_served_as_binary_and_its_font_ships_in_the_layer():
    (api_resource,) = resources(load_template(), "AWS::Serverless::Api").values()
    media = api_resource["Properties"]["BinaryMediaTypes"]
    assert "application~1pdf" in media and "*~1*" in media  # curl and browsers ask for */*
    fonts = Path(ROOT, "layers", "shared", "export_service", "fonts")
    assert (fonts / "DejaVuSansCondensed.ttf").stat().st_size > 100_000
    assert (fonts / "DejaVuSansCondensed-Bold.ttf").stat().st_size > 100_000
    assert "Bitstream" in (fonts / "LICENSE-DejaVu.txt").read_text()


# ---------------------------------------------------------------- deploying: account setting, names, parameters
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


@pytest.mark.parametrize("account_logs_role", ["create", "existing", "off"])
def test_no_resource_has_a_name_a_second_stack_in_the_same_account_and_region_would_collide_with(account_logs_role):
    deployed = _deployed(account_logs_role)
    fixed = [
        f"{name}.{key} = {value}"
        for name, res in deployed.items()
        for key, value in res.get("Properties", {}).items()
        if key.endswith("Name")
        and (res["Type"], key) not in _NAMES_SCOPED_TO_THE_API
        # a name is the stack's when it is made from the stack name or from a resource whose name CloudFormation made
        and not ({"AWS::StackName"} | set(deployed)) & _references(value)
    ]
    assert fixed == []
    (schedule,) = (res for res in deployed.values() if res["Type"] == "AWS::Scheduler::Schedule")
    assert "Name" not in schedule["Properties"]  # SAM's default is the logical id, the same in every stack
    (layer,) = (res for res in deployed.values() if res["Type"] == "AWS::Lambda::LayerVersion")
    assert layer["Properties"]["LayerName"] == {"Fn::Sub": "${AWS::StackName}-shared"}


def test_docs_deploy_lists_every_template_parameter_with_its_default():
    text = (ROOT / "docs" / "deploy.md").read_text()
    for name, parameter in load_template()["Parameters"].items():
        rows = [line for line in text.splitlines() if line.startswith(f"| `{name}` |")]
        assert len(rows) == 1, name
        assert f"| `{parameter['Default']}` |" in rows[0], name


# ---------------------------------------------------------------- version pins: what the layer ships is what tests run
LAYER_REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"
DEV_REQUIREMENTS = ROOT / "requirements-dev.txt"
# The python3.11 Lambda runtime on x86_64 (Globals: Runtime python3.11, Architectures x86_64).
LAMBDA_MARKERS: dict[str, str] = {key: str(value) for key, value in default_environment().items()} | {
    "python_version": "3.11",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "os_name": "posix",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
}


def _requirement_lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]


def _pinned(requirement: Requirement) -> str:
    (specifier,) = requirement.specifier
    return specifier.version


@lru_cache(maxsize=1)
def _layer_pins() -> dict[str, Requirement]:
    pins: dict[str, Requirement] = {}
    for line in _requirement_lines(LAYER_REQUIREMENTS):
        requirement = Requirement(line)
        assert [spec.operator for spec in requirement.specifier] == ["=="], f"not pinned with ==: {line}"
        assert requirement.marker is None and requirement.url is None, line
        name = canonicalize_name(requirement.name)
        assert name not in pins, f"{name} is pinned twice"
        pins[name] = requirement
    return pins


def test_the_layer_pins_every_runtime_dependency_of_what_it_ships():
    pins = _layer_pins()
    assert {"boto3", "botocore", "s3transfer", "urllib3", "aws-xray-sdk", "pydantic-core"} <= set(pins)
    problems = []
    for name, pin in pins.items():
        for text in importlib.metadata.requires(name) or []:
            dependency = Requirement(text)
            if dependency.marker and not any(
                dependency.marker.evaluate({**LAMBDA_MARKERS, "extra": extra}) for extra in {"", *pin.extras}
            ):
                continue
            dependency_name = canonicalize_name(dependency.name)
            if dependency_name not in pins:
                problems.append(f"{name} needs {dependency}, which is not pinned")
            elif not dependency.specifier.contains(_pinned(pins[dependency_name]), prereleases=True):
                problems.append(f"{name} needs {dependency}, pinned {_pinned(pins[dependency_name])}")
            elif not dependency.extras <= pins[dependency_name].extras:
                problems.append(f"{name} needs {dependency}, pinned without those extras")
    assert problems == []


def test_the_venv_runs_exactly_the_versions_the_layer_ships():
    pins = _layer_pins()
    installed = {name: importlib.metadata.version(name) for name in pins}
    assert installed == {name: _pinned(pin) for name, pin in pins.items()}, "out of date: run make setup"


def test_requirements_dev_installs_the_layer_pins_and_pins_none_of_those_itself():
    lines = _requirement_lines(DEV_REQUIREMENTS)
    assert "-r layers/shared/requirements.txt" in lines
    own = {canonicalize_name(Requirement(line).name) for line in lines if not line.startswith("-")}
    assert own & set(_layer_pins()) == set()


def test_the_layer_is_built_for_the_functions_runtime_and_functions_bring_no_packages_of_their_own():
    template = load_template()
    runtime = template["Globals"]["Function"]["Runtime"]
    layer = template["Resources"]["SharedLayer"]
    assert layer["Metadata"]["BuildMethod"] == runtime
    assert layer["Properties"]["CompatibleRuntimes"] == [runtime]
    # A function's own packages would sit in /var/task, ahead of the layer on sys.path, unpinned by the layer's file.
    for spec in functions(local_refs()).values():
        assert _requirement_lines(spec.code_dir / "requirements.txt") == [], spec.logical_id
