"""Runs the template's functions in-process, with the event shapes API Gateway (REST proxy) sends."""

from __future__ import annotations

import importlib.util
import sys
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from devtools.template import FunctionSpec

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
    """Import ``<CodeUri>/<module>.py`` under a name of its own, so every function's ``app.py`` can coexist."""
    module_file, _, attr = spec.handler.rpartition(".")
    key = f"_lambda_{spec.logical_id}_{module_file}"
    module = _modules.get(key)
    if module is None:
        loader_spec = importlib.util.spec_from_file_location(key, spec.code_dir / f"{module_file}.py")
        if loader_spec is None or loader_spec.loader is None:
            raise ImportError(f"cannot load {spec.handler} from {spec.code_dir}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[key] = module
        loader_spec.loader.exec_module(module)
        _modules[key] = module
    return getattr(module, attr)


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
