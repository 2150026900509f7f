"""The SAM template: valid (sam validate --lint), buildable (sam build), and consistent with the code."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

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
