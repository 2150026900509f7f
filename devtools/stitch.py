"""Stitch a range of nightly export files of one source into one deduplicated CSV.

Consecutive nights overlap (so that no change is ever missed), so the same row can be in several files. A row is
identified by ``id``; of its copies the one with the latest ``updated_at`` wins (audit events never change: any
copy). The result is ordered by ``created_at`` (audit: ``timestamp``), then ``id``. Memory stays flat: rows go
through an on-disk SQLite table.

    # files you downloaded, oldest night first
    python -m devtools.stitch -o incidents.csv incident-20220525-2026-06-02.csv incident-20220525-2026-06-03.csv
    # or straight from the API: every report of one source created after --newer-than
    python -m devtools.stitch -o incidents.csv --api http://127.0.0.1:3000 --key <token> \\
        --source text/csv+incident-20220525 --newer-than 2026-06-01T00:00:00Z
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sqlite3
import sys
import tempfile
import urllib.error
import urllib.parse
import urllib.request
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


def _get_json(url: str, token: str) -> dict:
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise StitchError(f"--api must be an http(s) URL, got {url!r}")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})  # noqa: S310 - checked
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 - the caller's own API URL
        return json.load(response)


def report_urls(api: str, token: str, source: str, newer_than: str) -> Iterator[str]:
    """The download links of every report of ``source`` created after ``newer_than``, oldest first. One night per
    page, listed when it is reached, so each link is fresh (links live 300 s) when its file is downloaded."""
    after = newer_than
    while True:
        query = urllib.parse.urlencode({"newer_than": after, "limit": 6})
        page = _get_json(f"{api.rstrip('/')}/v1/export-requests?{query}", token)
        for entry in page["data"]:
            if entry["source"] == source and entry["status"] == "completed":
                yield entry["url"]
        if not page["pagination"]["has_more"]:
            return
        after = page["pagination"]["next_newer_than"]


def _downloads(urls: Iterable[str]) -> Iterator[TextIO]:
    """Each file streamed as it is reached (a link lives 300 s); stitch reads one to its end before the next."""
    for url in urls:
        with urllib.request.urlopen(url, timeout=300) as response:  # noqa: S310 - a presigned S3 link
            yield io.TextIOWrapper(response, encoding="utf-8-sig", newline="")


def _files(paths: Iterable[Path]) -> Iterator[TextIO]:
    for path in paths:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            yield handle


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path, help="nightly CSV files of one source, oldest night first")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--api", help="fetch the files through GET /v1/export-requests of this base URL")
    parser.add_argument("--key", help="API key (EXPORTS_READ) for --api")
    parser.add_argument("--source", help="with --api: e.g. text/csv+incident-20220525")
    parser.add_argument("--newer-than", default="1970-01-01T00:00:00Z", help="with --api: reports created after")
    args = parser.parse_args(argv)
    if args.api:
        if not (args.key and args.source):
            parser.error("--api needs --key and --source")
        inputs: Iterable[TextIO] = _downloads(report_urls(args.api, args.key, args.source, args.newer_than))
    elif args.files:
        inputs = _files(args.files)
    else:
        parser.error("give files, or --api with --key and --source")
    with args.output.open("w", encoding="utf-8", newline="") as out:
        try:
            result = stitch(inputs, out)
        except StitchError as error:
            print(f"stitch: {error}", file=sys.stderr)
            return 2
        except urllib.error.URLError as error:  # HTTPError too: a refused key, an expunged or expired link
            print(f"stitch: {error}", file=sys.stderr)
            return 2
    print(f"{result.files} files, {result.rows_read} rows read, {result.rows_written} rows written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
