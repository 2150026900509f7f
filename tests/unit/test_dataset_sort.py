"""parse_sort and build_dataset_request: sorting by created_at, and every other sort refused."""

from __future__ import annotations

import json

import pytest

from export_service.logic.dataset_export import parse_sort
from tests.unit.dataset_support import _build, _invalid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "descending"),
    [
        (None, False),
        ({"field": "created_at"}, False),
        ({"field": "created_at", "direction": "asc"}, False),
        ({"field": "created_at", "direction": "desc"}, True),
        ({"field": "created_at", "direction": "DESC"}, True),
        ({"direction": "desc", "field": "created_at"}, True),
        ([{"field": "created_at", "direction": "desc"}], True),
        ([{"field": "created_at", "direction": "asc"}], False),
    ],
)
def test_sort_by_created_at(raw, descending):
    text = raw if raw is None else json.dumps(raw)
    assert parse_sort(text) is descending
    assert _build(sort=text).descending is descending


@pytest.mark.parametrize("field", ["name", "severity", "updated_at", "id", "number", "CREATED_AT", "createdAt"])
def test_other_sort_fields_are_refused_naming_the_sortable_ones(field):
    message = _invalid("sort", sort={"field": field, "direction": "asc"})
    assert f"sort field '{field}'" in message
    assert message.endswith("sortable: created_at")


@pytest.mark.parametrize("direction", ["up", "descending", "", None, 1, -1])
def test_bad_sort_direction(direction):
    assert _invalid("sort", sort={"field": "created_at", "direction": direction}) == (
        "sort direction must be 'asc' or 'desc'"
    )


@pytest.mark.parametrize("key", ["order", "nulls", "fields"])
def test_extra_sort_keys(key):
    assert _invalid("sort", sort={"field": "created_at", "direction": "asc", key: "x"}) == (
        f"sort has unknown key '{key}'"
    )


@pytest.mark.parametrize(
    "raw",
    [
        [],
        [{"field": "created_at"}, {"field": "id"}],
        {"direction": "desc"},
        {"field": 1},
        {"field": None},
        '"created_at"',
        ["created_at"],
        7,
    ],
)
def test_sort_must_be_one_object_with_a_field(raw):
    message = _invalid("sort", sort=raw)
    assert message.startswith("query parameter 'sort' must be a JSON object such as")


@pytest.mark.parametrize("raw", ["created_at", "created_at:desc", "{field:created_at}", "", "-created_at"])
def test_sort_that_is_not_json(raw):
    assert _invalid("sort", sort=raw).startswith("query parameter 'sort' is not valid JSON")
