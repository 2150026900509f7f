"""AuditStore.plan is pure: which Queries an export runs (no client needed)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from export_service.dal.audit_store import AuditStore, QueryPartition

pytestmark = pytest.mark.unit

STORE = AuditStore(client=None, table_name="AuditTable")


def test_no_filter_is_one_base_table_query_per_utc_day():
    parts = STORE.plan("acme", datetime(2026, 3, 1, 22, tzinfo=UTC), datetime(2026, 3, 3, 1, 30, tzinfo=UTC), {})
    assert parts == [
        QueryPartition(
            index=None,
            pk_attr="pk",
            pk=f"T#acme#D#2026-03-0{day}",
            sk_lo="2026-03-01T22:00:00.000Z",
            sk_hi="2026-03-03T01:30:00.000Z$",
            equals={},
        )
        for day in (1, 2, 3)
    ]


def test_the_first_filter_picks_the_index_and_the_others_filter():
    parts = STORE.plan(
        "acme",
        datetime(2026, 1, 31, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
        {"action": "user.login", "user": "ana@acme.example.com", "namespace": ""},
    )
    assert [(p.index, p.pk_attr, p.pk) for p in parts] == [
        ("ByUser", "gsi_user_pk", f"T#acme#U#ana@acme.example.com#M#2026-0{month}") for month in (1, 2, 3)
    ]
    assert all(p.equals == {"action": "user.login"} for p in parts)


def test_month_buckets_cross_the_year():
    parts = STORE.plan("acme", datetime(2025, 12, 31, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC), {"namespace": "x"})
    assert [p.pk for p in parts] == ["T#acme#N#x#M#2025-12", "T#acme#N#x#M#2026-01"]


def test_bounds_in_other_offsets_are_planned_in_utc():
    start = datetime.fromisoformat("2026-03-02T01:00:00+02:00")  # 2026-03-01T23:00Z
    parts = STORE.plan("acme", start, datetime.fromisoformat("2026-03-02T00:30:00+01:00"), {})
    assert [p.pk for p in parts] == ["T#acme#D#2026-03-01"]
    assert (parts[0].sk_lo, parts[0].sk_hi) == ("2026-03-01T23:00:00.000Z", "2026-03-01T23:30:00.000Z$")


def test_the_last_representable_day_can_be_planned():
    # to=9999-12-31 is valid ISO 8601 (a common "open end"); planning its day must not overflow.
    parts = STORE.plan("acme", datetime(9999, 12, 31, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC), {})
    assert [p.pk for p in parts] == ["T#acme#D#9999-12-31"]
