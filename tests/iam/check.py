"""The session's IAM check: every AWS call a function made in the tests, against that function's role in the
template as SAM expands it (samtranslator, offline), with the template's references resolved to the local names.

    report = check_calls(read_call_log(path))   # tests/conftest.py does this when the session finishes
    print("\\n".join(report.lines()))
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devtools.lambda_runtime import RecordedCall
from devtools.provision import LOCAL_BUCKET_PREFIX, local_key_id
from devtools.template import LOCAL_ACCOUNT, LOCAL_REGION, TEMPLATE_PATH, expanded_template, load_template, resources
from tests.iam.policy import (
    OFFLINE_CONTEXT,
    Decision,
    Resolver,
    Statement,
    condition_holds,
    evaluate,
    expand_pairs,
    statements_of,
)

# What the two managed policies SAM attaches to every function grant (AWS publishes them; offline there is no IAM
# to ask). A managed policy not listed here is reported as not evaluated and grants nothing in the check.
KNOWN_MANAGED_POLICIES: Mapping[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
    "arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess": [
        {
            "Effect": "Allow",
            "Action": [
                "xray:PutTraceSegments",
                "xray:PutTelemetryRecords",
                "xray:GetSamplingRules",
                "xray:GetSamplingTargets",
                "xray:GetSamplingStatisticSummaries",
            ],
            "Resource": "*",
        }
    ],
}
_SHOWN = 3  # example resources per group of refused calls


def policy_refs(template: dict[str, Any]) -> dict[str, str]:
    """What references resolve to locally: the names ``devtools.provision.local_refs`` gives the tests' tables,
    functions, state machines and buckets, plus pseudo parameters and secrets (a secret is created under its
    logical id, so its ARN ends ``:secret:<LogicalId>``)."""
    arn = f"{LOCAL_REGION}:{LOCAL_ACCOUNT}"
    refs = {name: str(p.get("Default", "")) for name, p in template.get("Parameters", {}).items()}
    refs.update(
        {
            "AWS::Region": LOCAL_REGION,
            "AWS::AccountId": LOCAL_ACCOUNT,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": "local",
        }
    )
    for name in resources(template, "AWS::DynamoDB::Table"):
        refs[name], refs[f"{name}.Arn"] = name, f"arn:aws:dynamodb:{arn}:table/{name}"
    for name in resources(template, "AWS::Serverless::Function"):
        refs[name], refs[f"{name}.Arn"] = name, f"arn:aws:lambda:{arn}:function:{name}"
    for name in resources(template, "AWS::Serverless::StateMachine"):
        refs[name] = f"arn:aws:states:{arn}:stateMachine:{name}"
        refs[f"{name}.Name"] = name
    for name in resources(template, "AWS::S3::Bucket"):
        refs[name] = LOCAL_BUCKET_PREFIX + name.lower()
        refs[f"{name}.Arn"] = f"arn:aws:s3:::{refs[name]}"
    for name in resources(template, "AWS::SecretsManager::Secret"):
        refs[name] = f"arn:aws:secretsmanager:{arn}:secret:{name}"
    for name in resources(template, "AWS::KMS::Key"):  # created under these ids (devtools.provision.create_keys)
        refs[name], refs[f"{name}.Arn"] = local_key_id(name), f"arn:aws:kms:{arn}:key/{local_key_id(name)}"
    return refs


@dataclass
class Policies:
    """Per function: the statements its role carries (inline and attached policies, then known managed ones),
    the statements every caller is subject to (bucket policies' Deny), and what could not be evaluated."""

    by_function: dict[str, list[Statement]]
    inline: dict[str, list[Statement]]  # the template's own grants, for the unused-grant report
    shared_denies: list[Statement]
    not_evaluated: list[str]


def function_policies(template_path: Path = TEMPLATE_PATH) -> Policies:
    expanded = expanded_template(template_path)
    cfn = expanded["Resources"]
    resolver = Resolver(policy_refs(load_template(template_path)))
    documents: dict[str, list[tuple[dict[str, Any], str]]] = defaultdict(list)  # role -> (document, origin)
    managed: dict[str, list[Any]] = defaultdict(list)
    for name, res in cfn.items():
        props = res.get("Properties", {})
        if res["Type"] == "AWS::IAM::Role":
            for policy in props.get("Policies", []):
                documents[name].append((policy["PolicyDocument"], f"{name}/{policy.get('PolicyName', 'inline')}"))
            managed[name] += props.get("ManagedPolicyArns", [])
        elif res["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):  # e.g. what SAM connectors add
            for role in props.get("Roles", []):
                documents[str(role.get("Ref") if isinstance(role, dict) else role)].append(
                    (props["PolicyDocument"], name)
                )
    shared_denies = [
        statement
        for name, res in cfn.items()
        if res["Type"] == "AWS::S3::BucketPolicy"
        for statement in statements_of(res["Properties"]["PolicyDocument"], name, resolver)
        if statement.effect == "Deny"
    ]
    policies = Policies({}, {}, shared_denies, [])
    for name, res in cfn.items():
        if res["Type"] != "AWS::Lambda::Function":
            continue
        role_ref = res["Properties"].get("Role")
        role = role_ref["Fn::GetAtt"][0] if isinstance(role_ref, dict) and "Fn::GetAtt" in role_ref else None
        if role is None:
            policies.not_evaluated.append(f"{name}: role {role_ref!r} is not one of the template's roles")
            policies.by_function[name] = policies.inline[name] = []
            continue
        policies.inline[name] = [
            statement for document, origin in documents[role] for statement in statements_of(document, origin, resolver)
        ]
        known = []
        for arn in (str(resolver.resolve(ref)) for ref in managed[role]):
            if arn in KNOWN_MANAGED_POLICIES:
                known += [Statement.parse(raw, arn.rsplit("/", 1)[-1]) for raw in KNOWN_MANAGED_POLICIES[arn]]
            else:
                policies.not_evaluated.append(f"{name}: managed policy {arn} (unknown offline; grants nothing here)")
        policies.by_function[name] = [*policies.inline[name], *known]
    policies.not_evaluated += [f"reference {name} has no local value" for name in sorted(resolver.unresolved)]
    return policies


@dataclass
class IamReport:
    calls: int
    refused: list[tuple[RecordedCall, Decision]] = field(default_factory=list)
    unused: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # function -> (action, resource)
    never_ran: list[str] = field(default_factory=list)
    not_evaluated: list[str] = field(default_factory=list)
    conditional: list[str] = field(default_factory=list)  # Allow statements under conditions not checkable offline

    @property
    def failed(self) -> bool:
        return bool(self.refused)

    def lines(self) -> list[str]:
        if not self.calls:
            return [
                "no AWS call was recorded in a function (no integration or end-to-end test ran one): nothing to check"
            ]
        out = [f"{self.calls} distinct (function, action, resource) calls checked against template.yaml's policies"]
        groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
        for call, decision in self.refused:
            groups[(call.function, call.action, decision.reason)].append(call.resource)
        if groups:
            out.append(f"FAILED: {len(self.refused)} call(s) the template does not allow (AccessDenied on AWS):")
        for (function, action, reason), found in sorted(groups.items()):
            shown = ", ".join(sorted(found)[:_SHOWN]) + (
                f" and {len(found) - _SHOWN} more" if len(found) > _SHOWN else ""
            )
            out.append(f"  {function}: {action} on {shown}")
            out.append(f"      {reason}")
        if not groups:
            out.append("every recorded call is allowed by its function's policy")
        if self.unused:
            out.append("grants no recorded call used (candidates for removal; not a failure):")
            for function, grants in sorted(self.unused.items()):
                by_action: dict[str, list[str]] = defaultdict(list)
                for action, resource in grants:
                    by_action[action].append(resource)
                out += [f"  {function}: {action} on {', '.join(found)}" for action, found in by_action.items()]
        if self.never_ran:
            out.append(f"functions no test ran (their grants are unchecked): {', '.join(sorted(self.never_ran))}")
        for title, items in (("not evaluated offline", self.not_evaluated), ("conditional", self.conditional)):
            if items:
                out.append(f"{title}:")
                out += [f"  {item}" for item in items]
        return out


def check_calls(calls: Iterable[RecordedCall], template_path: Path = TEMPLATE_PATH) -> IamReport:
    calls = sorted(set(calls), key=lambda c: (c.function, c.action, c.resource))
    report = IamReport(calls=len(calls))
    if not calls:
        return report
    policies = function_policies(template_path)
    report.not_evaluated = policies.not_evaluated
    used: set[tuple[str, str, str, str]] = set()  # function, statement origin, action, resource
    for call in calls:
        if call.function not in policies.by_function:
            report.refused.append((call, Decision(False, "no function of that name in the template")))
            continue
        statements = [*policies.shared_denies, *policies.by_function[call.function]]
        decision = evaluate(statements, call.action, call.resource)
        if not decision.allowed:
            report.refused.append((call, decision))
            continue
        for statement in policies.inline[call.function]:
            for action, resource in expand_pairs(statement):
                if _pair_used(statement, action, resource, call) and statement in decision.granted_by:
                    used.add((call.function, statement.origin, action, resource))
    ran = {call.function for call in calls}
    for function, statements in policies.inline.items():
        if function not in ran:
            report.never_ran.append(function)
            continue
        for statement in statements:
            if statement.effect != "Allow":
                continue
            if statement.condition and condition_holds(statement.condition, OFFLINE_CONTEXT) is None:
                report.conditional.append(
                    f"{function}: {statement.origin} grants nothing here (condition not checkable)"
                )
            unused = [pair for pair in expand_pairs(statement) if (function, statement.origin, *pair) not in used]
            report.unused.setdefault(function, []).extend(unused)
    report.unused = {function: grants for function, grants in report.unused.items() if grants}
    report.never_ran.sort()
    return report


def _pair_used(statement: Statement, action: str, resource: str, call: RecordedCall) -> bool:
    one = Statement(statement.effect, statement.origin, (action,), (), (resource,), ())
    if action.startswith("NotAction ") or resource.startswith("NotResource "):
        return statement.applies_to(call.action, call.resource)
    return one.applies_to(call.action, call.resource)
