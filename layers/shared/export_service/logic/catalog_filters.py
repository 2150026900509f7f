"""The catalog lists' JSON ``filter`` and ``sort``: the fields each list accepts, validated into plain values.

Each list names its filter fields (a value or a list of values, matched exactly; a ``range`` of ``start``/``end``)
and its sort fields: any column, named as its camelCase field (``createdAt``) or as the column header itself
(``Created at``), ascending or descending, up to three keys.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from export_service.errors import InvalidParameterError
from export_service.timefmt import parse_instant

MAX_JSON_CHARS = 8192
MAX_VALUES = 100
MAX_VALUE_CHARS = 200
MAX_SORT_KEYS = 3


@dataclass(frozen=True)
class ListFields:
    """What one list accepts: filter field -> what it matches (documented), its time-range field names, and its
    sortable columns (camelCase field -> column header)."""

    filters: Mapping[str, str]
    ranges: tuple[str, ...]
    sortable: Mapping[str, str]
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ParsedFilter:
    values: dict[str, tuple[str, ...]]
    start: datetime | None
    end: datetime | None


def camel(column: str) -> str:
    """``Created at`` -> ``createdAt``; ``Validator Type`` -> ``validatorType``; ``ID`` -> ``id``."""
    words = column.split()
    return words[0].lower() + "".join(word.capitalize() for word in words[1:])


def sortable(columns: Sequence[str]) -> dict[str, str]:
    return {camel(column): column for column in columns}


def _json(name: str, raw: str) -> Any:
    problem = "too long" if len(raw) > MAX_JSON_CHARS else ""
    if not problem:
        try:
            return json.loads(raw)
        except json.JSONDecodeError as exc:
            problem = f"{exc.msg} at position {exc.pos}"
        except (ValueError, RecursionError):
            problem = "nested too deeply or a number too large"
    raise InvalidParameterError(
        f"query parameter '{name}' is not valid JSON ({problem}); URL-encode a JSON object such as "
        '{"namespace":["production"],"range":{"start":"2026-03-01T00:00:00Z"}}',
        parameter=name,
    )


def _values(name: str, value: Any, choices: tuple[str, ...] | None) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    where = f"filter field '{name}'"
    if not isinstance(value, list) or not value:
        raise InvalidParameterError(f"{where} must be a string or a non-empty list of strings", parameter="filter")
    if not all(isinstance(entry, str) and 0 < len(entry) <= MAX_VALUE_CHARS for entry in value):
        raise InvalidParameterError(
            f"{where} must hold non-empty strings of at most {MAX_VALUE_CHARS} characters", parameter="filter"
        )
    distinct = tuple(dict.fromkeys(value))
    if len(distinct) > MAX_VALUES:
        raise InvalidParameterError(f"{where} has {len(distinct)} values; at most {MAX_VALUES}", parameter="filter")
    if choices:
        unknown = [entry for entry in distinct if entry not in choices]
        if unknown:
            raise InvalidParameterError(
                f"{where} has unknown value {unknown[0]!r}; accepted: {', '.join(choices)}", parameter="filter"
            )
    return distinct


def _instant(name: str, key: str, value: Any) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidParameterError(f"filter.{name}.{key} must be an ISO 8601 string", parameter="filter")
    try:
        return parse_instant(value, "filter")
    except InvalidParameterError:
        raise InvalidParameterError(
            f"filter.{name}.{key} must be an ISO 8601 date-time such as 2026-03-01T00:00:00Z, got {value!r}",
            parameter="filter",
        ) from None


def parse_filter(raw: str | None, fields: ListFields) -> ParsedFilter:
    """The ``filter`` parameter of one list (400 naming ``filter`` and the field for anything it does not accept)."""
    if raw is None:
        return ParsedFilter({}, None, None)
    document = _json("filter", raw)
    if not isinstance(document, dict):
        raise InvalidParameterError("query parameter 'filter' must be a JSON object", parameter="filter")
    accepted = (*fields.filters, *fields.ranges)
    values: dict[str, tuple[str, ...]] = {}
    start = end = None
    given_range = None
    for name, value in document.items():
        if name in fields.ranges:
            if given_range is not None:
                raise InvalidParameterError(
                    f"filter fields '{given_range}' and '{name}' both give the time range; use one", parameter="filter"
                )
            given_range = name
            if not isinstance(value, dict) or not set(value) <= {"start", "end"}:
                raise InvalidParameterError(
                    f"filter field '{name}' must be an object with 'start' and/or 'end'", parameter="filter"
                )
            start, end = _instant(name, "start", value.get("start")), _instant(name, "end", value.get("end"))
        elif name in fields.filters:
            if value is not None:
                values[name] = _values(name, value, fields.choices.get(name))
        else:
            raise InvalidParameterError(
                f"filter field '{name}' is unknown; accepted: {', '.join(accepted)}", parameter="filter"
            )
    if start is not None and end is not None and start > end:
        raise InvalidParameterError(f"filter.{given_range}.start is after filter.{given_range}.end", parameter="filter")
    return ParsedFilter(values, start, end)


_SORT_EXAMPLE = '{"field":"createdAt","direction":"desc"}'


def _sort_key(name: Any, fields: ListFields) -> str:
    if isinstance(name, str):
        if name in fields.sortable:
            return fields.sortable[name]
        by_header = {column.lower(): column for column in fields.sortable.values()}
        if name.lower() in by_header:
            return by_header[name.lower()]
    raise InvalidParameterError(
        f"sort field {name!r} is unknown; sortable: {', '.join(fields.sortable)} (or the column headers)",
        parameter="sort",
    )


def parse_sort(raw: str | None, fields: ListFields) -> tuple[tuple[str, bool], ...]:
    """``{"field": f, "direction": "asc"|"desc"}`` or a list of up to three: (column, descending) pairs."""
    if raw is None:
        return ()
    document = _json("sort", raw)
    keys = document if isinstance(document, list) else [document]
    if not keys or len(keys) > MAX_SORT_KEYS:
        raise InvalidParameterError(
            f"query parameter 'sort' must be a JSON object such as {_SORT_EXAMPLE}, or a list of 1 to "
            f"{MAX_SORT_KEYS} of them",
            parameter="sort",
        )
    parsed = []
    for key in keys:
        if not isinstance(key, dict) or "field" not in key or not set(key) <= {"field", "direction"}:
            raise InvalidParameterError(
                f"query parameter 'sort' must be a JSON object such as {_SORT_EXAMPLE}", parameter="sort"
            )
        direction = key.get("direction", "asc")
        if not isinstance(direction, str) or direction.lower() not in ("asc", "desc"):
            raise InvalidParameterError("sort direction must be 'asc' or 'desc'", parameter="sort")
        parsed.append((_sort_key(key["field"], fields), direction.lower() == "desc"))
    return tuple(parsed)


_NUMBER = re.compile(r"^[0-9]+$")


def sort_rows(rows: list[dict[str, Any]], keys: Sequence[tuple[str, bool]]) -> list[dict[str, Any]]:
    """Rows ordered by ``keys`` (numbers as numbers, empty values first when ascending), stably: the rows' own
    order breaks ties. Sorted from the last key to the first, each a stable sort."""
    for column, descending in reversed(keys):
        numeric = all(_NUMBER.match(str(row.get(column, "0"))) for row in rows)
        if numeric:
            rows.sort(key=lambda row, c=column: int(row.get(c) or 0), reverse=descending)  # type: ignore[misc]
        else:
            rows.sort(key=lambda row, c=column: str(row.get(c) or ""), reverse=descending)  # type: ignore[misc]
    return rows
