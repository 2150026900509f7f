"""build_dataset_request: the time bounds, under each of their names, in the query or in filter.range."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_service.errors import InvalidRangeError
from tests.unit.dataset_support import NOW, _build, _invalid

pytestmark = pytest.mark.unit


START_NAMES = ["from", "from_time", "range_start", "filter.range.start"]
END_NAMES = ["to", "to_time", "range_end", "filter.range.end"]


def _with_bound(name: str, value: str) -> dict[str, Any]:
    """``_build`` arguments giving one time bound by ``name`` (a query parameter or a filter.range key)."""
    if name.startswith("filter.range."):
        return {"filter": {"range": {name.rsplit(".", 1)[1]: value}}}
    return {"bounds": {name: value}}


def _merge(*parts: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"bounds": {}}
    for part in parts:
        out["bounds"].update(part.get("bounds", {}))
        if "filter" in part:
            out.setdefault("filter", {"range": {}})["range"].update(part["filter"]["range"])
    return out


@pytest.mark.parametrize("name", START_NAMES)
def test_every_name_of_the_start(name):
    request = _build(**_with_bound(name, "2026-03-01T00:00:00Z"))
    assert (request.start, request.end, request.bounded) == (datetime(2026, 3, 1, tzinfo=UTC), NOW, True)


@pytest.mark.parametrize("name", END_NAMES)
def test_every_name_of_the_end(name):
    request = _build(**_with_bound(name, "2026-03-02T12:30:00+02:00"))
    assert (request.start, request.end, request.bounded) == (None, datetime(2026, 3, 2, 10, 30, tzinfo=UTC), True)


@pytest.mark.parametrize(("start_name", "end_name"), list(itertools.product(START_NAMES, END_NAMES)))
def test_any_start_name_goes_with_any_end_name(start_name, end_name):
    request = _build(
        **_merge(_with_bound(start_name, "2026-03-01T00:00:00Z"), _with_bound(end_name, "2026-03-02T00:00:00Z"))
    )
    assert (request.start, request.end) == (datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))


@pytest.mark.parametrize(
    ("first", "second"),
    [*itertools.combinations(START_NAMES, 2), *itertools.combinations(END_NAMES, 2)],
)
def test_two_names_of_one_bound_are_a_400_naming_the_second(first, second):
    # even when they agree
    message = _invalid(second, **_merge(_with_bound(first, "2026-03-01"), _with_bound(second, "2026-03-01")))
    assert f"'{first}' and '{second}'" in message


def test_offsets_become_utc_and_a_start_rounds_up_to_the_millisecond():
    request = _build(bounds={"from": "2026-03-01T01:00:00.0001+01:00", "to": "2026-03-01T12:00:00.9999-05:00"})
    assert request.start == datetime(2026, 3, 1, 0, 0, 0, 1000, tzinfo=UTC)
    assert request.end == datetime(2026, 3, 1, 17, 0, 0, 999900, tzinfo=UTC)
    assert request.start.utcoffset() == timedelta(0)
    # no offset means UTC; a date alone is its midnight
    assert _build(bounds={"from": "2026-03-01T10:00:00"}).start == datetime(2026, 3, 1, 10, tzinfo=UTC)
    assert _build(bounds={"to": "2026-03-01"}).end == datetime(2026, 3, 1, tzinfo=UTC)


def test_equal_bounds_are_one_instant():
    request = _build(bounds={"from": "2026-03-01T10:00:00Z", "to": "2026-03-01T10:00:00Z"})
    assert request.start == request.end == datetime(2026, 3, 1, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kwargs", "parameter", "message"),
    [
        (
            {"bounds": {"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"}},
            "from",
            "'from' (2026-03-02T00:00:00.000Z) is after 'to' (2026-03-01T00:00:00.000Z)",
        ),
        (
            {"bounds": {"from_time": "2026-03-02", "range_end": "2026-03-01"}},
            "from_time",
            "'from_time' (2026-03-02T00:00:00.000Z) is after 'range_end' (2026-03-01T00:00:00.000Z)",
        ),
        (
            {"filter": {"range": {"start": "2026-03-02T00:00:00Z", "end": "2026-03-01T23:59:59.999Z"}}},
            "filter.range.start",
            "'filter.range.start' (2026-03-02T00:00:00.000Z) is after 'filter.range.end' (2026-03-01T23:59:59.999Z)",
        ),
        # without an end, the end is now
        (
            {"bounds": {"range_start": "2026-03-19T16:00:00.001Z"}},
            "range_start",
            "'range_start' (2026-03-19T16:00:00.001Z) is after 'to' (2026-03-19T16:00:00.000Z)",
        ),
        # a start a fraction of a millisecond after the end rounds up past it
        (
            {"bounds": {"from": "2026-03-01T00:00:00.0005Z", "to": "2026-03-01T00:00:00.0009Z"}},
            "from",
            "'from' (2026-03-01T00:00:00.001Z) is after 'to' (2026-03-01T00:00:00.000Z)",
        ),
    ],
)
def test_reversed_range_is_an_invalid_range(kwargs, parameter, message):
    with pytest.raises(InvalidRangeError) as caught:
        _build(**kwargs)
    assert (caught.value.parameter, caught.value.message) == (parameter, message)
    assert caught.value.to_body()["error"] == "INVALID_RANGE"


@pytest.mark.parametrize("name", START_NAMES + END_NAMES)
@pytest.mark.parametrize("value", ["yesterday", "2026-03-32", "03/01/2026", "", "-2026-03-01", "1772323200"])
def test_malformed_time_is_a_400_naming_where_it_was(name, value):
    message = _invalid(name, **_with_bound(name, value))
    assert "ISO 8601" in message
