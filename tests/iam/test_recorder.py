"""The call recorder (devtools/lambda_runtime.py): API operation -> IAM action and ARN, and attribution of the calls
a handler makes (also from its thread pools and its cold start) to its function, not the calls around it."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from devtools.lambda_runtime import (
    CallRecorder,
    RecordedCall,
    iam_requests,
    invoke,
    load_handler,
    read_call_log,
    record_calls,
    running_as,
)
from devtools.template import FunctionSpec

DDB = "arn:aws:dynamodb:us-east-1:123456789012"


@pytest.mark.parametrize(
    ("prefix", "operation", "params", "expected"),
    [
        ("dynamodb", "GetItem", {"TableName": "T"}, [("dynamodb:GetItem", f"{DDB}:table/T")]),
        ("dynamodb", "Query", {"TableName": "T", "IndexName": "ByX"}, [("dynamodb:Query", f"{DDB}:table/T/index/ByX")]),
        ("dynamodb", "Query", {"TableName": f"{DDB}:table/T"}, [("dynamodb:Query", f"{DDB}:table/T")]),
        (
            "dynamodb",
            "TransactWriteItems",
            {
                "TransactItems": [
                    {"Update": {"TableName": "A"}},
                    {"Put": {"TableName": "B"}},
                    {"ConditionCheck": {"TableName": "A"}},
                ]
            },
            [
                ("dynamodb:UpdateItem", f"{DDB}:table/A"),
                ("dynamodb:PutItem", f"{DDB}:table/B"),
                ("dynamodb:ConditionCheckItem", f"{DDB}:table/A"),
            ],
        ),
        (
            "dynamodb",
            "BatchWriteItem",
            {"RequestItems": {"A": [], "B": []}},
            [("dynamodb:BatchWriteItem", f"{DDB}:table/A"), ("dynamodb:BatchWriteItem", f"{DDB}:table/B")],
        ),
        ("s3", "UploadPart", {"Bucket": "b", "Key": "k/1.csv"}, [("s3:PutObject", "arn:aws:s3:::b/k/1.csv")]),
        ("s3", "CreateMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
        ("s3", "CompleteMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
        ("s3", "AbortMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")]),
        ("s3", "HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
        (
            "s3",
            "GetObject",
            {"Bucket": "b", "Key": "k", "VersionId": "v"},
            [("s3:GetObjectVersion", "arn:aws:s3:::b/k")],
        ),
        ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "k/"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
        (
            "s3",
            "CopyObject",
            {"Bucket": "b", "Key": "to", "CopySource": "src/a%20b.csv?versionId=1"},
            [("s3:PutObject", "arn:aws:s3:::b/to"), ("s3:GetObject", "arn:aws:s3:::src/a b.csv")],
        ),
        (
            "states",
            "StartExecution",
            {"stateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:M", "name": "n"},
            [("states:StartExecution", "arn:aws:states:us-east-1:1:stateMachine:M")],
        ),
        (
            "secretsmanager",
            "GetSecretValue",
            {"SecretId": "CursorSigningSecret"},
            [
                (
                    "secretsmanager:GetSecretValue",
                    "arn:aws:secretsmanager:us-east-1:123456789012:secret:CursorSigningSecret",
                )
            ],
        ),
        ("sts", "GetCallerIdentity", {}, [("sts:GetCallerIdentity", "*")]),
    ],
)
def test_operations_become_iam_actions_on_arns(
    prefix: str, operation: str, params: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert iam_requests(prefix, operation, params, "us-east-1") == expected


PROBE = """
import concurrent.futures
import boto3

COLD_START = boto3.client("dynamodb").get_item(TableName="Settings", Key={"pk": {"S": "cold"}})

def _query(index):
    return boto3.client("dynamodb").query(
        TableName="Settings", IndexName=index, KeyConditionExpression="pk = :p",
        ExpressionAttributeValues={":p": {"S": "x"}},
    )

def handler(event, context):
    s3 = boto3.client("s3")
    s3.put_object(Bucket="probe-bucket", Key="out/file.csv", Body=b"x")
    with concurrent.futures.ThreadPoolExecutor(2) as pool:  # read-ahead threads are the function's too
        list(pool.map(_query, ["ByA", "ByB"]))
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "probe-bucket", "Key": "out/file.csv"})
    return {"url": url}
"""


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_DYNAMODB", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    with mock_aws():
        dynamodb = boto3.client("dynamodb")
        dynamodb.create_table(
            TableName="Settings",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            GlobalSecondaryIndexes=[
                {
                    "IndexName": index,
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "Projection": {"ProjectionType": "ALL"},
                }
                for index in ("ByA", "ByB")
            ],
        )
        boto3.client("s3").create_bucket(Bucket="probe-bucket")
        yield


@pytest.fixture
def recorder() -> Iterator[CallRecorder]:
    mine = CallRecorder()
    previous = record_calls(mine)  # the session's recorder is put back: these calls are not the template's
    try:
        yield mine
    finally:
        record_calls(previous)


def _spec(tmp_path: Path, name: str) -> FunctionSpec:
    (tmp_path / "app.py").write_text(textwrap.dedent(PROBE))
    return FunctionSpec(logical_id=name, code_dir=tmp_path, handler="app.handler", environment={}, timeout=10)


def test_a_handlers_calls_are_its_functions_and_set_up_calls_are_nobodys(
    tmp_path: Path, aws: None, recorder: CallRecorder
) -> None:
    boto3.client("dynamodb").scan(TableName="Settings")  # set-up, outside any handler
    result: dict[str, Any] = invoke(_spec(tmp_path, "ProbeFunction"), {})
    boto3.client("s3").get_object(Bucket="probe-bucket", Key="out/file.csv")  # an assertion's read
    assert "Signature=" in result["url"]
    table = f"{DDB}:table/Settings"
    assert recorder.calls == {
        RecordedCall("ProbeFunction", "dynamodb:GetItem", table),  # the cold start
        RecordedCall("ProbeFunction", "s3:PutObject", "arn:aws:s3:::probe-bucket/out/file.csv"),
        RecordedCall("ProbeFunction", "dynamodb:Query", f"{table}/index/ByA"),  # from the pool's threads
        RecordedCall("ProbeFunction", "dynamodb:Query", f"{table}/index/ByB"),
        RecordedCall("ProbeFunction", "s3:GetObject", "arn:aws:s3:::probe-bucket/out/file.csv"),  # the presign
    }


def test_a_handler_from_load_handler_is_attributed_and_nesting_restores_the_caller(
    tmp_path: Path, aws: None, recorder: CallRecorder
) -> None:
    handler = load_handler(_spec(tmp_path, "LoadedProbeFunction"))
    with running_as("OuterFunction"):
        handler({}, None)
        boto3.client("dynamodb").describe_table(TableName="Settings")
    functions = {call.function for call in recorder.calls}
    assert functions == {"LoadedProbeFunction", "OuterFunction"}
    assert {c.action for c in recorder.calls if c.function == "OuterFunction"} == {"dynamodb:DescribeTable"}


def test_the_call_log_is_shared_by_processes_and_read_back_without_duplicates(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    first, second = CallRecorder(path), CallRecorder(path)  # e.g. the test process and the local stack
    call = RecordedCall("F", "s3:GetObject", "arn:aws:s3:::b/k")
    first.add(call)
    first.add(call)
    second.add(call)
    second.add(RecordedCall("G", "dynamodb:Query", f"{DDB}:table/T"))
    assert len(path.read_text().splitlines()) == 3  # each recorder writes a call once
    assert read_call_log(path) == {call, RecordedCall("G", "dynamodb:Query", f"{DDB}:table/T")}
    assert read_call_log(tmp_path / "absent.jsonl") == set()
