"""Checks Powertools' validation does not make: unknown query parameters, and a scalar given twice."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

from export_service.errors import InvalidParameterError, UnknownParameterError


def check_query_parameters(
    multi_value: Mapping[str, Sequence[str]] | None, allowed: Collection[str], repeatable: Collection[str] = ()
) -> None:
    for name, values in (multi_value or {}).items():
        if name not in allowed:
            raise UnknownParameterError(
                f"unknown query parameter '{name}'; accepted: {', '.join(sorted(allowed))}", parameter=name
            )
        if len(values) > 1 and name not in repeatable:
            raise InvalidParameterError(f"query parameter '{name}' was given {len(values)} times", parameter=name)
