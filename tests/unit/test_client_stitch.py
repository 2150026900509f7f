"""The client's stitch over real CSV files: overlapping nights become one deduplicated, ordered file; and the
``exports nightly stitch`` command over a synced folder."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner
from export_client.cli import cli
from export_client.nightly import State
from export_client.stitch import Stitched, StitchError, stitch

from export_service.logic.formats import CsvWriter
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset

pytestmark = pytest.mark.unit

HEADER = ["id", "account_id", "created_at", "updated_at", "name"]


def _write(path: Path, header: Sequence[str] | None, rows: Sequence[Sequence[str]], *, bom: bool = False) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\r\n")
        if header is not None:
            writer.writerow(header)
        writer.writerows(rows)
    return path


def _read(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def _stitch(tmp_path: Path, *paths: Path) -> tuple[Stitched, list[list[str]]]:
    out_path = tmp_path / "out.csv"
    with ExitStack() as stack, out_path.open("w", encoding="utf-8", newline="") as out:
        handles = [stack.enter_context(path.open(encoding="utf-8", newline="")) for path in paths]
        result = stitch(handles, out)
    return result, _read(out_path)


def test_overlapping_nights_keep_one_row_per_id_with_the_latest_update(tmp_path):
    night1 = _write(
        tmp_path / "n1.csv",
        HEADER,
        [
            ["inc-2", "acc", "2026-05-01T10:00:00.000Z", "2026-05-01T10:00:00.000Z", "two v1"],
            ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-02T02:20:00.000Z", "one v2"],
        ],
    )
    night2 = _write(
        tmp_path / "n2.csv",
        HEADER,
        [
            # inside the overlap: the same copy again
            ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-02T02:20:00.000Z", "one v2"],
            ["inc-2", "acc", "2026-05-01T10:00:00.000Z", "2026-05-02T12:00:00.000Z", "two v2"],
            ["inc-3", "acc", "2026-05-02T11:00:00.000Z", "2026-05-02T11:00:00.000Z", "three"],
        ],
    )
    result, rows = _stitch(tmp_path, night1, night2)
    assert result == Stitched(files=2, rows_read=5, rows_written=3)
    assert rows == [
        HEADER,
        ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-02T02:20:00.000Z", "one v2"],
        ["inc-2", "acc", "2026-05-01T10:00:00.000Z", "2026-05-02T12:00:00.000Z", "two v2"],
        ["inc-3", "acc", "2026-05-02T11:00:00.000Z", "2026-05-02T11:00:00.000Z", "three"],
    ]


def test_an_older_copy_in_a_later_file_does_not_replace_a_newer_one(tmp_path):
    newer = ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-03T08:00:00.000Z", "renamed"]
    older = ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-01T09:00:00.000Z", "original"]
    first = _write(tmp_path / "a.csv", HEADER, [newer])
    second = _write(tmp_path / "b.csv", HEADER, [older])
    result, rows = _stitch(tmp_path, first, second)
    assert rows == [HEADER, newer]
    assert result.rows_read == 2 and result.rows_written == 1


def test_identical_copies_are_kept_once(tmp_path):
    row = ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-01T09:30:00.000Z", "same"]
    paths = [_write(tmp_path / f"n{n}.csv", HEADER, [row]) for n in range(3)]
    result, rows = _stitch(tmp_path, *paths)
    assert rows == [HEADER, row]
    assert result == Stitched(files=3, rows_read=3, rows_written=1)


def test_rows_are_ordered_by_created_at_then_id(tmp_path):
    rows_in = [
        ["inc-b", "acc", "2026-05-02T00:00:00.000Z", "2026-05-02T00:00:00.000Z", ""],
        ["inc-c", "acc", "2026-05-01T00:00:00.000Z", "2026-05-03T00:00:00.000Z", ""],
        ["inc-a", "acc", "2026-05-02T00:00:00.000Z", "2026-05-02T00:00:00.000Z", ""],
    ]
    later = [["inc-0", "acc", "2026-04-30T23:59:59.999Z", "2026-05-03T01:00:00.000Z", ""]]
    _, rows = _stitch(tmp_path, _write(tmp_path / "1.csv", HEADER, rows_in), _write(tmp_path / "2.csv", HEADER, later))
    assert [row[0] for row in rows[1:]] == ["inc-0", "inc-c", "inc-a", "inc-b"]


def test_audit_files_dedupe_by_id_in_timestamp_order(tmp_path):
    columns = list(AUDIT_COLUMNS)

    def event(event_id: str, timestamp: str) -> list[str]:
        row = dict.fromkeys(columns, "x")
        row.update(id=event_id, timestamp=timestamp, action="export")
        return [row[name] for name in columns]

    night1 = _write(
        tmp_path / "audit1.csv",
        columns,
        [event("ev-2", "2026-05-01T23:00:00.000Z"), event("ev-1", "2026-05-02T02:25:00.000Z")],
    )
    night2 = _write(
        tmp_path / "audit2.csv",
        columns,
        [event("ev-1", "2026-05-02T02:25:00.000Z"), event("ev-3", "2026-05-02T20:00:00.000Z")],
    )
    result, rows = _stitch(tmp_path, night1, night2)
    assert rows[0] == columns
    assert [row[0] for row in rows[1:]] == ["ev-2", "ev-1", "ev-3"]
    assert rows[2] == event("ev-1", "2026-05-02T02:25:00.000Z")
    assert result == Stitched(files=2, rows_read=4, rows_written=3)


def test_files_of_different_sources_are_refused(tmp_path):
    incidents = _write(tmp_path / "inc.csv", HEADER, [])
    audit = _write(tmp_path / "audit.csv", list(AUDIT_COLUMNS), [])
    with pytest.raises(StitchError, match="different sources"):
        _stitch(tmp_path, incidents, audit)


def test_an_empty_file_is_refused(tmp_path):
    good = _write(tmp_path / "good.csv", HEADER, [])
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(StitchError, match="empty"):
        _stitch(tmp_path, good, empty)


def test_no_input_at_all_is_refused():
    with pytest.raises(StitchError, match="no input"):
        stitch([], io.StringIO())


def test_a_file_without_an_id_column_is_refused(tmp_path):
    with pytest.raises(StitchError, match="'id'"):
        _stitch(tmp_path, _write(tmp_path / "x.csv", ["key", "created_at"], [["k", "2026-05-01"]]))


def test_header_only_files_give_a_header_only_file(tmp_path):
    result, rows = _stitch(tmp_path, _write(tmp_path / "a.csv", HEADER, []), _write(tmp_path / "b.csv", HEADER, []))
    assert rows == [HEADER]
    assert result == Stitched(files=2, rows_read=0, rows_written=0)


def test_awkward_cells_round_trip_unchanged(tmp_path):
    columns = list(DATASETS[Dataset.INCIDENTS].columns)
    row = dict.fromkeys(columns, "")
    row.update(
        id="inc-1",
        created_at="2026-05-01T09:00:00.000Z",
        updated_at="2026-05-01T09:00:00.000Z",
        name="'=SUM(A1)",  # neutralised by the export: kept as it is
        severity='a "quoted", comma\r\nand a new line\nand ünïcödé',
        started_by='{"a,b": "c\\"d"}',
        priority="'+1",
        active_duration=" leading and trailing spaces ",
    )
    cells = [row[name] for name in columns]
    result, rows = _stitch(
        tmp_path, _write(tmp_path / "a.csv", columns, [cells]), _write(tmp_path / "b.csv", columns, [cells])
    )
    assert rows == [columns, cells]
    assert result.rows_written == 1
    raw = (tmp_path / "out.csv").read_bytes()
    assert raw.startswith(b"id,") and b"\r\n" in raw


def test_files_written_by_the_nightly_csv_writer_stitch_with_their_cells_unchanged(tmp_path):
    columns = DATASETS[Dataset.INCIDENTS].columns
    record = dict.fromkeys(columns, "")
    record.update(
        id="inc-1",
        created_at="2026-05-01T09:00:00.000Z",
        updated_at="2026-05-01T09:00:00.000Z",
        name="=SUM(A1)",
        severity='comma, "quote"\nnew line',
    )
    paths = []
    for n in range(2):
        path = tmp_path / f"night{n}.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            CsvWriter(handle, columns).write_many([record])
        paths.append(path)
    _, rows = _stitch(tmp_path, *paths)
    assert len(rows) == 2
    stitched = dict(zip(rows[0], rows[1], strict=True))
    assert stitched["name"] == "'=SUM(A1)"
    assert stitched["severity"] == 'comma, "quote"\nnew line'
    assert (tmp_path / "out.csv").read_bytes() == paths[0].read_bytes()


def test_many_rows_go_through_in_batches(tmp_path):
    rows_in = [
        [f"inc-{n:05d}", "acc", f"2026-05-01T00:00:{n % 60:02d}.000Z", "2026-05-01T01:00:00.000Z", ""]
        for n in range(2500)
    ]
    later = [[*row[:3], "2026-05-02T01:00:00.000Z", "changed"] for row in rows_in[1000:1500]]
    result, rows = _stitch(
        tmp_path, _write(tmp_path / "a.csv", HEADER, rows_in), _write(tmp_path / "b.csv", HEADER, later)
    )
    assert result == Stitched(files=2, rows_read=3000, rows_written=2500)
    assert len(rows) == 2501
    assert sum(1 for row in rows[1:] if row[4] == "changed") == 500
    assert [(row[2], row[0]) for row in rows[1:]] == sorted((row[2], row[0]) for row in rows[1:])


# ---- the command ----------------------------------------------------------------------------------


def _synced(folder: Path, files: dict[str, tuple[str, str, Sequence[str], Sequence[Sequence[str]]]]) -> Path:
    """A folder as `exports nightly sync` leaves it: files plus the state naming their source, night and time."""
    folder.mkdir()
    state = State(folder)
    for n, (name, source, header, rows) in enumerate(files.values()):
        path = _write(folder / name, header, rows, bom=n == 1)  # the second saved by a spreadsheet, with a BOM
        night = name[-14:-4]
        state.files[f"id-{n}"] = {
            "file": path.name,
            "source": source,
            "night": night,
            "created_at": f"{night}T02:31:00.000Z",
            "window_starts_at": f"{night}T00:00:00.000Z",
            "window_ends_at": f"{night}T02:30:00.000Z",
            "records": len(rows),
            "sha256": "",
            "bytes": 0,
        }
    state.save()
    return folder


INCIDENTS = "text/csv+incident-20220525"


def test_the_command_stitches_a_synced_folder_into_one_file_per_source(tmp_path):
    v1 = ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-01T09:00:00.000Z", "v1"]
    v2 = ["inc-1", "acc", "2026-05-01T09:00:00.000Z", "2026-05-02T09:00:00.000Z", "v2"]
    audit_row = ["ev-1", "2026-05-01T10:00:00.000Z", *["x"] * (len(AUDIT_COLUMNS) - 2)]
    folder = _synced(
        tmp_path / "nightly",
        {
            "n1": ("incident-20220525-2026-05-02.csv", INCIDENTS, HEADER, [v1]),
            "n2": ("incident-20220525-2026-05-03.csv", INCIDENTS, HEADER, [v2]),
            "n3": ("audit_event-20261122-2026-05-02.csv", "text/csv+audit_event-20261122", AUDIT_COLUMNS, [audit_row]),
        },
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["nightly", "stitch", str(folder), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert _read(out / "incident-20220525-2026-05-02_2026-05-03.csv") == [HEADER, v2]
    assert _read(out / "audit_event-20261122-2026-05-02_2026-05-02.csv") == [list(AUDIT_COLUMNS), audit_row]
    assert "1 rows from 2 in 2 files" in result.output
    # a range and a source: only those nights of that source
    only = CliRunner().invoke(
        cli,
        [
            "nightly",
            "stitch",
            str(folder),
            "-o",
            str(tmp_path / "one"),
            "--source",
            "incident-20220525",
            "--to",
            "2026-05-02",
            "--json",
        ],
    )
    assert only.exit_code == 0, only.output
    assert [p.name for p in (tmp_path / "one").iterdir()] == ["incident-20220525-2026-05-02_2026-05-02.csv"]
    assert _read(tmp_path / "one" / "incident-20220525-2026-05-02_2026-05-02.csv") == [HEADER, v1]


def test_the_command_fails_with_5_when_files_of_one_source_disagree_or_nothing_is_in_range(tmp_path):
    folder = _synced(
        tmp_path / "nightly",
        {
            "n1": ("incident-20220525-2026-05-02.csv", INCIDENTS, HEADER, []),
            "n2": ("incident-20220525-2026-05-03.csv", INCIDENTS, AUDIT_COLUMNS, []),
        },
    )
    result = CliRunner().invoke(cli, ["nightly", "stitch", str(folder), "-o", str(tmp_path / "out")])
    assert result.exit_code == 5
    assert "files of different sources" in result.output
    assert not any((tmp_path / "out").iterdir())  # no half-written file under any name
    empty = CliRunner().invoke(
        cli, ["nightly", "stitch", str(folder), "-o", str(tmp_path / "x"), "--from", "2027-01-01"]
    )
    assert empty.exit_code == 5
    assert "no nightly file in that range" in empty.output
