"""Integration set-up: template tables in moto, seeded once per module; settings and clients fresh per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.provision import create_buckets, create_keys, create_tables, local_refs
from devtools.sfn_local import create_state_machines, run_lambda_tasks_in_process
from export_service.api.deps import reset_dependencies
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.logic.api_keys import mint_api_key
from export_service.logic.audit_records import write_audit_records
from export_service.logic.export_audit import SYSTEM_SOURCE
from tests.integration.support import ALL_KEYS, TENANT_SIZES, Stack, generated, specs


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Handlers that answer an error publish no metric; Powertools warns about that on every such call.
    for item in items:
        if "integration" in item.keywords:
            item.add_marker(pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning"))


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with pytest.MonkeyPatch.context() as env:
        # Nothing from the developer's AWS set-up may leak in: no endpoints, profiles, real credentials or config.
        for name in list(os.environ):
            if name.startswith("AWS_"):
                env.delenv(name)
        nowhere = tmp_path_factory.mktemp("aws") / "absent"
        env.setenv("AWS_CONFIG_FILE", str(nowhere))
        env.setenv("AWS_SHARED_CREDENTIALS_FILE", str(nowhere))
        env.setenv("AWS_ACCESS_KEY_ID", "testing")
        env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
        env.setenv("AWS_SESSION_TOKEN", "testing")
        env.setenv("AWS_DEFAULT_REGION", "us-east-1")
        env.setenv("AWS_REGION", "us-east-1")
        for spec in specs().values():
            for name, value in spec.environment.items():
                env.setenv(name, value)
        # moto's default StartExecution never runs an execution, so its jobs never end and would hold their tenant's
        # slots: no limit here; tests/integration/test_job_lifecycle.py sets one
        env.setenv("MAX_CONCURRENT_JOBS", "0")
        # moto answers a Query at about 800 items/s: counts that the deployed quarter-second budget would cut short
        # (a 202's "at least N") run to the end here, where tests compare exact counts
        env.setenv("EXPORT_COUNT_SECONDS", "20")
        env.setattr(boto3, "DEFAULT_SESSION", None)  # a session made earlier would keep its credentials and region
        reset_dependencies()
        with mock_aws():
            refs = local_refs()
            dynamodb = boto3.client("dynamodb")
            create_tables(dynamodb, refs)
            create_buckets(boto3.client("s3"), refs)
            create_keys(boto3.client("kms"), refs)  # the manifest signing key
            # moto's default StartExecution records the execution without running it; jobs are run in test_export_jobs
            create_state_machines(boto3.client("stepfunctions"), refs)
            audit_store = AuditStore(dynamodb, refs["AuditTable"])
            key_store = ApiKeyStore(dynamodb, refs["ApiKeysTable"])
            for tenant in TENANT_SIZES:
                write_audit_records(audit_store, tenant, generated(tenant))
            minted = datetime(2026, 2, 1, tzinfo=UTC)
            for key in ALL_KEYS:
                api_key, _ = mint_api_key(key.tenant, key.permissions, minted, key_id=key.key_id, secret=key.secret)
                key_store.put(api_key)
                if key.revoked:
                    key_store.revoke(key.key_id, "2026-02-15T00:00:00.000Z")
            yield Stack(dynamodb=dynamodb, audit_store=audit_store, key_store=key_store)
        reset_dependencies()


@pytest.fixture(autouse=True)
def fresh_dependencies(stack: Stack) -> Iterator[None]:
    reset_dependencies()
    yield
    reset_dependencies()


@pytest.fixture(autouse=True)
def fresh_audit_log(stack: Stack) -> Iterator[None]:
    """Every test starts from the module's audit log: each export is itself audited (an export-action record in the
    tenant's log, logic/export_audit.py), so the records a test's exports wrote are removed after it and the tenants'
    day bounds put back. Tests of the export actions read them before that."""
    table = local_refs()["AuditTable"]
    metas = _scan(stack.dynamodb, table, "sk = :meta", {":meta": {"S": "META"}})
    yield
    for item in _scan(stack.dynamodb, table, "systemSource = :api", {":api": {"S": SYSTEM_SOURCE}}):
        stack.dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    for item in metas:
        stack.dynamodb.put_item(TableName=table, Item=item)


def _scan(dynamodb: Any, table: str, condition: str, values: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for page in dynamodb.get_paginator("scan").paginate(
        TableName=table, FilterExpression=condition, ExpressionAttributeValues=values
    ):
        items += page["Items"]
    return items


@pytest.fixture
def executing(stack, monkeypatch):
    """moto's ASL interpreter on, tasks in-process, the state machine created in the interpreter's backend."""
    from moto.core.config import default_user_config  # noqa: PLC0415
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils  # noqa: PLC0415

    monkeypatch.setitem(default_user_config, "stepfunctions", {"execute_state_machine": True})
    # Restored after the test: run_lambda_tasks_in_process replaces this function
    monkeypatch.setattr(lambda_eval_utils, "_invoke_lambda_function", lambda_eval_utils._invoke_lambda_function)
    run_lambda_tasks_in_process(specs())
    sfn = boto3.client("stepfunctions")
    if not any(m["name"] == "ExportStateMachine" for m in sfn.list_state_machines()["stateMachines"]):
        create_state_machines(sfn, local_refs())
