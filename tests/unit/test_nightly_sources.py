"""Nightly export logic: the sources (the nightly data export's five, and the audit events) and the source step's
payload."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import AUDIT_SOURCE, NIGHTLY_SOURCES, SOURCE_NAMES, SourceInput

pytestmark = pytest.mark.unit


NIGHTLY_DATA_EXPORT_SOURCES = {
    "text/csv+incident-20220525": Dataset.INCIDENTS,
    "text/csv+incident_role_assignment-20220525": Dataset.INCIDENT_ROLE_ASSIGNMENTS,
    "text/csv+incident_event-20220525": Dataset.INCIDENT_EVENTS,
    "text/csv+incident_impact-20220525": Dataset.INCIDENT_IMPACTS,
    "text/csv+retrospective-20220525": Dataset.RETROSPECTIVES,
}


def test_the_sources_are_nightly_data_export_five_with_their_columns_plus_audit_events():
    assert set(NIGHTLY_SOURCES) == {*NIGHTLY_DATA_EXPORT_SOURCES, AUDIT_SOURCE}
    assert tuple(NIGHTLY_SOURCES) == SOURCE_NAMES
    for name, dataset in NIGHTLY_DATA_EXPORT_SOURCES.items():
        source = NIGHTLY_SOURCES[name]
        assert DATASETS[dataset].source == name
        assert source.dataset is dataset
        assert source.columns == DATASETS[dataset].columns
        assert source.order_column == "updated_at" and "updated_at" in source.columns
    audit = NIGHTLY_SOURCES[AUDIT_SOURCE]
    assert audit.dataset is None
    assert audit.columns == AUDIT_COLUMNS
    assert audit.order_column == "timestamp"


def test_source_slugs_name_the_files():
    assert NIGHTLY_SOURCES["text/csv+incident_role_assignment-20220525"].slug == "incident_role_assignment-20220525"
    assert NIGHTLY_SOURCES[AUDIT_SOURCE].slug == "audit_event-20261122"


def _run(**changes: Any) -> dict[str, Any]:
    return {
        "mode": "nightly",
        "tenant": "acme",
        "night": "2026-05-03",
        "enabled_at": "2026-05-01T12:00:00.000Z",
        "window_starts_at": "2026-05-02T02:15:00.000Z",
        "window_ends_at": "2026-05-03T02:30:00.000Z",
        **changes,
    }


@pytest.mark.parametrize("source", SOURCE_NAMES)
def test_a_source_step_takes_every_known_source(source):
    assert SourceInput.model_validate(_run(source=source)).source == source


@pytest.mark.parametrize("source", ["text/csv+incident-20990101", "incidents", "", "text/csv+audit"])
def test_a_source_step_rejects_an_unknown_source(source):
    with pytest.raises(ValidationError, match="unknown source"):
        SourceInput.model_validate(_run(source=source))
