"""Runs the template's functions in-process, with the event shapes API Gateway (REST proxy) sends."""

from __future__ import annotations

import contextvars
import functools
import importlib.util
import json
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import unquote

from devtools.template import LOCAL_ACCOUNT, LOCAL_REGION, FunctionSpec

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LocalLambdaContext:
    """The attributes of the Lambda context object that Powertools and handlers read."""

    function_name: str
    memory_limit_in_mb: int = 1024
    timeout_s: int = 29
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = ""
    log_stream_name: str = "local"
    function_version: str = "$LATEST"
    _deadline: float = 0.0

    def __post_init__(self) -> None:
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self._deadline = time.monotonic() + self.timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


_modules: dict[str, ModuleType] = {}


def load_handler(spec: FunctionSpec) -> Handler:
    """Import ``<CodeUri>/<module>.py`` under a name of its own, so every function's ``app.py`` can coexist.

    The handler returned runs as ``spec.logical_id``: the AWS calls it makes are attributed to that function."""
    module_file, _, attr = spec.handler.rpartition(".")
    key = f"_lambda_{spec.logical_id}_{module_file}"
    module = _modules.get(key)
    if module is None:
        loader_spec = importlib.util.spec_from_file_location(key, spec.code_dir / f"{module_file}.py")
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"cannot load {spec.handler} from {spec.code_dir}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[key] = module
        with running_as(spec.logical_id):  # the cold start's calls are the function's too
            loader_spec.loader.exec_module(module)
        _modules[key] = module
    handler = getattr(module, attr)

    def attributed(event: dict[str, Any], context: Any) -> Any:
        with running_as(spec.logical_id):
            return handler(event, context)

    return functools.update_wrapper(attributed, handler)


def invoke(spec: FunctionSpec, event: dict[str, Any]) -> Any:
    return load_handler(spec)(event, LocalLambdaContext(function_name=spec.logical_id, timeout_s=spec.timeout))


def _single(multi: Mapping[str, Sequence[str]] | None) -> dict[str, str] | None:
    # API Gateway's single-value maps keep the last value of a repeated name.
    return {name: values[-1] for name, values in multi.items()} if multi else None


def rest_proxy_event(
    *,
    method: str,
    path: str,
    resource: str,
    path_parameters: Mapping[str, str] | None = None,
    headers: Mapping[str, Sequence[str]] | None = None,
    query: Mapping[str, Sequence[str]] | None = None,
    body: str | None = None,
    is_base64: bool = False,
    authorizer: Mapping[str, Any] | None = None,
    stage: str = "local",
    source_ip: str = "127.0.0.1",
) -> dict[str, Any]:
    """The REST API (v1) Lambda proxy event, as API Gateway builds it."""
    multi_headers = {name: list(values) for name, values in (headers or {}).items()}
    multi_query = {name: list(values) for name, values in (query or {}).items()} or None
    request_id = str(uuid.uuid4())
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": _single(multi_headers),
        "multiValueHeaders": multi_headers or None,
        "queryStringParameters": _single(multi_query),
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": dict(path_parameters) if path_parameters else None,
        "stageVariables": None,
        "requestContext": {
            "resourceId": "local",
            "resourcePath": resource,
            "httpMethod": method,
            "extendedRequestId": request_id,
            "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime()),
            "path": path,  # the local gateway serves without a stage prefix (as a custom domain does)
            "accountId": "123456789012",
            "protocol": "HTTP/1.1",
            "stage": stage,
            "domainPrefix": "localhost",
            "requestTimeEpoch": int(time.time() * 1000),
            "requestId": request_id,
            "identity": {"sourceIp": source_ip, "userAgent": (_single(multi_headers) or {}).get("User-Agent")},
            "domainName": "localhost",
            "apiId": "local",
            "authorizer": dict(authorizer) if authorizer is not None else None,
        },
        "body": body,
        "isBase64Encoded": is_base64,
    }


def authorizer_request_event(proxy_event: Mapping[str, Any]) -> dict[str, Any]:
    """The REQUEST authorizer event API Gateway sends before invoking the route."""
    context = proxy_event["requestContext"]
    method_arn = (
        f"arn:aws:execute-api:us-east-1:123456789012:{context['apiId']}/{context['stage']}/"
        f"{proxy_event['httpMethod']}{proxy_event['resource']}"
    )
    return {
        "type": "REQUEST",
        "methodArn": method_arn,
        "resource": proxy_event["resource"],
        "path": proxy_event["path"],
        "httpMethod": proxy_event["httpMethod"],
        "headers": proxy_event["headers"],
        "multiValueHeaders": proxy_event["multiValueHeaders"],
        "queryStringParameters": proxy_event["queryStringParameters"],
        "multiValueQueryStringParameters": proxy_event["multiValueQueryStringParameters"],
        "pathParameters": proxy_event["pathParameters"],
        "stageVariables": None,
        "requestContext": {key: value for key, value in context.items() if key != "authorizer"},
    }


# ---------------------------------------------------------------- which function makes which AWS call
# moto and DynamoDB Local do not enforce IAM. While a handler runs (or its module is imported), every AWS call its
# code makes, and every URL it presigns, is recorded as (function, IAM action, resource ARN); tests/iam checks the
# records against the template's policies. Set-up code runs outside any handler and is not recorded.

CALL_LOG_ENV = "EXPORT_SERVICE_IAM_CALL_LOG"  # a JSONL file: processes started with it record their calls there

_running: contextvars.ContextVar[str | None] = contextvars.ContextVar("lambda_function", default=None)


@contextmanager
def running_as(function: str) -> Iterator[None]:
    """AWS calls made inside this block (and by thread pools it submits to) are ``function``'s."""
    token = _running.set(function)
    try:
        yield
    finally:
        _running.reset(token)


@dataclass(frozen=True)
class RecordedCall:
    function: str
    action: str  # the IAM action, e.g. dynamodb:Query
    resource: str  # the ARN IAM checks, e.g. arn:aws:dynamodb:us-east-1:123456789012:table/T/index/I


class CallRecorder:
    """The distinct calls seen in this process; each new one is also appended to ``path`` when one is given (one
    ``write`` per line on an O_APPEND file, so several processes can share it)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self.calls: set[RecordedCall] = set()
        self._lock = threading.Lock()

    def add(self, call: RecordedCall) -> None:
        with self._lock:
            if call in self.calls:
                return
            self.calls.add(call)
            if self.path is not None:
                line = (json.dumps(asdict(call), sort_keys=True) + "\n").encode("utf-8")
                handle = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(handle, line)
                finally:
                    os.close(handle)


def read_call_log(path: Path) -> set[RecordedCall]:
    if not path.exists():
        return set()
    lines = path.read_text(encoding="utf-8").splitlines()
    return {RecordedCall(**json.loads(line)) for line in lines if line.strip()}


class _Recording:
    recorder: CallRecorder | None = None
    hooked = False


def record_calls(recorder: CallRecorder | None) -> CallRecorder | None:
    """Send the calls functions make from now on to ``recorder`` (None: stop); returns the previous recorder."""
    previous, _Recording.recorder = _Recording.recorder, recorder
    if recorder is not None:
        _install_hooks()
    return previous


def record_calls_from_environment() -> None:
    """Record into the file ``$EXPORT_SERVICE_IAM_CALL_LOG`` names, if it names one (the test session sets it)."""
    path = os.environ.get(CALL_LOG_ENV)
    current = _Recording.recorder
    if path and (current is None or current.path != Path(path)):
        record_calls(CallRecorder(Path(path)))


def _install_hooks() -> None:
    """Once per process: see every client call and presign (both pass ``_emit_api_params``), and carry the running
    function into thread pools (the stores read pages ahead on a ThreadPoolExecutor)."""
    if _Recording.hooked:
        return
    from botocore.client import BaseClient  # noqa: PLC0415

    emit = BaseClient._emit_api_params  # type: ignore[attr-defined]

    def emit_and_record(client: Any, api_params: Any, operation_model: Any, context: Any) -> Any:
        params = emit(client, api_params, operation_model, context)
        function, recorder = _running.get(), _Recording.recorder
        if function is not None and recorder is not None:
            prefix = client.meta.service_model.signing_name
            region = client.meta.region_name or LOCAL_REGION
            for action, resource in iam_requests(prefix, operation_model.name, params, region):
                recorder.add(RecordedCall(function, action, resource))
        return params

    submit = ThreadPoolExecutor.submit

    def submit_in_context(executor: ThreadPoolExecutor, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        return submit(executor, contextvars.copy_context().run, fn, *args, **kwargs)

    BaseClient._emit_api_params = emit_and_record  # type: ignore[attr-defined]
    ThreadPoolExecutor.submit = submit_in_context  # type: ignore[method-assign,assignment]
    _Recording.hooked = True


# API operation -> IAM action, where the two differ (https://docs.aws.amazon.com/service-authorization/).
_S3_OBJECT_ACTIONS = {
    "HeadObject": "GetObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "UploadPartCopy": "PutObject",
    "CopyObject": "PutObject",
    "ListParts": "ListMultipartUploadParts",
}
_S3_VERSIONED = {"GetObject": "GetObjectVersion", "DeleteObject": "DeleteObjectVersion"}
_S3_BUCKET_ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListMultipartUploads": "ListBucketMultipartUploads",
}
# TransactWriteItems / TransactGetItems are authorised item by item, with the single-item actions.
_DYNAMODB_TRANSACT = {
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
    "Get": "GetItem",
}
_ARN_PARAMETERS = ("stateMachineArn", "executionArn", "activityArn", "resourceArn")


def iam_requests(prefix: str, operation: str, params: Mapping[str, Any], region: str) -> list[tuple[str, str]]:
    """The (IAM action, resource ARN) pairs IAM authorises for one call of ``operation`` with ``params``."""
    if prefix == "dynamodb":
        return _dynamodb_requests(operation, params, region)
    if prefix == "s3":
        return _s3_requests(operation, params)
    resource = "*"
    if prefix == "secretsmanager" and "SecretId" in params:
        secret = str(params["SecretId"])
        resource = (
            secret if secret.startswith("arn:") else f"arn:aws:secretsmanager:{region}:{LOCAL_ACCOUNT}:secret:{secret}"
        )
    elif prefix == "lambda" and "FunctionName" in params:
        name = str(params["FunctionName"])
        resource = name if name.startswith("arn:") else f"arn:aws:lambda:{region}:{LOCAL_ACCOUNT}:function:{name}"
    elif prefix == "kms" and "KeyId" in params:  # a key id or ARN (an alias would be checked as the alias)
        key = str(params["KeyId"])
        resource = key if key.startswith("arn:") else f"arn:aws:kms:{region}:{LOCAL_ACCOUNT}:{_kms_resource(key)}"
    elif prefix == "events" and operation == "PutEvents":  # authorised per event bus named
        return [
            ("events:PutEvents", _event_bus_arn(str(entry.get("EventBusName") or "default"), region))
            for entry in params.get("Entries", [])
        ]
    else:
        resource = next((str(params[name]) for name in _ARN_PARAMETERS if name in params), "*")
    return [(f"{prefix}:{operation}", resource)]


def _kms_resource(key: str) -> str:
    return key if key.startswith("alias/") else f"key/{key}"


def _event_bus_arn(bus: str, region: str) -> str:
    return bus if bus.startswith("arn:") else f"arn:aws:events:{region}:{LOCAL_ACCOUNT}:event-bus/{bus}"


def _table_arn(name: str, region: str) -> str:
    return name if name.startswith("arn:") else f"arn:aws:dynamodb:{region}:{LOCAL_ACCOUNT}:table/{name}"


def _dynamodb_requests(operation: str, params: Mapping[str, Any], region: str) -> list[tuple[str, str]]:
    if operation in ("BatchGetItem", "BatchWriteItem"):  # one action, checked on every table named
        return [(f"dynamodb:{operation}", _table_arn(table, region)) for table in params.get("RequestItems", {})]
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            (f"dynamodb:{_DYNAMODB_TRANSACT[kind]}", _table_arn(body["TableName"], region))
            for item in params.get("TransactItems", [])
            for kind, body in item.items()
        ]
    if "TableName" not in params:
        return [(f"dynamodb:{operation}", "*")]
    arn = _table_arn(str(params["TableName"]), region)
    if params.get("IndexName"):
        arn += f"/index/{params['IndexName']}"
    return [(f"dynamodb:{operation}", arn)]


def _s3_requests(operation: str, params: Mapping[str, Any]) -> list[tuple[str, str]]:
    bucket = f"arn:aws:s3:::{params.get('Bucket', '')}"
    if operation in _S3_BUCKET_ACTIONS:
        return [(f"s3:{_S3_BUCKET_ACTIONS[operation]}", bucket)]
    if operation == "DeleteObjects":
        return [("s3:DeleteObject", f"{bucket}/{item['Key']}") for item in params.get("Delete", {}).get("Objects", [])]
    if "Key" not in params:
        return [(f"s3:{operation}", bucket if params.get("Bucket") else "*")]
    action = _S3_OBJECT_ACTIONS.get(operation, operation)
    if params.get("VersionId"):
        action = _S3_VERSIONED.get(action, action)
    found = [(f"s3:{action}", f"{bucket}/{params['Key']}")]
    if operation in ("CopyObject", "UploadPartCopy"):  # the copy reads its source
        source = params["CopySource"]
        if isinstance(source, Mapping):
            found.append(("s3:GetObject", f"arn:aws:s3:::{source['Bucket']}/{source['Key']}"))
        else:
            found.append(("s3:GetObject", "arn:aws:s3:::" + unquote(str(source).split("?", 1)[0].lstrip("/"))))
    return found


record_calls_from_environment()
