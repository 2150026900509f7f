"""Nightly export logic: listing committed nights (the nightly data export's fields, links, pages of whole nights,
who sees what)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_service.logic.nightly import commit_night, list_export_requests, request_id
from export_service.models.api_keys import Permission, Principal
from export_service.models.nightly import AUDIT_SOURCE, NIGHTLY_SOURCES, SOURCE_NAMES
from export_service.timefmt import parse_instant
from tests.unit.nightly_support import (
    ENABLED,
    NIGHT1,
    NIGHT2,
    NIGHT3,
    OVERLAP,
    FakeRequestStore,
    _commit_input,
    _config,
)

pytestmark = pytest.mark.unit


NIGHTLY_DATA_EXPORT_FIELDS = {"id", "created_at", "window_starts_at", "window_ends_at", "source", "status", "url"}


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


def test_a_listing_serves_nightly_data_export_fields_with_records_sha256_format_and_links_for_300_seconds():
    store, files = _three_nights(), FakePresigner()
    body = list_export_requests(store, files, READER, None, 300, LIST_NOW)
    assert body["urls_expire_at"] == "2026-05-04T09:20:00.123Z"
    assert body["pagination"] == {"limit": 300, "has_more": False, "next_newer_than": None}
    assert store.listed == [("acme", None, int(LIST_NOW.timestamp()), 301)]
    data = body["data"]
    assert len(data) == 18
    assert all(set(entry) == NIGHTLY_DATA_EXPORT_FIELDS | {"records", "sha256", "format"} for entry in data)
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
        "format": "csv",
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
