"""`exports nightly sync` against a fake listing and file store: idempotent, resumable, catches up, warns."""

from __future__ import annotations

import fcntl
import json
from datetime import UTC, datetime, timedelta

import pytest
from export_client.errors import ClientError, Exit
from export_client.nightly import LOCK_FILE, PAGE, STATE_FILE, State, sync
from export_client.ui import Ui

from tests.unit.client_support import FakeNightlyApi, FakeStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)


def _night(n: int) -> datetime:
    return datetime(2026, 6, 1, 2, 30, tzinfo=UTC) + timedelta(days=n)


def _api(nights: int, *, created_offset: timedelta = timedelta(days=0), **behaviour) -> FakeNightlyApi:
    api = FakeNightlyApi(FakeStore(), NOW)
    for n in range(nights):
        api.add_night(_night(28 - nights + n), NOW - timedelta(days=nights - n) + created_offset, **behaviour)
    return api


def _sync(api: FakeNightlyApi, folder, **kwargs):
    return sync(api, api.store, folder, Ui(quiet=True), now=lambda: NOW, **kwargs)  # type: ignore[arg-type]


def _csvs(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("*.csv"))


def test_a_first_run_downloads_every_file_and_a_second_run_downloads_nothing(tmp_path):
    api = _api(2)
    report = _sync(api, tmp_path / "n")
    assert len(report.downloaded) == 12 and report.exit_code is Exit.OK
    assert report.records == 24 and not report.failed
    assert len(_csvs(tmp_path / "n")) == 12
    state = json.loads((tmp_path / "n" / STATE_FILE).read_text())
    assert state["watermark"] == api.entries[-1]["created_at"]
    assert {item["file"] for item in state["files"].values()} == set(_csvs(tmp_path / "n"))
    requests_before = len(api.store.requests)

    again = _sync(api, tmp_path / "n")
    assert again.downloaded == [] and again.exit_code is Exit.OK
    assert len(api.store.requests) == requests_before  # not one file fetched
    assert api.calls[-1] == (state["watermark"], PAGE)  # listed from the watermark
    assert again.line().startswith("nightly sync: nothing new")

    api.add_night(_night(28), NOW - timedelta(hours=1))
    third = _sync(api, tmp_path / "n")
    assert len(third.downloaded) == 6
    assert all(name.endswith(f"{_night(28):%Y-%m-%d}.csv") for name in third.downloaded)


def test_a_missed_week_is_caught_up_across_pages(tmp_path):
    api = _api(1)
    _sync(api, tmp_path / "n")
    for n in range(12):  # twelve nights missed: more than a page (ten nights) of the listing
        api.add_night(_night(10 + n), NOW - timedelta(hours=20 - n))
    report = _sync(api, tmp_path / "n")
    assert len(report.downloaded) == 72
    assert len([call for call in api.calls[1:]]) == 2  # two pages
    assert len(_csvs(tmp_path / "n")) == 78


def test_a_failed_file_holds_the_watermark_and_a_later_run_fetches_only_what_is_missing(tmp_path):
    api = _api(2)
    broken = api.entries[8]["name"]  # a file of the second night
    good = api.store.files[broken].body
    del api.store.files[broken]
    report = _sync(api, tmp_path / "n")
    assert report.exit_code is Exit.REJECTED
    assert [item["file"] for item in report.failed] == [broken]
    assert len(report.downloaded) == 11
    assert report.watermark == api.entries[0]["created_at"]  # the first night only is complete
    api.store.put(broken, good)
    fetched_before = len(api.store.requests)
    again = _sync(api, tmp_path / "n")
    assert again.downloaded == [broken] and again.exit_code is Exit.OK
    assert again.kept == 5  # the second night's other files were listed again but not fetched
    assert len(api.store.requests) == fetched_before + 1
    assert again.watermark == api.entries[-1]["created_at"]


def test_a_corrupted_file_is_detected_not_saved_and_not_recorded(tmp_path):
    api = _api(1)
    name = api.entries[2]["name"]
    api.store.files[name].corrupt = True
    report = _sync(api, tmp_path / "n")
    assert report.exit_code is Exit.VERIFY
    assert report.failed[0]["file"] == name and "SHA-256" in report.failed[0]["error"]
    assert name not in _csvs(tmp_path / "n")
    assert not list((tmp_path / "n").glob(".*.part"))
    assert report.watermark is None


def test_an_interrupted_download_resumes_and_an_expired_link_is_renewed_from_the_listing(tmp_path):
    api = _api(1)
    name = api.entries[0]["name"]
    api.store.files[name].cuts = [20]
    api.store.files[name].refuse = 0
    original = api.store.get

    def get(url, headers=None, **kwargs):
        response = original(url, headers, **kwargs)
        if name in url and len([u for u, _ in api.store.requests if name in u]) == 1:
            api.store.files[name].refuse = 1  # the first link dies during its download
        return response

    api.store.get = get  # type: ignore[method-assign]
    report = _sync(api, tmp_path / "n")
    assert report.exit_code is Exit.OK and len(report.downloaded) == 6
    mine = [(url.split("?")[1].split("&")[0], r) for url, r in api.store.requests if name in url]
    assert mine == [("v=1", None), ("v=1", "bytes=20-"), ("v=2", "bytes=20-")]
    assert api.calls[1][1] == 6  # the renewal listed just that night


def test_files_close_to_expiry_and_an_old_watermark_and_a_gap_are_warned_about(tmp_path):
    api = FakeNightlyApi(FakeStore(), NOW)
    api.add_night(_night(0), NOW - timedelta(days=29, hours=12))  # expunged in 12 hours
    report = _sync(api, tmp_path / "n")
    assert len(report.downloaded) == 6
    assert any("will be expunged" in w and "in 12 h" in w for w in report.warnings)

    state = State.load(tmp_path / "n")
    state.watermark = "2026-05-01T00:00:00.000Z"
    state.save()
    api.add_night(_night(5), NOW - timedelta(hours=2))  # window starts long after the previous one ended
    later = _sync(api, tmp_path / "n")
    assert any("more than 30 days ago" in w for w in later.warnings)
    assert any("changes in between are in no file" in w for w in later.warnings)


def test_one_sync_at_a_time_per_folder(tmp_path):
    folder = tmp_path / "n"
    folder.mkdir()
    with (folder / LOCK_FILE).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with pytest.raises(ClientError) as raised:
            _sync(_api(1), folder)
    assert raised.value.code is Exit.BUSY
