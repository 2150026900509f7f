"""The catalog lists' JSON filter and sort, the group fold (counts from incidents) and per-row activity scoping."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_service.errors import ExportServiceError, ForbiddenError, InvalidParameterError
from export_service.logic.catalog_export import (
    ACTIVITIES_DATASET,
    GROUPS_DATASET,
    SOURCES_DATASET,
    build_catalog_request,
    fold_groups,
    group_row,
    matches,
    source_row,
)
from export_service.logic.catalog_filters import sort_rows
from export_service.logic.datasets import EXPORTS
from export_service.logic.export_engine import build_request, read_scope, require_read
from export_service.models.api_keys import Permission, Principal
from export_service.models.catalog import CatalogListQuery

NOW = datetime(2026, 6, 1, tzinfo=UTC)


def _request(dataset: str, filter: str | None = None, sort: str | None = None):  # noqa: A002
    return build_catalog_request(dataset, "acme", CatalogListQuery(filter=filter, sort=sort), NOW)


def test_the_seeds_filter_shape_is_read_with_its_range():
    request = _request(GROUPS_DATASET, '{"namespace":["production"],"range":{"start":"2026-03-01T00:00:00Z"}}')
    assert request.filters == {"namespace": ("production",)}
    assert request.start == datetime(2026, 3, 1, tzinfo=UTC) and request.end == NOW and request.bounded
    activities = _request(ACTIVITIES_DATASET, '{"source":"orders","timeRange":{"end":"2026-04-01"}}')
    assert activities.filters == {"source": ("orders",)} and activities.start is None and activities.bounded


@pytest.mark.parametrize(
    ("dataset", "raw", "named"),
    [
        (SOURCES_DATASET, "{not json", "not valid JSON"),
        (SOURCES_DATASET, "[1]", "must be a JSON object"),
        (SOURCES_DATASET, '{"colour":"red"}', "'colour' is unknown"),
        (SOURCES_DATASET, '{"namespace":[]}', "non-empty list"),
        (SOURCES_DATASET, '{"namespace":[1]}', "non-empty strings"),
        (GROUPS_DATASET, '{"status":["OPEN"]}', "unknown value 'OPEN'"),
        (GROUPS_DATASET, '{"range":{"start":"yesterday"}}', "filter.range.start"),
        (GROUPS_DATASET, '{"range":{"start":"2026-04-01","end":"2026-03-01"}}', "is after"),
        (ACTIVITIES_DATASET, '{"range":{},"timeRange":{}}', "both give the time range"),
        (ACTIVITIES_DATASET, '{"timeRange":"2026"}', "'start' and/or 'end'"),
    ],
)
def test_a_bad_filter_is_a_400_naming_filter_and_the_field(dataset: str, raw: str, named: str):
    with pytest.raises(InvalidParameterError) as refused:
        _request(dataset, raw)
    assert refused.value.parameter == "filter" and named in refused.value.message


def test_sort_by_a_field_or_a_column_header_then_by_creation_time_and_id():
    assert _request(SOURCES_DATASET, sort='{"field":"validatorCount","direction":"desc"}').sort == (
        ("Validator count", True),
        ("Created at", False),
        ("ID", False),
    )
    assert _request(SOURCES_DATASET, sort='[{"field":"Namespace"},{"field":"name","direction":"DESC"}]').sort[:2] == (
        ("Namespace", False),
        ("Name", True),
    )
    assert _request(ACTIVITIES_DATASET, sort='{"field":"timestamp","direction":"desc"}').descending
    for bad in ('{"field":"colour"}', '{"field":"name","direction":"up"}', "[]", '{"direction":"asc"}'):
        with pytest.raises(InvalidParameterError) as refused:
            _request(SOURCES_DATASET, sort=bad)
        assert refused.value.parameter == "sort"
    with pytest.raises(InvalidParameterError):
        _request(ACTIVITIES_DATASET, sort='{"field":"actor"}')  # activities are in time order only


def test_sort_rows_orders_numbers_as_numbers_and_keeps_ties_stable():
    rows = [{"n": "10", "k": "b"}, {"n": "9", "k": "a"}, {"n": "10", "k": "a"}]
    assert sort_rows(list(rows), [("n", False), ("k", False)]) == [rows[1], rows[2], rows[0]]
    assert sort_rows(list(rows), [("n", True)]) == [rows[0], rows[2], rows[1]]


def test_groups_are_folded_with_their_incidents_and_counted_from_them():
    records = [
        {"id": "g1", "validator_id": "v1", "status": "TRIAGE", "created_at": "2026-03-02T00:00:00.000Z"},
        {"id": "i1", "group_id": "g1", "severity": "HIGH", "start_time": "2026-03-01T00:00:00.000Z", "end_time": "e1"},
        {"id": "i2", "group_id": "g1", "severity": "LOW", "start_time": "2026-03-03T00:00:00.000Z", "end_time": "e2"},
        {"id": "g2", "validator_id": "v1", "status": "RESOLVED", "created_at": "2026-03-04T00:00:00.000Z"},
        {"id": "i9", "group_id": "gone", "severity": "LOW", "start_time": "x", "end_time": "y"},
    ]
    folded = list(fold_groups(iter(records)))
    assert [(group["id"], [i["id"] for i in incidents]) for group, incidents in folded] == [
        ("g1", ["i1", "i2"]),
        ("g2", []),
    ]
    validators = {"v1": {"id": "v1", "name": "volume", "type": "VOLUME", "namespace": "production", "source_id": "s1"}}
    row = group_row(*folded[0], validators, {"s1": {"id": "s1", "name": "orders"}})
    assert row["Incident Count"] == "2" and row["High Severity Count"] == "1" and row["Low Severity Count"] == "1"
    assert row["First Seen"] == "2026-03-01T00:00:00.000Z" and row["Last Seen"] == "2026-03-03T00:00:00.000Z"
    assert row["Last End Time"] == "e2" and row["Source"] == "orders" and row["Namespace"] == "production"
    inside = _request(GROUPS_DATASET, '{"range":{"start":"2026-03-02T00:00:00Z","end":"2026-03-05T00:00:00Z"}}')
    outside = _request(GROUPS_DATASET, '{"range":{"start":"2026-03-04T00:00:00Z"}}')
    assert matches(inside, row) and not matches(outside, row)


def test_source_filters_match_tags_and_names_exactly():
    row = source_row({"id": "s1", "name": "Orders", "namespace": "staging", "tags": ["pii", "ops"]}, 2)
    assert row["Tags"] == "pii,ops" and row["Validator count"] == "2"
    assert matches(_request(SOURCES_DATASET, '{"tags":["ops","x"]}'), row)
    assert not matches(_request(SOURCES_DATASET, '{"name":"orders"}'), row)


def _key(*held: Permission) -> Principal:
    return Principal(tenant_id="acme", key_id="ak_test_key", permissions=frozenset(held))


def test_activities_are_read_with_the_permissions_of_their_resource_types():
    spec = EXPORTS[ACTIVITIES_DATASET]
    key = _key(Permission.VALIDATORS_READ, Permission.AUDIT_READ)
    assert require_read(spec, key) == frozenset({Permission.VALIDATORS_READ})
    request = build_request(spec, "acme", key.permissions, CatalogListQuery(), NOW)
    assert request.resource_types == ("VALIDATOR",)
    both = build_request(
        spec, "acme", frozenset({Permission.SOURCES_READ, Permission.INCIDENTS_READ}), CatalogListQuery(), NOW
    )
    assert set(both.resource_types) == {"SOURCE", "CREDENTIAL", "INCIDENT_GROUP"}
    with pytest.raises(ForbiddenError):
        require_read(spec, _key(Permission.AUDIT_READ))
    assert read_scope(EXPORTS[SOURCES_DATASET], frozenset({Permission.SOURCES_READ})) == {Permission.SOURCES_READ}
    with pytest.raises(ExportServiceError):
        require_read(EXPORTS[SOURCES_DATASET], _key(Permission.VALIDATORS_READ))
