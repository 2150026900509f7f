"""build_dataset_request: the filter document (JSON, its fields, its range), and JSON Python cannot read."""

from __future__ import annotations

import pytest

from export_service.errors import InvalidParameterError
from tests.unit.dataset_support import _build, _invalid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("raw", ["{", "{severities:[HIGH]}", "severities=HIGH", "", "{'a': 1}", '{"a":1}}'])
def test_malformed_filter_json_is_a_400(raw):
    message = _invalid("filter", filter=raw)
    assert message.startswith("query parameter 'filter' is not valid JSON")


# BUG: _json_parameter (logic/dataset_export.py) catches only JSONDecodeError; json.loads raises RecursionError for
# deep nesting and ValueError for an integer of more than 4300 digits, both a few kilobytes of query string, and
# those reach the resolver as a 500 INTERNAL_ERROR instead of a 400 naming the parameter.
_UNREADABLE_JSON = {
    "nested-arrays": "[" * 1000,
    "nested-objects": '{"a":' * 1000,
    "closed-nesting": "[" * 1000 + "]" * 1000,
    "5000-digit-number": "1" * 5000,
    "5000-digit-project-id": '{"project_ids":[' + "1" * 5000 + "]}",
}


@pytest.mark.parametrize("name", ["filter", "sort"])
@pytest.mark.parametrize("case", list(_UNREADABLE_JSON))
def test_json_that_python_cannot_read_is_a_400_not_a_crash(name, case):
    with pytest.raises(InvalidParameterError) as caught:
        _build(**{name: _UNREADABLE_JSON[case]})
    assert caught.value.parameter in {name, "project_ids"}


@pytest.mark.parametrize("raw", ["[]", '["HIGH"]', '"HIGH"', "1", "true"])
def test_filter_must_be_an_object(raw):
    assert _invalid("filter", filter=raw) == "query parameter 'filter' must be a JSON object"


def test_an_empty_filter_object_filters_nothing():
    assert _build(filter={}) == _build()


@pytest.mark.parametrize("field", ["namespace", "severity", "timeRange", "from", "incidentId", "sort"])
def test_unknown_filter_field_is_a_400_listing_the_fields(field):
    message = _invalid("filter", filter={field: ["x"]})
    assert message == (
        f"filter field '{field}' is unknown; accepted: "
        "severities, priorities, statuses, tags, project_ids, incident_id, range"
    )


@pytest.mark.parametrize(
    "time_range",
    [
        {"begin": "2026-03-01"},
        {"start": "2026-03-01", "stop": "2026-03-02"},
        ["2026-03-01", "2026-03-02"],
        "2026-03-01/2026-03-02",
        5,
    ],
)
def test_range_must_be_an_object_of_start_and_end(time_range):
    assert "'range'" in _invalid("filter", filter={"range": time_range})


@pytest.mark.parametrize("key", ["start", "end"])
@pytest.mark.parametrize("value", [20260301, 1.5, True, ["2026-03-01"], {"at": "2026-03-01"}])
def test_range_values_must_be_strings(key, value):
    assert _invalid("filter", filter={"range": {key: value}}) == f"filter.range.{key} must be an ISO 8601 string"


def test_an_empty_or_null_range_is_no_bound():
    assert _build(filter={"range": {}}) == _build()
    assert _build(filter={"range": None}) == _build()
    assert _build(filter={"range": {"start": None, "end": None}}) == _build()
