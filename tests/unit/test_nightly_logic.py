"""Nightly export logic without AWS: windows, nights, names and ids, the commit, the listing, the sources, the event."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from pydantic import ValidationError

from devtools.nightly import EVENT_PATH, schedule_event
from export_service.dal.export_request_store import CommitRefusedError
from export_service.logic.nightly import (
    RETENTION,
    commit_night,
    execution_name,
    list_export_requests,
    night_of,
    plan_window,
    request_id,
)
from export_service.models.api_keys import Permission, Principal
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import (
    AUDIT_SOURCE,
    NIGHTLY_SOURCES,
    SOURCE_NAMES,
    CommitInput,
    NightlyConfig,
    SourceInput,
    SourceResult,
)
from export_service.timefmt import format_instant, parse_instant

pytestmark = pytest.mark.unit

ENABLED = datetime(2026, 5, 1, 12, tzinfo=UTC)
NIGHT1 = datetime(2026, 5, 2, 2, 30, tzinfo=UTC)
NIGHT2 = NIGHT1 + timedelta(days=1)
NIGHT3 = NIGHT2 + timedelta(days=1)
OVERLAP = timedelta(minutes=15)
SEED_004_SOURCES = {
    "text/csv+incident-20220525": Dataset.INCIDENTS,
    "text/csv+incident_role_assignment-20220525": Dataset.INCIDENT_ROLE_ASSIGNMENTS,
    "text/csv+incident_event-20220525": Dataset.INCIDENT_EVENTS,
    "text/csv+incident_impact-20220525": Dataset.INCIDENT_IMPACTS,
    "text/csv+retrospective-20220525": Dataset.RETROSPECTIVES,
}
SEED_004_FIELDS = {"id", "created_at", "window_starts_at", "window_ends_at", "source", "status", "url"}
LONGEST_TENANT = "t" + "0123456789-" * 5 + "abcdefg"  # 63 characters: the longest tenant id there can be


def _config(**changes: Any) -> NightlyConfig:
    return NightlyConfig(**{"tenant": "acme", "enabled": True, "enabled_at": ENABLED, **changes})


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


# ---- the sources and step payloads -----------------------------------------------------------------


def test_the_sources_are_seed_004s_five_with_their_columns_plus_audit_events():
    assert set(NIGHTLY_SOURCES) == {*SEED_004_SOURCES, AUDIT_SOURCE}
    assert tuple(NIGHTLY_SOURCES) == SOURCE_NAMES
    for name, dataset in SEED_004_SOURCES.items():
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


# ---- committing a night --------------------------------------------------------------------------------


class FakeRequestStore:
    """ExportRequestStore's contract in memory: the config, the commits it was given, the listing."""

    def __init__(self, config: NightlyConfig | None = None, refuse: str | None = None) -> None:
        self.config = config
        self.refuse = refuse
        self.commits: list[tuple[str, str, datetime, datetime, list[dict[str, Any]], int]] = []
        self.items: list[dict[str, Any]] = []
        self.listed: list[tuple[str, str | None, int, int]] = []

    def get_config(self, tenant: str) -> NightlyConfig | None:
        return self.config if self.config is not None and self.config.tenant == tenant else None

    def commit(
        self,
        tenant: str,
        night: str,
        enabled_at: datetime,
        window_end: datetime,
        created_at: datetime,
        entries: list[dict[str, Any]],
        ttl: int,
    ) -> None:
        assert self.config is None or enabled_at == self.config.enabled_at  # the store's condition
        if self.refuse:
            raise CommitRefusedError(self.refuse)
        self.commits.append((tenant, night, window_end, created_at, list(entries), ttl))  # enabled_at asserted above
        self.items.extend({**entry, "tenant": tenant, "ttl": ttl} for entry in entries)
        if self.config is not None:
            self.config = self.config.model_copy(
                update={"watermark": window_end, "last_night": night, "last_created_at": created_at}
            )

    def list_requests(self, tenant: str, newer_than: str | None, now: int, most: int) -> list[dict[str, Any]]:
        self.listed.append((tenant, newer_than, now, most))
        found = [
            item
            for item in self.items
            if item["tenant"] == tenant
            and (newer_than is None or item["created_at"] > newer_than)
            and item["ttl"] > now
        ]
        return sorted(found, key=lambda item: (item["created_at"], item["source"]))[:most]


def _files(night: str, *, leave_out: str | None = None) -> list[SourceResult]:
    return [
        SourceResult(
            source=name,
            key=f"nightly/acme/{night}/{NIGHTLY_SOURCES[name].slug}.csv",
            rows=10 + n,
            bytes=1000 + n,
            sha256=f"{n:064x}",
        )
        for n, name in enumerate(SOURCE_NAMES)
        if name != leave_out
    ]


def _commit_input(scheduled: datetime, start: datetime, *, leave_out: str | None = None) -> CommitInput:
    night = night_of(scheduled)
    return CommitInput(
        mode="nightly",
        tenant="acme",
        night=night,
        enabled_at=ENABLED,
        window_starts_at=start,
        window_ends_at=scheduled,
        files=_files(night, leave_out=leave_out),
    )


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


# ---- listing ------------------------------------------------------------------------------------------


class FakePresigner:
    def __init__(self) -> None:
        self.signed: list[tuple[str, str | None]] = []

    def presign(self, key: str, filename: str | None = None, expires: int = 300) -> str:
        self.signed.append((key, filename))
        return f"https://signed.example/{key}?filename={filename}&expires={expires}"


def _three_nights() -> FakeRequestStore:
    store = FakeRequestStore(_config())
    start = ENABLED
    for scheduled in (NIGHT1, NIGHT2, NIGHT3):
        commit_night(store, _commit_input(scheduled, start), scheduled + timedelta(minutes=7))
        start = scheduled - OVERLAP
    assert len(store.items) == 3 * len(SOURCE_NAMES)
    return store


LIST_NOW = datetime(2026, 5, 4, 9, 15, 0, 123000, tzinfo=UTC)
READER = Principal(
    tenant_id="acme",
    key_id="ak_reader",
    permissions=frozenset({Permission.EXPORTS_READ, Permission.AUDIT_READ, Permission.INCIDENTS_READ}),
)


def test_a_listing_serves_seed_004s_fields_with_records_sha256_and_links_for_300_seconds():
    store, files = _three_nights(), FakePresigner()
    body = list_export_requests(store, files, READER, None, 300, LIST_NOW)
    assert body["urls_expire_at"] == "2026-05-04T09:20:00.123Z"
    assert body["pagination"] == {"limit": 300, "has_more": False, "next_newer_than": None}
    assert store.listed == [("acme", None, int(LIST_NOW.timestamp()), 301)]
    data = body["data"]
    assert len(data) == 18
    assert all(set(entry) == SEED_004_FIELDS | {"records", "sha256"} for entry in data)
    first = data[0]
    assert first == {
        "id": request_id("acme", "2026-05-02", first["source"]),
        "created_at": "2026-05-02T02:37:00.000Z",
        "window_starts_at": "2026-05-01T12:00:00.000Z",
        "window_ends_at": "2026-05-02T02:30:00.000Z",
        "source": first["source"],
        "status": "completed",
        "url": first["url"],
        "records": first["records"],
        "sha256": first["sha256"],
    }
    assert isinstance(first["records"], int)
    by_source = {item["source"]: item for item in store.items if item["night"] == "2026-05-02"}
    assert first["records"] == by_source[first["source"]]["records"]
    assert first["sha256"] == by_source[first["source"]]["sha256"]
    key = f"nightly/acme/2026-05-02/{NIGHTLY_SOURCES[first['source']].slug}.csv"
    assert first["url"].startswith(f"https://signed.example/{key}?")
    assert (key, f"{NIGHTLY_SOURCES[first['source']].slug}-2026-05-02.csv") in files.signed
    assert [entry["created_at"] for entry in data] == sorted(entry["created_at"] for entry in data)


def test_a_listing_after_newer_than_leaves_out_older_nights():
    store = _three_nights()
    after = parse_instant("2026-05-03T02:37:00.000Z", "newer_than")  # the second night's created_at
    body = list_export_requests(store, FakePresigner(), READER, after, 300, LIST_NOW)
    assert {entry["created_at"] for entry in body["data"]} == {"2026-05-04T02:37:00.000Z"}
    assert store.listed[-1][1] == "2026-05-03T02:37:00.000Z"


@pytest.mark.parametrize("limit", [6, 7, 8, 11, 12, 13, 17])
def test_pages_hold_whole_nights_and_continue_after_the_last(limit):
    store = _three_nights()
    seen: list[dict[str, Any]] = []
    after: datetime | None = None
    pages = 0
    while True:
        body = list_export_requests(store, FakePresigner(), READER, after, limit, LIST_NOW)
        pages += 1
        page = body["data"]
        assert 0 < len(page) <= limit
        nights = {entry["created_at"] for entry in page}
        assert all(sum(1 for e in page if e["created_at"] == night) == len(SOURCE_NAMES) for night in nights)
        seen.extend(page)
        pagination = body["pagination"]
        assert pagination["limit"] == limit
        if not pagination["has_more"]:
            assert pagination["next_newer_than"] is None
            break
        assert pagination["next_newer_than"] == page[-1]["created_at"]
        after = parse_instant(pagination["next_newer_than"], "newer_than")
        assert pages < 10
    assert [entry["id"] for entry in seen] == [
        item["id"] for item in sorted(store.items, key=lambda item: (item["created_at"], item["source"]))
    ]
    assert pages == {6: 3, 7: 3, 8: 3, 11: 3, 12: 2, 13: 2, 17: 2}[limit]


def test_a_page_that_ends_exactly_at_a_night_has_no_more():
    store = _three_nights()
    body = list_export_requests(store, FakePresigner(), READER, None, 18, LIST_NOW)
    assert len(body["data"]) == 18
    assert body["pagination"] == {"limit": 18, "has_more": False, "next_newer_than": None}


@pytest.mark.parametrize(
    ("held", "sources"),
    [
        ({Permission.AUDIT_READ}, {AUDIT_SOURCE}),
        ({Permission.INCIDENTS_READ}, set(SOURCE_NAMES) - {AUDIT_SOURCE}),
        (set(), set()),
    ],
)
def test_a_listing_shows_only_the_sources_the_key_may_read_and_signs_no_other_link(held, sources):
    store, files = _three_nights(), FakePresigner()
    key = Principal(tenant_id="acme", key_id="ak_partial", permissions=frozenset({Permission.EXPORTS_READ, *held}))
    body = list_export_requests(store, files, key, None, 6, LIST_NOW)
    assert {entry["source"] for entry in body["data"]} == sources
    assert len(body["data"]) == len(sources)  # one night's worth: the page is cut over all sources
    assert len(files.signed) == len(sources)
    assert {key.rsplit("/", 1)[-1] for key, _ in files.signed} == {f"{NIGHTLY_SOURCES[s].slug}.csv" for s in sources}
    # paging is the same for every key: the page still ends after the first night
    assert body["pagination"] == {"limit": 6, "has_more": True, "next_newer_than": "2026-05-02T02:37:00.000Z"}


def test_expired_entries_are_not_listed():
    store = _three_nights()
    later = datetime(2026, 6, 1, 2, 38, tzinfo=UTC)  # the first night's entries are past their 30 days
    body = list_export_requests(store, FakePresigner(), READER, None, 300, later)
    assert {entry["created_at"][:10] for entry in body["data"]} == {"2026-05-03", "2026-05-04"}


# ---- the schedule's event ----------------------------------------------------------------------------


def test_the_sample_schedule_event_is_an_eventbridge_event():
    raw = json.loads(EVENT_PATH.read_text())
    event = EventBridgeModel.model_validate(raw)
    assert event.source == "aws.scheduler"
    assert event.detail_type == "Scheduled Event"
    assert event.time == datetime(2026, 6, 2, 2, 30, tzinfo=UTC)
    assert night_of(event.time) == "2026-06-02"


def test_schedule_event_sets_the_time_and_a_fresh_id():
    raw = json.loads(EVENT_PATH.read_text())
    moment = datetime(2026, 6, 3, 2, 30, tzinfo=UTC)
    first, second = schedule_event(moment), schedule_event(moment)
    assert first["time"] == "2026-06-03T02:30:00Z"
    assert first["id"] != second["id"] and raw["id"] not in (first["id"], second["id"])
    assert str(uuid.UUID(first["id"])) == first["id"]
    assert {k: v for k, v in first.items() if k not in ("id", "time")} == {
        k: v for k, v in raw.items() if k not in ("id", "time")
    }
    event = EventBridgeModel.model_validate(first)
    assert event.time == moment
    assert night_of(event.time) == "2026-06-03"


def test_schedule_event_keeps_milliseconds_and_converts_to_utc():
    moment = datetime(2026, 6, 3, 4, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    event = schedule_event(moment)
    assert event["time"] == "2026-06-03T02:30:00.250Z"
    assert EventBridgeModel.model_validate(event).time == moment
