"""Nightly export logic: each night's window, the night of a schedule time, execution names and request ids."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from export_service.logic.nightly import execution_name, night_of, plan_window, request_id
from export_service.models.nightly import AUDIT_SOURCE, SOURCE_NAMES
from tests.unit.nightly_support import ENABLED, NIGHT1, NIGHT2, OVERLAP, _config

pytestmark = pytest.mark.unit


LONGEST_TENANT = "t" + "0123456789-" * 5 + "abcdefg"  # 63 characters: the longest tenant id there can be


# ---- windows and nights ---------------------------------------------------------------------------


def test_the_first_night_covers_from_when_exports_were_enabled():
    assert plan_window(_config(), NIGHT1, OVERLAP) == (ENABLED, NIGHT1)


def test_a_later_night_starts_at_the_watermark_less_the_overlap():
    config = _config(watermark=NIGHT1, last_night="2026-05-02")
    assert plan_window(config, NIGHT2, OVERLAP) == (datetime(2026, 5, 2, 2, 15, tzinfo=UTC), NIGHT2)


def test_the_overlap_never_reaches_back_before_exports_were_enabled():
    enabled = NIGHT1 - timedelta(minutes=5)
    config = _config(enabled_at=enabled, watermark=NIGHT1)
    assert plan_window(config, NIGHT2, OVERLAP) == (enabled, NIGHT2)


@pytest.mark.parametrize("enabled", [NIGHT1, NIGHT1 + timedelta(milliseconds=1), NIGHT1 + timedelta(hours=3)])
def test_no_window_when_exports_were_enabled_at_or_after_the_schedule_time(enabled):
    assert plan_window(_config(enabled_at=enabled), NIGHT1, OVERLAP) is None


@pytest.mark.parametrize(
    ("scheduled", "night"),
    [
        (datetime(2026, 6, 2, 1, 30, tzinfo=timezone(timedelta(hours=2))), "2026-06-01"),
        (datetime(2026, 6, 1, 22, 0, tzinfo=timezone(timedelta(hours=-5))), "2026-06-02"),
        (datetime(2026, 6, 2, 2, 30, tzinfo=UTC), "2026-06-02"),
        (datetime(2026, 6, 2, 0, 0, tzinfo=UTC), "2026-06-02"),
        (datetime(2026, 6, 1, 23, 59, 59, 999999, tzinfo=UTC), "2026-06-01"),
    ],
)
def test_the_night_is_the_utc_date_of_the_schedule_time(scheduled, night):
    assert night_of(scheduled) == night


# ---- execution names and request ids ----------------------------------------------------------------


def test_execution_names_are_deterministic_per_tenant_and_night():
    assert execution_name("acme", "2026-06-02") == execution_name("acme", "2026-06-02") == "nightly-20260602-acme"
    assert execution_name("acme", "2026-06-03") != execution_name("acme", "2026-06-02")
    assert execution_name("acme-eu", "2026-06-02") != execution_name("acme", "2026-06-02")


def test_execution_names_of_the_longest_tenant_fit_step_functions():
    assert len(LONGEST_TENANT) == 63
    name = execution_name(LONGEST_TENANT, "2026-12-31")
    assert len(name) <= 80
    assert re.fullmatch(r"[A-Za-z0-9_-]+", name), name
    assert LONGEST_TENANT in name


def test_request_ids_are_deterministic_uuids_that_differ_by_tenant_night_and_source():
    incident, audit = "text/csv+incident-20220525", AUDIT_SOURCE
    first = request_id("acme", "2026-06-02", incident)
    assert first == request_id("acme", "2026-06-02", incident)
    assert str(uuid.UUID(first)) == first
    others = {
        request_id("globex", "2026-06-02", incident),
        request_id("acme", "2026-06-03", incident),
        request_id("acme", "2026-06-02", audit),
    }
    assert first not in others and len(others) == 3
    assert len({request_id("acme", "2026-06-02", name) for name in SOURCE_NAMES}) == len(SOURCE_NAMES)
