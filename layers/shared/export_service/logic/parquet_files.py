"""Parquet files of export jobs, written by DuckDB with typed columns and bounded memory.

A part worker writes its rows (the values of the JSON Lines export: nothing neutralised for spreadsheets) to a JSON
Lines file in its temporary directory, page by page, and DuckDB turns that file into a Parquet part with a typed
column per export column. The finishing step merges the parts, in order, into one Parquet file of row groups
(122,880 rows each), which is hashed and listed in the manifest like any export file.

Types, from the column's name so that a dataset's schema never depends on its data: instants (``timestamp``,
``*_at``, ``*_time``, ``*_timestamp``) are ``TIMESTAMP WITH TIME ZONE`` (UTC, microseconds; an empty value is null),
counts and numeric ids (``*_count``, ``project_id``, ``ticket_id``) ``BIGINT``, every other column, JSON fields
included, a string. A value that does not parse as its column's type fails the job (never a silently dropped value).

DuckDB (``layers/sql``, the DuckDB layer, which only the SQL functions and these job workers carry) is imported
when a Parquet job runs: CSV and JSON jobs never load it. DuckDB works in a temporary directory with a memory limit,
spilling to disk beyond it.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from export_service.logic.formats import JsonLinesWriter

ROW_GROUP_ROWS = 122_880
MEMORY_LIMIT = "512MB"  # of the job workers' 2,048 MB
_INSTANT = re.compile(r"(^|_)(timestamp|at|time)$")
_INTEGER_NAMES = frozenset({"project_id", "ticket_id"})


def column_type(name: str) -> str:
    """The Parquet (DuckDB) type of an export column, from its name."""
    key = re.sub(r"\W+", "_", name.strip().lower())
    if key.endswith("_count") or key in _INTEGER_NAMES:
        return "BIGINT"
    if _INSTANT.search(key):
        return "TIMESTAMPTZ"
    return "VARCHAR"


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def typed_select(columns: Sequence[str], source: str) -> str:
    """``SELECT <each column cast to its type> FROM <source>`` (the source's columns are all strings)."""
    casts = []
    for name in columns:
        kind, column = column_type(name), _identifier(name)
        casts.append(f"CAST(NULLIF({column}, '') AS {kind}) AS {column}" if kind != "VARCHAR" else column)
    return f"SELECT {', '.join(casts)} FROM {source}"  # noqa: S608 - quoted identifiers over our own file


@contextmanager
def _engine(folder: Path) -> Iterator[Any]:
    import duckdb  # noqa: PLC0415 - in the DuckDB layer, carried by the job workers; only Parquet jobs load it

    connection = duckdb.connect(
        config={
            "memory_limit": MEMORY_LIMIT,
            "threads": 2,
            "temp_directory": str(folder / "spill"),
            "preserve_insertion_order": True,  # the file keeps the export's order
        }
    )
    try:
        connection.execute(f"SET home_directory = {_literal(str(folder))}")  # Lambda's home is read-only
        yield connection
    finally:
        connection.close()


def _copy_to(connection: Any, select: str, target: Path) -> int:
    options = f"FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE {ROW_GROUP_ROWS}"
    (count,) = connection.execute(f"COPY ({select}) TO {_literal(str(target))} ({options})").fetchone()
    return int(count)


def _upload_file(path: Path, upload: Any, chunk: int = 8 * 1024 * 1024) -> None:
    with path.open("rb") as handle:
        while data := handle.read(chunk):
            upload.write(data)


def write_part(pages: Iterable[Sequence[Mapping[str, Any]]], columns: Sequence[str], upload: Any) -> int:
    """One part file: the rows of ``pages`` as a Parquet file streamed into ``upload``; returns the row count."""
    with tempfile.TemporaryDirectory(prefix="parquet-part-") as name:
        folder = Path(name)
        rows_path, part_path = folder / "rows.jsonl", folder / "part.parquet"
        rows = 0
        with rows_path.open("w", encoding="utf-8") as out:
            writer = JsonLinesWriter(out, columns)
            for page in pages:
                writer.write_many(page)
                rows += len(page)
        strings = ", ".join(f"{_literal(column)}: 'VARCHAR'" for column in columns)
        source = f"read_json({_literal(str(rows_path))}, format='newline_delimited', columns={{{strings}}})"
        with _engine(folder) as connection:
            written = _copy_to(connection, typed_select(columns, source), part_path)
        if written != rows:
            raise RuntimeError(f"the Parquet part holds {written} rows, {rows} were read")
        rows_path.unlink()
        _upload_file(part_path, upload)
    return rows


def merge_parts(files: Any, part_keys: Sequence[tuple[str, int]], upload: Any, *, expected_rows: int) -> int:
    """One Parquet file from the part files (in order) streamed into ``upload``; returns its row count, which must be
    the parts' (else nothing is uploaded)."""
    with tempfile.TemporaryDirectory(prefix="parquet-merge-") as name:
        folder = Path(name)
        paths = []
        for index, (key, _rows) in enumerate(part_keys):
            path = folder / f"{index:05d}.parquet"
            with path.open("wb") as out:
                for data in files.chunks(key):
                    out.write(data)
            paths.append(path)
        target = folder / "export.parquet"
        listed = ", ".join(_literal(str(path)) for path in paths)
        with _engine(folder) as connection:
            rows = _copy_to(connection, f"SELECT * FROM read_parquet([{listed}])", target)  # noqa: S608 - our files
        if rows != expected_rows:
            raise RuntimeError(f"the merged Parquet file holds {rows} rows, its parts {expected_rows}")
        for path in paths:
            path.unlink()
        _upload_file(target, upload)
        shutil.rmtree(folder / "spill", ignore_errors=True)
    return rows
