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
    for name in ("AuthorizerFunction", "AuditExportFunction", "DatasetExportFunction"):
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
    for name, fn in fns.items():
        actions = [
            action
            for policy in fn["Properties"]["Policies"]
            for statement in policy["Statement"]
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        ]
        assert actions and all(not action.endswith("*") for action in actions), name
        assert not any(a in actions for a in ("dynamodb:Scan", "dynamodb:PutItem", "dynamodb:DeleteItem")), name
    log_groups = resources(template, "AWS::Logs::LogGroup")
    named = {str(group["Properties"].get("LogGroupName")) for group in log_groups.values()}
    for name in fns:
        assert any(name in text for text in named), f"{name} has no log group with retention"
    assert all("RetentionInDays" in group["Properties"] for group in log_groups.values())
