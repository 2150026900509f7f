"""Stitch a range of nightly export files of one source into one deduplicated CSV.

Consecutive nights overlap (so that no change is ever missed), so the same row can be in several files. A row is
identified by ``id``; of its copies the one with the latest ``updated_at`` wins (audit events never change: any
copy). The result is ordered by ``created_at`` (audit: ``timestamp``), then ``id``. Memory stays flat: rows go
through an on-disk SQLite table. ``exports nightly stitch`` runs it over the files ``exports nightly sync`` keeps.
"""

from __future__ import annotations

import csv
import json
import sqlite3
import sys
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

csv.field_size_limit(sys.maxsize)


class StitchError(ValueError):
    pass


@dataclass(frozen=True)
class Stitched:
    files: int
    rows_read: int
    rows_written: int


def stitch(inputs: Iterable[TextIO], out: TextIO) -> Stitched:
    """Merge CSV files (oldest first) that share one header into ``out``, one row per ``id``."""
    with (
        tempfile.TemporaryDirectory(prefix="stitch-") as folder,
        closing(sqlite3.connect(Path(folder) / "rows.db")) as db,
    ):
        db.execute("CREATE TABLE rows (id TEXT PRIMARY KEY, version TEXT, ordering TEXT, cells TEXT)")
        header: list[str] | None = None
        files = read = 0
        for handle in inputs:
            reader = csv.reader(handle)
            this_header = next(reader, None)
            if this_header is None:
                raise StitchError("an input file is empty (not even a header)")
            if header is None:
                header = this_header
            elif this_header != header:
                raise StitchError(f"files of different sources: {this_header[:6]} ... vs {header[:6]} ...")
            id_at = header.index("id") if "id" in header else -1
            if id_at < 0:
                raise StitchError("the files have no 'id' column")
            version_at = header.index("updated_at") if "updated_at" in header else None
            order_name = "created_at" if "created_at" in header else "timestamp" if "timestamp" in header else "id"
            order_at = header.index(order_name)
            files += 1
            batch = []
            for cells in reader:
                read += 1
                if len(cells) != len(header):
                    raise StitchError(f"row {read} has {len(cells)} cells, the header {len(header)}")
                version = cells[version_at] if version_at is not None else ""
                batch.append((cells[id_at], version, cells[order_at], json.dumps(cells)))
                if len(batch) == 1000:
                    _upsert(db, batch)
            _upsert(db, batch)
        if header is None:
            raise StitchError("no input files")
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        written = 0
        for (cells,) in db.execute("SELECT cells FROM rows ORDER BY ordering, id"):
            writer.writerow(json.loads(cells))
            written += 1
        return Stitched(files=files, rows_read=read, rows_written=written)


def _upsert(db: sqlite3.Connection, batch: list[tuple[str, str, str, str]]) -> None:
    # A later file's copy wins unless it is older (a later night's overlap can hold an unchanged copy).
    db.executemany(
        "INSERT INTO rows VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET version = excluded.version, "
        "ordering = excluded.ordering, cells = excluded.cells WHERE excluded.version >= rows.version",
        batch,
    )
    batch.clear()


def open_files(paths: Iterable[Path]) -> Iterator[TextIO]:
    """Each file opened as it is reached (a spreadsheet's UTF-8 BOM is not part of the header)."""
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle
