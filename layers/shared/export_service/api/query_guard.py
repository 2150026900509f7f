"""Checks Powertools' validation does not make: unknown query parameters, and a scalar given twice.

Each route registers its parameters; the route calls ``check_query_parameters`` and the resolver's validation-error
handler calls it too, because Powertools validates types before any route code or middleware runs, and "given twice"
or "unknown" is the clearer message for such requests.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from export_service.errors import InvalidParameterError, UnknownParameterError


@dataclass(frozen=True)
class QueryRules:
    allowed: frozenset[str]
    repeatable: frozenset[str] = frozenset()
    # checked before parameters: a key without it gets 403, whatever it sends; by method where methods differ
    permission: str | Mapping[str, str] | None = None


_RULES: dict[str, QueryRules] = {}


def register_query_rules(
    resource: str,
    allowed: Collection[str],
    repeatable: Collection[str] = (),
    permission: str | Mapping[str, str] | None = None,
) -> QueryRules:
    rules = QueryRules(frozenset(allowed), frozenset(repeatable), permission)
    _RULES[resource] = rules
    return rules


def check_query_parameters(resource: str, multi_value: Mapping[str, Sequence[str]] | None) -> None:
    rules = _RULES.get(resource)
    if rules is None:
        return
    for name, values in (multi_value or {}).items():
        if name not in rules.allowed:
            raise UnknownParameterError(
                f"unknown query parameter '{name}'; accepted: {', '.join(sorted(rules.allowed))}", parameter=name
            )
        if len(values) > 1 and name not in rules.repeatable:
            raise InvalidParameterError(f"query parameter '{name}' was given {len(values)} times", parameter=name)


def route_permission(resource: str, method: str) -> str | None:
    rules = _RULES.get(resource)
    permission = rules.permission if rules else None
    if permission is None or isinstance(permission, str):
        return permission
    return permission.get(method.upper())
