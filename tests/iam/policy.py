"""IAM policy evaluation, offline: a function role's statements, resolved to local ARNs, against one recorded call.

What IAM does and this does too: an explicit Deny wins; otherwise a matching Allow grants; otherwise the call is
refused. Action and Resource (or NotAction / NotResource) match with ``*`` and ``?``; actions ignore letter case,
resources do not. Conditions are evaluated when every key they test is known offline (``aws:SecureTransport``: the
SDKs always use TLS); otherwise an Allow under such a condition grants nothing here, and a Deny under one is taken to
apply (both show up in the report, never silently). Not modelled: permission boundaries, SCPs, session policies and
resource policies other than a bucket policy's Deny statements.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

# What is known about every call a function makes, for condition keys.
OFFLINE_CONTEXT: Mapping[str, str] = {"aws:securetransport": "true"}
UNRESOLVED = "<unresolved:"  # prefix of a reference the local names could not resolve; matches no ARN


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


@dataclass(frozen=True)
class Statement:
    effect: str  # Allow | Deny
    origin: str  # where it comes from, e.g. NightlyDispatchFunctionRole/NightlyDispatchFunctionRolePolicy0 #1
    actions: tuple[str, ...] = ()
    not_actions: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    not_resources: tuple[str, ...] = ()
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def parse(cls, raw: Mapping[str, Any], origin: str) -> Statement:
        return cls(
            effect=str(raw.get("Effect", "Allow")),
            origin=origin,
            actions=tuple(str(a) for a in _as_list(raw.get("Action"))),
            not_actions=tuple(str(a) for a in _as_list(raw.get("NotAction"))),
            resources=tuple(str(r) for r in _as_list(raw.get("Resource"))),
            not_resources=tuple(str(r) for r in _as_list(raw.get("NotResource"))),
            condition=dict(raw.get("Condition") or {}),
        )

    def matches_action(self, action: str) -> bool:
        if self.not_actions:
            return not any(matches(pattern, action, ignore_case=True) for pattern in self.not_actions)
        return any(matches(pattern, action, ignore_case=True) for pattern in self.actions)

    def matches_resource(self, resource: str) -> bool:
        if self.not_resources:
            return not any(matches(pattern, resource) for pattern in self.not_resources)
        return any(matches(pattern, resource) for pattern in self.resources)

    def applies_to(self, action: str, resource: str) -> bool:
        return self.matches_action(action) and self.matches_resource(resource)


@lru_cache(maxsize=4096)
def _compiled(pattern: str, ignore_case: bool) -> re.Pattern[str] | None:
    if UNRESOLVED in pattern or "${" in pattern:  # an unresolved name or an IAM policy variable: not known offline
        return None
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` exactly one."""
    compiled = _compiled(pattern, ignore_case)
    return compiled is not None and compiled.fullmatch(value) is not None


def condition_holds(condition: Mapping[str, Mapping[str, Any]], context: Mapping[str, str]) -> bool | None:
    """True or False when decidable from ``context`` (keys in lower case); None when it is not."""
    verdicts = [
        _test(operator, key, _as_list(expected), context)
        for operator, tests in condition.items()
        for key, expected in tests.items()
    ]
    if False in verdicts:
        return False
    return None if None in verdicts else True


def _test(operator: str, key: str, expected: list[Any], context: Mapping[str, str]) -> bool | None:
    if ":" in operator:  # ForAnyValue: / ForAllValues: test multivalued request keys, never known offline
        return None
    base = operator.removesuffix("IfExists")
    actual = context.get(key.lower())
    if actual is None:
        if base == "Null":
            return all(str(value).lower() == "true" for value in expected)
        return True if base != operator else None
    values = [str(value) for value in expected]
    negated = "Not" in base
    kind = base.replace("Not", "")
    if kind in ("StringEquals", "ArnEquals", "Bool"):
        found = actual.lower() in [v.lower() for v in values] if kind == "Bool" else actual in values
    elif kind == "StringEqualsIgnoreCase":
        found = actual.lower() in [v.lower() for v in values]
    elif kind in ("StringLike", "ArnLike"):
        found = any(matches(value, actual) for value in values)
    elif kind == "Null":
        return all(str(value).lower() == "false" for value in expected)
    else:  # numeric, date, IP address...: no such key is known offline
        return None
    return not found if negated else found


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str
    granted_by: tuple[Statement, ...] = ()


def evaluate(
    statements: Iterable[Statement], action: str, resource: str, context: Mapping[str, str] = OFFLINE_CONTEXT
) -> Decision:
    """IAM's decision for one request of ``action`` on ``resource`` under ``statements``."""
    allowing: list[Statement] = []
    conditional: list[Statement] = []
    for statement in statements:
        if not statement.applies_to(action, resource):
            continue
        holds = condition_holds(statement.condition, context) if statement.condition else True
        if statement.effect == "Deny" and holds is not False:
            unsure = " (its condition cannot be checked offline, so it is taken to apply)" if holds is None else ""
            return Decision(False, f"explicitly denied by {statement.origin}{unsure}")
        if statement.effect == "Allow":
            if holds:
                allowing.append(statement)
            elif holds is None:
                conditional.append(statement)
    if allowing:
        return Decision(True, f"allowed by {allowing[0].origin}", tuple(allowing))
    if conditional:
        return Decision(False, f"only {conditional[0].origin} allows it, under a condition not checkable offline")
    return Decision(False, "no statement allows it")


# ---------------------------------------------------------------- CloudFormation intrinsics, resolved locally


class Resolver:
    """Resolves !Ref, !GetAtt, !Sub, !Join, !Select and !Split against local names; what it cannot resolve becomes
    ``<unresolved:...>`` (matching nothing) and is listed in ``unresolved``."""

    def __init__(self, refs: Mapping[str, str]) -> None:
        self.refs = refs
        self.unresolved: set[str] = set()

    def _name(self, name: str) -> str:
        if name in self.refs:
            return self.refs[name]
        logical, _, attribute = name.partition(".")
        if attribute == "Arn" and str(self.refs.get(logical, "")).startswith("arn:"):
            return self.refs[logical]  # e.g. a state machine, whose Ref is already its ARN
        self.unresolved.add(name)
        return f"{UNRESOLVED}{name}>"

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) != 1:
            return {key: self.resolve(item) for key, item in value.items()}
        ((key, arg),) = value.items()
        if key == "Ref":
            return self._name(str(arg))
        if key == "Fn::GetAtt":
            return self._name(".".join(arg) if isinstance(arg, list) else str(arg))
        if key == "Fn::Sub":
            text, names = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))
            return self._sub(text, names)
        if key == "Fn::Join":
            return str(self.resolve(arg[0])).join(str(part) for part in _as_list(self.resolve(arg[1])))
        if key == "Fn::Select":
            return _as_list(self.resolve(arg[1]))[int(self.resolve(arg[0]))]
        if key == "Fn::Split":
            return str(self.resolve(arg[1])).split(str(self.resolve(arg[0])))
        if key.startswith("Fn::"):
            self.unresolved.add(key)
            return f"{UNRESOLVED}{key}>"
        return {key: self.resolve(arg)}

    def _sub(self, text: str, names: Mapping[str, Any]) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"  # ${!Literal} stays a literal ${Literal}
            return str(names[name]) if name in names else self._name(name)

        return re.sub(r"\$\{([^}]+)\}", replace, text)


def statements_of(document: Mapping[str, Any], origin: str, resolver: Resolver) -> list[Statement]:
    resolved = resolver.resolve(dict(document))
    return [
        Statement.parse(raw, f"{origin} #{number}")
        for number, raw in enumerate(_as_list(resolved.get("Statement")), start=1)
    ]


def expand_pairs(statement: Statement) -> Sequence[tuple[str, str]]:
    """The (action, resource) grants a statement lists, for the report of grants no call used."""
    actions = statement.actions or tuple(f"NotAction {a}" for a in statement.not_actions)
    resources = statement.resources or tuple(f"NotResource {r}" for r in statement.not_resources)
    return [(action, resource) for action in actions for resource in resources]
