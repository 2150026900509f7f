"""The names of exported files: the dataset, a sanitised entity, the bounds or today, the format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_service.logic.export_engine import export_filename
from export_service.logic.formats import ExportFormat

pytestmark = pytest.mark.unit


NOW = datetime(2026, 3, 19, 16, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("entity", "name"),
    [
        (None, "incidents-2026-03-01_2026-04-01.csv"),
        ("", "incidents-2026-03-01_2026-04-01.csv"),
        ("42", "incidents-42-2026-03-01_2026-04-01.csv"),
        ("INC-42", "incidents-INC-42-2026-03-01_2026-04-01.csv"),
        ("inc_01J9.v2", "incidents-inc_01J9.v2-2026-03-01_2026-04-01.csv"),
        ('Checkout "EU" / café', "incidents-Checkout_EU_caf-2026-03-01_2026-04-01.csv"),
        ("../../etc/passwd", "incidents-.._.._etc_passwd-2026-03-01_2026-04-01.csv"),
        ('a";\r\nX-Injected: 1', "incidents-a_X-Injected_1-2026-03-01_2026-04-01.csv"),
        ("x" * 200, f"incidents-{'x' * 80}-2026-03-01_2026-04-01.csv"),
    ],
)
def test_filename_with_a_sanitised_entity(entity, name):
    got = export_filename(
        "incidents",
        ExportFormat.CSV,
        start=datetime(2026, 3, 1, tzinfo=UTC),
        end=datetime(2026, 4, 1, tzinfo=UTC),
        bounded=True,
        now=NOW,
        entity=entity,
    )
    assert got == name
    assert not set(got) & set('"\\/\r\n;: ')


@pytest.mark.parametrize("fmt", list(ExportFormat))
def test_filename_without_bounds_is_named_by_today(fmt):
    assert (
        export_filename("incident-events", fmt, start=None, end=NOW, bounded=False, now=NOW)
        == f"incident-events-2026-03-19.{fmt.value}"
    )
    assert (
        export_filename("incident-events", fmt, start=None, end=NOW, bounded=False, now=NOW, entity="42")
        == f"incident-events-42-2026-03-19.{fmt.value}"
    )
    # bounded by an end only but nothing to start from: today as well
    assert export_filename("retrospectives", fmt, start=None, end=NOW, bounded=True, now=NOW).endswith(
        f"-2026-03-19.{fmt.value}"
    )
