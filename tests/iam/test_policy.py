"""The offline IAM evaluator (tests/iam/policy.py): allow, refuse, wildcards, index ARNs, Deny wins, conditions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.iam.policy import Resolver, Statement, condition_holds, evaluate, matches, statements_of

ACCOUNT = "arn:aws:dynamodb:us-east-1:123456789012"
TABLE = f"{ACCOUNT}:table/ExportRequestsTable"
INDEX = f"{TABLE}/index/ByEnabled"
BUCKET = "arn:aws:s3:::export-bucket"


def allow(action: Any, resource: Any, **extra: Any) -> Statement:
    return Statement.parse({"Effect": "Allow", "Action": action, "Resource": resource, **extra}, "test #allow")


def deny(action: Any, resource: Any, **extra: Any) -> Statement:
    return Statement.parse({"Effect": "Deny", "Action": action, "Resource": resource, **extra}, "test #deny")


def test_a_statement_naming_the_action_and_resource_allows_the_call() -> None:
    decision = evaluate([allow("dynamodb:Query", INDEX)], "dynamodb:Query", INDEX)
    assert decision.allowed
    assert decision.reason == "allowed by test #allow"


def test_a_call_no_statement_names_is_refused() -> None:
    statements = [allow("dynamodb:Query", INDEX), allow("states:StartExecution", "*")]
    decision = evaluate(statements, "dynamodb:GetItem", TABLE)
    assert not decision.allowed
    assert decision.reason == "no statement allows it"
    assert not evaluate(statements, "dynamodb:Query", TABLE).allowed  # the right action on the wrong resource


def test_no_statements_refuse_everything() -> None:
    assert not evaluate([], "s3:GetObject", f"{BUCKET}/a").allowed


def test_an_index_grant_does_not_cover_the_base_table_nor_the_reverse() -> None:
    assert not evaluate([allow("dynamodb:Query", INDEX)], "dynamodb:Query", TABLE).allowed
    assert not evaluate([allow("dynamodb:Query", TABLE)], "dynamodb:Query", INDEX).allowed
    every_index = allow("dynamodb:Query", f"{TABLE}/index/*")
    assert evaluate([every_index], "dynamodb:Query", INDEX).allowed
    assert not evaluate([every_index], "dynamodb:Query", TABLE).allowed
    assert not evaluate([every_index], "dynamodb:Query", f"{ACCOUNT}:table/OtherTable/index/ByEnabled").allowed


@pytest.mark.parametrize(
    ("pattern", "action", "expected"),
    [
        ("dynamodb:*", "dynamodb:DeleteItem", True),
        ("dynamodb:Get*", "dynamodb:GetItem", True),
        ("dynamodb:Get*", "dynamodb:PutItem", False),
        ("s3:?etObject", "s3:GetObject", True),
        ("s3:?etObject", "s3:PutObject", False),  # ? is one character: "P" is, "Pu" is not
        ("s3:?etObject", "s3:GetObjectAcl", False),
        ("DynamoDB:query", "dynamodb:Query", True),  # actions ignore letter case
        ("*", "states:StartExecution", True),
    ],
)
def test_action_wildcards(pattern: str, action: str, expected: bool) -> None:
    assert evaluate([allow(pattern, "*")], action, TABLE).allowed is expected


@pytest.mark.parametrize(
    ("pattern", "resource", "expected"),
    [
        (f"{BUCKET}/exports/*", f"{BUCKET}/exports/job-1/part-0001.csv", True),  # * crosses "/"
        (f"{BUCKET}/exports/*", f"{BUCKET}/nightly/acme/2026-05-02/audit.csv", False),
        (f"{BUCKET}/exports/*", BUCKET, False),
        (f"{BUCKET}/part-000?.csv", f"{BUCKET}/part-0001.csv", True),
        (f"{BUCKET}/part-000?.csv", f"{BUCKET}/part-00010.csv", False),
        (f"{BUCKET}/Exports/*", f"{BUCKET}/exports/a", False),  # resources are case-sensitive
        ("arn:aws:dynamodb:*:*:table/ExportRequestsTable", TABLE, True),
        (f"{BUCKET}/a.b", f"{BUCKET}/aXb", False),  # regex characters are literal
    ],
)
def test_resource_wildcards(pattern: str, resource: str, expected: bool) -> None:
    assert evaluate([allow("s3:GetObject", pattern)], "s3:GetObject", resource).allowed is expected


def test_an_explicit_deny_wins_over_any_allow_in_any_order() -> None:
    wide = allow("dynamodb:*", "*")
    no_delete = deny("dynamodb:DeleteItem", TABLE)
    for statements in ([wide, no_delete], [no_delete, wide]):
        refused = evaluate(statements, "dynamodb:DeleteItem", TABLE)
        assert not refused.allowed
        assert refused.reason == "explicitly denied by test #deny"
        assert evaluate(statements, "dynamodb:GetItem", TABLE).allowed
        assert evaluate(statements, "dynamodb:DeleteItem", f"{ACCOUNT}:table/Other").allowed


def test_not_action_and_not_resource() -> None:
    everything_but_delete = Statement.parse({"Effect": "Allow", "NotAction": "dynamodb:Delete*", "Resource": "*"}, "x")
    assert evaluate([everything_but_delete], "dynamodb:Query", TABLE).allowed
    assert not evaluate([everything_but_delete], "dynamodb:DeleteItem", TABLE).allowed
    outside_nightly = Statement.parse(
        {"Effect": "Deny", "Action": "s3:PutObject", "NotResource": f"{BUCKET}/nightly/*"}, "fence"
    )
    statements = [allow("s3:PutObject", f"{BUCKET}/*"), outside_nightly]
    assert evaluate(statements, "s3:PutObject", f"{BUCKET}/nightly/a.csv").allowed
    assert not evaluate(statements, "s3:PutObject", f"{BUCKET}/exports/a.csv").allowed


def test_conditions_known_offline_are_evaluated() -> None:
    tls_only = allow("s3:GetObject", "*", Condition={"Bool": {"aws:SecureTransport": "true"}})
    assert evaluate([tls_only], "s3:GetObject", f"{BUCKET}/a").allowed
    # the template's bucket policy: Deny s3:* unless TLS; the SDK always uses TLS, so it never applies
    insecure = deny("s3:*", f"{BUCKET}/*", Condition={"Bool": {"aws:SecureTransport": "false"}})
    assert evaluate([insecure, allow("s3:GetObject", "*")], "s3:GetObject", f"{BUCKET}/a").allowed


def test_a_condition_that_cannot_be_checked_offline_grants_nothing_and_a_deny_under_one_applies() -> None:
    leading_keys = {"ForAllValues:StringEquals": {"dynamodb:LeadingKeys": ["TENANT#acme"]}}
    decision = evaluate([allow("dynamodb:Query", TABLE, Condition=leading_keys)], "dynamodb:Query", TABLE)
    assert not decision.allowed
    assert "condition not checkable offline" in decision.reason
    vpc = {"StringNotEquals": {"aws:SourceVpce": "vpce-1"}}
    statements = [allow("dynamodb:*", "*"), deny("dynamodb:Query", TABLE, Condition=vpc)]
    refused = evaluate(statements, "dynamodb:Query", TABLE)
    assert not refused.allowed
    assert "cannot be checked offline" in refused.reason


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ({"StringEquals": {"aws:SecureTransport": "true"}}, True),
        ({"StringNotEquals": {"aws:SecureTransport": ["true", "yes"]}}, False),
        ({"StringLike": {"aws:SecureTransport": "t*"}}, True),
        ({"StringEqualsIfExists": {"aws:SourceIp": "10.0.0.1"}}, True),  # absent key: IfExists holds
        ({"Null": {"aws:SourceIp": "true"}}, True),
        ({"Null": {"aws:SecureTransport": "true"}}, False),
        ({"StringEquals": {"aws:SourceIp": "10.0.0.1"}}, None),
        ({"Bool": {"aws:SecureTransport": "false"}, "StringEquals": {"aws:SourceIp": "x"}}, False),  # one is false
    ],
)
def test_condition_operators(condition: dict[str, dict[str, Any]], expected: bool | None) -> None:
    assert condition_holds(condition, {"aws:securetransport": "true"}) is expected


def test_matches_is_a_full_match() -> None:
    assert matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/k")
    assert not matches("arn:aws:s3:::b", "arn:aws:s3:::b2")
    assert not matches("arn:aws:s3:::b/k", "xarn:aws:s3:::b/k")


def test_references_resolve_to_local_names_and_unknown_ones_match_nothing() -> None:
    resolver = Resolver(
        {
            "ExportRequestsTable.Arn": TABLE,
            "ExportStateMachine": "arn:aws:states:us-east-1:123456789012:stateMachine:ExportStateMachine",
            "AWS::Partition": "aws",
        }
    )
    document = {
        "Statement": [
            {
                "Effect": "Allow",
                "Action": "dynamodb:Query",
                "Resource": {"Fn::Sub": "${ExportRequestsTable.Arn}/index/*"},
            },
            {
                "Effect": "Allow",
                "Action": "states:StartExecution",
                "Resource": [{"Fn::GetAtt": ["ExportStateMachine", "Arn"]}, {"Ref": "Missing"}],
            },
            {
                "Effect": "Allow",
                "Action": "lambda:InvokeFunction",
                "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:lambda:*:*:function:${name}*", {"name": "Fn"}]},
            },
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:aws:s3:::b/${!aws:userid}"}},
        ]
    }
    query, start, invoke, per_user = statements_of(document, "Role/Policy0", resolver)
    assert query.resources == (f"{TABLE}/index/*",)
    assert query.origin == "Role/Policy0 #1"
    assert start.resources[0] == "arn:aws:states:us-east-1:123456789012:stateMachine:ExportStateMachine"
    assert start.resources[1] == "<unresolved:Missing>"
    assert resolver.unresolved == {"Missing"}
    assert invoke.resources == ("arn:aws:lambda:*:*:function:Fn*",)
    assert per_user.resources == ("arn:aws:s3:::b/${aws:userid}",)
    assert not evaluate([start], "states:StartExecution", "<unresolved:Missing>").allowed
    assert not evaluate([per_user], "s3:GetObject", "arn:aws:s3:::b/${aws:userid}").allowed  # a policy variable
