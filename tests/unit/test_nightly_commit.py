"""Nightly export logic: committing a night (skipped, already committed, refused, published) and its created_at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from export_service.logic.nightly import RETENTION, commit_night, request_id
from export_service.models.nightly import AUDIT_SOURCE, SOURCE_NAMES
from export_service.timefmt import format_instant
from tests.unit.nightly_support import ENABLED, NIGHT1, NIGHT2, OVERLAP, FakeRequestStore, _commit_input, _config

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("config", [None, _config(enabled=False)])
def test_a_night_is_not_committed_when_exports_are_off(config):
    store = FakeRequestStore(config)
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5))
    assert result == {"tenant": "acme", "night": "2026-05-02", "state": "skipped", "reason": "disabled"}
    assert store.commits == []


@pytest.mark.parametrize("last_night", ["2026-05-02", "2026-05-03"])
def test_a_night_already_committed_or_passed_is_not_committed_again(last_night):
    store = FakeRequestStore(_config(watermark=NIGHT1, last_night=last_night))
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5))
    # executions are named per night: only an earlier attempt of this step can have committed it
    assert result == {"tenant": "acme", "night": "2026-05-02", "state": "committed", "reason": "by an earlier attempt"}
    assert store.commits == []


def test_a_night_dispatched_before_a_re_enable_is_not_committed():
    store = FakeRequestStore(_config(enabled_at=ENABLED + timedelta(hours=3)))
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5))
    assert result == {
        "tenant": "acme",
        "night": "2026-05-02",
        "state": "skipped",
        "reason": "re-enabled since dispatch",
    }
    assert store.commits == []


@pytest.mark.parametrize("missing", [SOURCE_NAMES[0], AUDIT_SOURCE])
def test_a_night_missing_a_source_file_is_an_error(missing):
    store = FakeRequestStore(_config())
    with pytest.raises(ValueError, match="one file per source"):
        commit_night(store, _commit_input(NIGHT1, ENABLED, leave_out=missing), NIGHT1 + timedelta(minutes=5))
    assert store.commits == []


def test_a_commit_refused_because_an_earlier_attempt_landed_is_reported_as_committed():
    store = FakeRequestStore(_config(), refuse="already committed")
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5))
    assert result == {"tenant": "acme", "night": "2026-05-02", "state": "committed", "reason": "by an earlier attempt"}


def test_a_commit_refused_because_exports_were_turned_off_is_reported_as_skipped():
    store = FakeRequestStore(_config(), refuse="disabled")
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5))
    assert result == {"tenant": "acme", "night": "2026-05-02", "state": "skipped", "reason": "disabled"}


def test_a_commit_publishes_one_completed_entry_per_source_and_moves_the_watermark():
    store = FakeRequestStore(_config())
    now = datetime(2026, 5, 2, 2, 34, 56, 789000, tzinfo=UTC)
    run = _commit_input(NIGHT1, ENABLED)
    result = commit_night(store, run, now)
    assert result == {
        "tenant": "acme",
        "night": "2026-05-02",
        "state": "committed",
        "created_at": "2026-05-02T02:34:56.789Z",
    }
    ((tenant, night, window_end, created, entries, ttl),) = store.commits
    assert (tenant, night, window_end, created) == ("acme", "2026-05-02", NIGHT1, now)
    assert ttl == int((now + timedelta(days=30)).timestamp())
    assert ttl == int(datetime(2026, 6, 1, 2, 34, 56, tzinfo=UTC).timestamp())
    assert [entry["source"] for entry in entries] == list(SOURCE_NAMES)
    files = {result.source: result for result in run.files}
    for entry in entries:
        name = entry["source"]
        assert entry == {
            "id": request_id("acme", "2026-05-02", name),
            "created_at": "2026-05-02T02:34:56.789Z",
            "window_starts_at": "2026-05-01T12:00:00.000Z",
            "window_ends_at": "2026-05-02T02:30:00.000Z",
            "source": name,
            "status": "completed",
            "night": "2026-05-02",
            "key": files[name].key,
            "records": files[name].rows,
            "bytes": files[name].bytes,
            "sha256": files[name].sha256,
            "format": "csv",  # a tenant's default
        }
    assert store.config is not None and store.config.last_night == "2026-05-02"


@pytest.mark.parametrize(
    ("now", "created"),
    [
        (datetime(2026, 5, 3, 1, 0, tzinfo=UTC), "2026-05-03T02:35:00.001Z"),  # the clock is behind
        (datetime(2026, 5, 3, 2, 35, tzinfo=UTC), "2026-05-03T02:35:00.001Z"),  # the same instant
        (datetime(2026, 5, 3, 2, 35, 0, 400, tzinfo=UTC), "2026-05-03T02:35:00.001Z"),  # inside the millisecond
        (datetime(2026, 5, 3, 2, 36, tzinfo=UTC), "2026-05-03T02:36:00.000Z"),  # ahead: now
    ],
)
def test_created_at_is_strictly_after_the_last_commit_even_when_the_clock_is_behind(now, created):
    last = datetime(2026, 5, 3, 2, 35, tzinfo=UTC)
    store = FakeRequestStore(_config(watermark=NIGHT1, last_night="2026-05-02", last_created_at=last))
    result = commit_night(store, _commit_input(NIGHT2, NIGHT1 - OVERLAP), now)
    assert result["state"] == "committed"
    assert result["created_at"] == created > format_instant(last)
    ((*_, committed_at, entries, ttl),) = store.commits
    assert committed_at > last
    assert {entry["created_at"] for entry in entries} == {created}
    assert ttl == int((committed_at + RETENTION).timestamp())


def test_retention_is_30_days():
    assert timedelta(days=30) == RETENTION
