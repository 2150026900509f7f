"""Bounds on caller JSON, counted without parsing (json_bounds)."""

from __future__ import annotations

import json

import pytest

from export_service.errors import InvalidParameterError
from export_service.json_bounds import (
    MAX_BODY_BYTES,
    MAX_JSON_DEPTH,
    MAX_PARAMETER_CHARS,
    PayloadTooLargeError,
    check_body,
    check_parameter,
    json_depth,
)

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("1", 0),
        ('"[[[{{{"', 0),  # brackets inside strings do not count
        ('"a \\" [[["', 0),  # nor after an escaped quote
        ("[]", 1),
        ('{"a": [1, {"b": "]]]"}]}', 3),
        ("[[], [[]], []]", 3),
        (json.dumps({"dataset": "audit", "filter": {"range": {"start": "2026-03-01"}}}), 3),
    ],
)
def test_depth_is_counted_without_parsing(text, depth):
    assert json_depth(text) == depth


def test_counting_stops_past_the_limit():
    assert json_depth("[" * 100_000, stop_above=5) == 6


def test_a_body_nested_2000_deep_is_a_400_naming_body():
    body = '{"dataset": "audit", "filter": ' + "[" * 2000 + "]" * 2000 + "}"
    assert len(body) < 4200
    with pytest.raises(InvalidParameterError) as caught:
        check_body(body, len(body))
    assert caught.value.parameter == "body" and str(MAX_JSON_DEPTH) in caught.value.message


def test_the_limit_itself_is_accepted():
    check_body("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, 2 * MAX_JSON_DEPTH)
    check_parameter("filter", "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH)


def test_a_body_over_the_size_limit_is_a_413_naming_body():
    with pytest.raises(PayloadTooLargeError) as caught:
        check_body("{}", MAX_BODY_BYTES + 1)
    assert (caught.value.status, caught.value.code, caught.value.parameter) == (413, "PAYLOAD_TOO_LARGE", "body")


@pytest.mark.parametrize("text", ["[" * 2000 + "]" * 2000, "x" * (MAX_PARAMETER_CHARS + 1)])
def test_a_json_parameter_too_deep_or_too_long_is_a_400_naming_it(text):
    with pytest.raises(InvalidParameterError) as caught:
        check_parameter("sort", text)
    assert caught.value.parameter == "sort"
