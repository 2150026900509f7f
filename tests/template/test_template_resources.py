"""The SAM template's resources, consistent with the code: handlers, routes, the bucket, policies, the state machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.provision import local_refs
from devtools.template import ROOT, api, functions, load_template, resources

pytestmark = pytest.mark.template


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


def test_buckets_are_private_encrypted_and_tls_only():
    template = load_template()
    buckets = resources(template, "AWS::S3::Bucket")
    assert set(buckets) == {"ExportBucket", "CatalogBucket"}
    policies = {
        policy["Properties"]["Bucket"]["Ref"]: policy
        for policy in resources(template, "AWS::S3::BucketPolicy").values()
    }
    for name, bucket in buckets.items():
        props = bucket["Properties"]
        assert all(props["PublicAccessBlockConfiguration"].values())
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
        assert rules["AbortIncompleteMultipartUploads"]["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"] == 1
        statement = policies[name]["Properties"]["PolicyDocument"]["Statement"][0]
        assert statement["Effect"] == "Deny" and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    # the catalog's assets are tenant data, kept: only replaced versions expire
    assert not any(
        "ExpirationInDays" in rule for rule in buckets["CatalogBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    )


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
                # The export functions never write or scan the data: only export jobs are written, and each export
                # action's own audit record (PutItem and UpdateItem of the audit table itself, logic/export_audit.py)
                appends_audit = set(actions) == {"dynamodb:PutItem", "dynamodb:UpdateItem"} and targets == {
                    str({"Fn::GetAtt": ["AuditTable", "Arn"]})
                }
                assert appends_audit or not any(table in target for table in data_tables for target in targets), (
                    name,
                    actions,
                )
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
    bucket = template["Resources"]["ExportBucket"]
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["ExpireExportsAfter30Days"]["ExpirationInDays"] == 30


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
