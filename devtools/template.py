"""Reads template.yaml so tests and the local stack build tables, routes and environments from it (no drift).

Functions, routes, the authorizer, gateway responses and tables are read from the template as SAM itself expands it
(aws-sam-translator, offline): Globals merged, events turned into the REST API's OpenAPI body, as CloudFormation
receives them. ``load_template`` (the YAML as written) remains for parameters and the state machine's definition.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_PATH = ROOT / "template.yaml"


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that keeps CloudFormation short-form tags (!Ref, !GetAtt, !Sub...) as their long form."""


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = str(value).split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


@lru_cache(maxsize=4)
def load_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return yaml.load(handle, Loader=_CfnLoader)  # noqa: S506 - SafeLoader subclass


def resources(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {name: res for name, res in template["Resources"].items() if res["Type"] == kind}


def table_create_args(logical_id: str, table_name: str | None = None) -> dict[str, Any]:
    """``create_table`` arguments for a table of the template, keyed as CloudFormation declares it."""
    props = _cfn()["Resources"][logical_id]["Properties"]
    args: dict[str, Any] = {
        "TableName": table_name or logical_id,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
    }
    if props.get("GlobalSecondaryIndexes"):
        args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return args


def table_ttl_attribute(logical_id: str) -> str | None:
    spec = _cfn()["Resources"][logical_id]["Properties"].get("TimeToLiveSpecification")
    return spec["AttributeName"] if spec and spec.get("Enabled") else None


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    code_dir: Path
    handler: str
    environment: dict[str, str]
    timeout: int


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    function: str
    authorizer: str | None


@dataclass(frozen=True)
class ApiSpec:
    routes: list[Route]
    authorizer_function: str | None
    gateway_responses: dict[str, dict[str, Any]] = field(default_factory=dict)


def resolve(value: Any, refs: dict[str, str]) -> Any:
    """Resolve !Ref / !Sub / !GetAtt against a map of logical id (or parameter) -> local value."""
    if isinstance(value, dict) and len(value) == 1:
        ((key, arg),) = value.items()
        if key == "Ref":
            return refs.get(arg, arg)
        if key == "Fn::GetAtt":
            return refs.get(".".join(arg), refs.get(arg[0], arg[0]))
        if key == "Fn::Sub":
            text = arg if isinstance(arg, str) else arg[0]
            for name, local in refs.items():
                text = text.replace("${" + name + "}", str(local))
            return text
    return value


def parameter_defaults() -> dict[str, str]:
    return {name: str(p.get("Default", "")) for name, p in load_template().get("Parameters", {}).items()}


def functions(refs: dict[str, str]) -> dict[str, FunctionSpec]:
    """Each Lambda function as SAM expands it (Globals merged), its environment resolved against ``refs``."""
    specs = {}
    for name, res in resources(_cfn(), "AWS::Lambda::Function").items():
        props = res["Properties"]
        env = props.get("Environment", {}).get("Variables", {})
        specs[name] = FunctionSpec(
            logical_id=name,
            code_dir=ROOT / props["Code"]["S3Key"],  # the local folder, kept in the placeholder key
            handler=props["Handler"],
            environment={key: str(resolve(value, refs)) for key, value in env.items()},
            timeout=int(props.get("Timeout", 3)),
        )
    return specs


_INVOKED = re.compile(r"\$\{(\w+)\.Arn\}")


def _invoked_function(uri: Any) -> str:
    """The function an integration or authorizer URI invokes (``...functions/${Name.Arn}/invocations``)."""
    sub = uri["Fn::Sub"]
    if isinstance(sub, list):  # ["...${__FunctionArn__}...", {"__FunctionArn__": {"Fn::GetAtt": [Name, "Arn"]}}]
        return str(next(iter(sub[1].values()))["Fn::GetAtt"][0])
    match = _INVOKED.search(sub)
    if match is None:
        raise ValueError(f"no function in integration uri {sub!r}")
    return match.group(1)


def _gateway_response(expanded: dict[str, Any]) -> dict[str, Any]:
    """An OpenAPI gateway response in the template's own keys (StatusCode, ResponseTemplates, ResponseParameters)."""
    headers = {
        name.removeprefix("gatewayresponse.header."): value
        for name, value in (expanded.get("responseParameters") or {}).items()
        if name.startswith("gatewayresponse.header.")
    }
    return {
        "StatusCode": expanded.get("statusCode"),
        "ResponseTemplates": expanded.get("responseTemplates") or {},
        "ResponseParameters": {"Headers": headers},
    }


def api(api_logical_id: str = "ExportApi") -> ApiSpec:
    """Routes, authorizer and gateway responses from the REST API's body as SAM generates it."""
    body = _cfn()["Resources"][api_logical_id]["Properties"]["Body"]
    authorizers = {
        name: _invoked_function(spec["x-amazon-apigateway-authorizer"]["authorizerUri"])
        for name, spec in body.get("securityDefinitions", {}).items()
        if "x-amazon-apigateway-authorizer" in spec
    }
    routes = []
    for path, methods in body["paths"].items():
        for method, operation in methods.items():
            integration = operation.get("x-amazon-apigateway-integration")
            if integration is None:
                continue
            security = [name for requirement in operation.get("security", ()) for name in requirement]
            authorizer = next((name for name in security if name in authorizers), None)
            function = _invoked_function(integration["uri"])
            routes.append(Route(method=method.upper(), path=path, function=function, authorizer=authorizer))
    responses = body.get("x-amazon-apigateway-gateway-responses", {})
    return ApiSpec(
        routes=routes,
        authorizer_function=next(iter(authorizers.values()), None),
        gateway_responses={kind: _gateway_response(spec) for kind, spec in responses.items()},
    )


@lru_cache(maxsize=1)
def _cfn() -> dict[str, Any]:
    """The expanded template, parsed once (read only: ``expanded_template`` gives a copy to change)."""
    return expanded_template()


LOCAL_REGION = "us-east-1"
LOCAL_ACCOUNT = "123456789012"
_LOCAL_PATH_PROPERTIES = ("CodeUri", "ContentUri", "DefinitionUri")


@lru_cache(maxsize=4)
def _expanded(path: Path, region: str, account: str) -> str:
    from boto3.session import Session  # noqa: PLC0415
    from samtranslator.parser.parser import Parser  # noqa: PLC0415
    from samtranslator.translator.translator import Translator  # noqa: PLC0415

    template = copy.deepcopy(load_template(path))
    # As `sam validate` does: the translator wants S3 locations, not the local folders `sam build` packages.
    sections = [template.get("Globals", {}).get("Function", {})]
    sections += [res.get("Properties", {}) for res in template["Resources"].values()]
    for props in sections:
        for name in _LOCAL_PATH_PROPERTIES:
            if isinstance(props.get(name), str) and not props[name].startswith("s3://"):
                props[name] = f"s3://local-placeholder/{props[name].strip('/')}"
    translator = Translator(
        managed_policy_map=None,
        sam_parser=Parser(),
        plugins=[],
        boto_session=Session(region_name=region),  # region only: nothing is called
    )
    expanded = translator.translate(
        sam_template=template,
        parameter_values={"AWS::AccountId": account},
        get_managed_policy_map=dict,  # managed policies named by ARN need no look-up; offline, nothing else can
    )
    return json.dumps(expanded)


def expanded_template(
    path: Path = TEMPLATE_PATH, region: str = LOCAL_REGION, account: str = LOCAL_ACCOUNT
) -> dict[str, Any]:
    """The template as CloudFormation receives it after the SAM transform (samtranslator, offline: no AWS calls).

    SAM policy templates (DynamoDBCrudPolicy...) become statements and each function gets its role
    (``<Function>Role``); intrinsics (!Ref, !Sub, !GetAtt) are left for CloudFormation. A fresh copy per call."""
    return dict(json.loads(_expanded(path, region, account)))
