"""`exports nightly sync` and `stitch` over Parquet nights (a tenant whose nightly format is parquet), against a fake
listing and file store holding real Parquet files: each file verified by SHA-256 and by the row count in its footer
against the listing, recorded with its format; stitch refuses Parquet with a message that says what to do."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from export_client.errors import ClientError, Exit
from export_client.nightly import STATE_FILE, file_name, stitch_directory, sync
from export_client.ui import Ui

from export_service.logic.parquet_files import write_part
from tests.unit.client_support import FakeNightlyApi, FakeStore

pytestmark = pytest.mark.unit

NOW = datetime(2026, 7, 1, 8, tzinfo=UTC)
COLUMNS = ("id", "created_at", "updated_at", "name")


class Upload:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: str | bytes) -> None:
        self.data += data.encode() if isinstance(data, str) else data


def parquet_of(rows: list[dict[str, str]]) -> bytes:
    upload = Upload()
    write_part([rows], COLUMNS, upload)
    return bytes(upload.data)


class ParquetNightlyApi(FakeNightlyApi):
    def add_parquet_night(self, night: datetime, created: datetime, rows: int = 3, *, claim: int | None = None) -> None:
        """A night of Parquet files; ``claim``: the row count the listing states (default: the true one)."""
        for n, source in enumerate(self.SOURCES):
            name = f"{source.split('+')[1]}-{night:%Y-%m-%d}.parquet"
            body = parquet_of(
                [
                    {"id": f"{night:%Y%m%d}-{n}-{i}", "created_at": "2026-01-01T00:00:00.000Z", "updated_at": ""}
                    for i in range(rows)
                ]
            )
            self.entries.append(
                self.entry(
                    night,
                    created,
                    n,
                    source,
                    records=rows if claim is None else claim,
                    sha256=self.store.put(name, body),
                    format="parquet",
                    name=name,
                )
            )


def _sync(api: FakeNightlyApi, folder: Path) -> Any:
    return sync(api, api.store, folder, Ui(quiet=True), now=lambda: NOW)  # type: ignore[arg-type]


def _night(n: int) -> datetime:
    return datetime(2026, 6, 20, 2, 30, tzinfo=UTC) + timedelta(days=n)


def test_parquet_nights_are_downloaded_verified_and_recorded_with_their_format(tmp_path):
    api = ParquetNightlyApi(FakeStore(), NOW)
    api.add_parquet_night(_night(0), NOW - timedelta(days=2))
    api.add_parquet_night(_night(1), NOW - timedelta(days=1), rows=5)
    folder = tmp_path / "n"
    report = _sync(api, folder)
    assert report.exit_code is Exit.OK and len(report.downloaded) == 12 and report.records == 6 * 3 + 6 * 5
    assert sorted(path.name for path in folder.glob("*.parquet")) == sorted(e["name"] for e in api.entries)
    for entry in api.entries:
        assert (folder / entry["name"]).read_bytes() == api.store.files[entry["name"]].body
    state = json.loads((folder / STATE_FILE).read_text())
    assert {item["format"] for item in state["files"].values()} == {"parquet"}
    assert {item["night"] for item in state["files"].values()} == {"2026-06-20", "2026-06-21"}
    again = _sync(api, folder)
    assert again.downloaded == [] and again.exit_code is Exit.OK  # listed from its watermark: nothing new


def test_a_parquet_file_whose_footer_disagrees_with_the_listings_records_is_refused(tmp_path):
    api = ParquetNightlyApi(FakeStore(), NOW)
    api.add_parquet_night(_night(0), NOW - timedelta(days=1), rows=3, claim=4)  # the SHA-256 matches, the rows not
    report = _sync(api, tmp_path / "n")
    assert report.exit_code is Exit.VERIFY and len(report.failed) == 6
    assert all("3 records instead of 4" in item["error"] for item in report.failed)
    assert not list((tmp_path / "n").glob("*.parquet")) and report.watermark is None


def test_a_parquet_file_corrupted_in_transit_is_refused(tmp_path):
    api = ParquetNightlyApi(FakeStore(), NOW)
    api.add_parquet_night(_night(0), NOW - timedelta(days=1))
    api.store.files[api.entries[5]["name"]].corrupt = True
    report = _sync(api, tmp_path / "n")
    assert report.exit_code is Exit.VERIFY and [item["file"] for item in report.failed] == [api.entries[5]["name"]]
    assert "SHA-256" in report.failed[0]["error"]


def test_the_name_follows_the_listed_format():
    entry = {"source": "text/csv+incident-20220525", "window_ends_at": "2026-06-20T02:30:00.000Z", "format": "parquet"}
    assert file_name(entry) == "incident-20220525-2026-06-20.parquet"
    assert file_name({**entry, "format": None}) == "incident-20220525-2026-06-20.csv"  # an entry before formats
    link = "https://store/x?response-content-disposition=attachment%3B%20filename%3D%22incident-2026-06-20.csv%22"
    assert file_name({**entry, "url": link}) == "incident-20220525-2026-06-20.parquet"  # not a .csv for Parquet
    with pytest.raises(ClientError) as caught:
        file_name({**entry, "format": "avro"})
    assert caught.value.code is Exit.REJECTED and "'avro'" in caught.value.message


def test_stitch_refuses_parquet_nights_and_still_stitches_the_csv_nights_before_a_switch(tmp_path):
    api = ParquetNightlyApi(FakeStore(), NOW)
    api.add_night(_night(0), NOW - timedelta(days=3))  # CSV nights, then the tenant switched to Parquet
    api.add_night(_night(1), NOW - timedelta(days=2))
    api.add_parquet_night(_night(2), NOW - timedelta(days=1))
    folder = tmp_path / "n"
    assert _sync(api, folder).exit_code is Exit.OK
    with pytest.raises(ClientError) as caught:
        stitch_directory(folder, tmp_path / "out")
    assert caught.value.code is Exit.REJECTED
    assert caught.value.message.startswith("nightly stitch merges CSV files, and ")
    assert "-2026-06-22.parquet and 5 more in that range are Parquet" in caught.value.message
    assert not (tmp_path / "out").exists()  # refused before anything was written
    done = stitch_directory(folder, tmp_path / "out", last=date(2026, 6, 21))
    assert len(done) == 6 and all(item.result.files == 2 for item in done)
