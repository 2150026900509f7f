"""build_dataset_request: incident_id, in the query or in filter, on every dataset."""

from __future__ import annotations

import pytest

from export_service.dal.incident_store import IncidentQuery
from tests.unit.dataset_support import DATASETS, _build, _invalid

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("dataset", DATASETS)
def test_incident_id_applies_to_every_dataset(dataset):
    assert _build(dataset, incident_id="inc-1").query == IncidentQuery(incident_id="inc-1")
    assert _build(dataset, filter={"incident_id": "inc-2"}).query == IncidentQuery(incident_id="inc-2")


def test_incident_id_with_incident_filters():
    request = _build(incident_id="inc-1", lists={"severities": ["HIGH"]})
    assert request.query == IncidentQuery(incident_id="inc-1", severities=["HIGH"])


def test_incident_id_in_the_query_and_in_filter_is_a_400():
    message = _invalid("incident_id", incident_id="inc-1", filter={"incident_id": "inc-1"})
    assert message == "'incident_id' is given both as a parameter and in 'filter'"


@pytest.mark.parametrize("value", ["", "  "])
def test_empty_incident_id_is_a_400(value):
    assert "must not be empty" in _invalid("incident_id", incident_id=value)


@pytest.mark.parametrize("value", ["", 7, ["inc-1"], None, {"id": "inc-1"}])
def test_incident_id_in_the_filter_must_be_a_non_empty_string(value):
    assert "incident_id" in _invalid("filter", filter={"incident_id": value})
