"""Parquet files of export jobs: typed columns from the column names, parts merged in order, read back by pyarrow
(an independent reader) value for value."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from export_service.logic.parquet_files import column_type, merge_parts, typed_select, write_part
from export_service.models.audit import AUDIT_COLUMNS
from export_service.models.incidents import DATASETS, Dataset

pytestmark = pytest.mark.unit

COLUMNS = ("id", "created_at", "updated_at", "project_id", "name", "tags", "Incident Count", "Created At", "localTime")


class Upload:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: str | bytes) -> None:
        self.data += data.encode() if isinstance(data, str) else data


class Files:
    def __init__(self, parts: dict[str, bytes]) -> None:
        self.parts = parts

    def chunks(self, key: str, size: int = 1024) -> Any:
        body = self.parts[key]
        yield from (body[at : at + size] for at in range(0, len(body), size))


def _row(n: int, **fields: str) -> dict[str, str]:
    row = {
        "id": f"r{n:04d}",
        "created_at": f"2026-05-{n % 28 + 1:02d}T02:02:56.969Z",
        "updated_at": "" if n % 3 else "2026-06-01T00:00:00.000Z",
        "project_id": str(n % 5),
        "name": "=SUM(A1)" if n == 0 else f'name "{n}", ünïcödé\nline',
        "tags": '["a","b"]',
        "Incident Count": str(n),
        "Created At": "2026-05-01T00:00:00.000Z",
        "localTime": "1 mai 2026, 02:02:56 +00:00",
    }
    return {**row, **fields}


def _table(data: bytes, tmp_path) -> pa.Table:
    path = tmp_path / "file.parquet"
    path.write_bytes(bytes(data))
    return pq.read_table(path)


def test_types_come_from_column_names():
    assert {name: column_type(name) for name in COLUMNS} == {
        "id": "VARCHAR",
        "created_at": "TIMESTAMPTZ",
        "updated_at": "TIMESTAMPTZ",
        "project_id": "BIGINT",
        "name": "VARCHAR",
        "tags": "VARCHAR",  # JSON fields stay strings
        "Incident Count": "BIGINT",
        "Created At": "TIMESTAMPTZ",
        "localTime": "VARCHAR",  # a rendering in a locale, not an instant
    }
    assert column_type("timestamp") == column_type("last_upload_timestamp") == "TIMESTAMPTZ"
    assert [column_type(c) for c in AUDIT_COLUMNS].count("TIMESTAMPTZ") == 1
    events = DATASETS[Dataset.INCIDENT_EVENTS].columns
    assert {c for c in events if column_type(c) != "VARCHAR"} == {"created_at", "updated_at"}
    assert '"Incident Count"' in typed_select(["Incident Count"], "t")


def test_parts_are_written_typed_and_merged_in_order(tmp_path):
    rows = [_row(n) for n in range(25)]
    uploads = [Upload() for _ in range(3)]
    counts = [
        write_part([rows[:10], [], rows[10:12]], COLUMNS, uploads[0]),
        write_part([], COLUMNS, uploads[1]),  # a part without rows still carries the schema
        write_part([rows[12:]], COLUMNS, uploads[2]),
    ]
    assert counts == [12, 0, 13]
    files = Files({f"p{i}": bytes(upload.data) for i, upload in enumerate(uploads)})
    merged = Upload()
    assert merge_parts(files, [("p0", 12), ("p1", 0), ("p2", 13)], merged, expected_rows=25) == 25
    table = _table(merged.data, tmp_path)
    schema = {field.name: str(field.type) for field in table.schema}
    assert schema["created_at"] == "timestamp[us, tz=UTC]" and schema["project_id"] == "int64"
    assert schema["Incident Count"] == "int64" and schema["name"] == schema["tags"] == "string"
    got = table.to_pylist()
    assert [row["id"] for row in got] == [row["id"] for row in rows]
    first = got[0]
    assert first["created_at"] == datetime(2026, 5, 1, 2, 2, 56, 969000, tzinfo=UTC)
    assert first["updated_at"] == datetime(2026, 6, 1, tzinfo=UTC) and got[1]["updated_at"] is None
    assert first["name"] == "=SUM(A1)"  # the value itself: a Parquet file is not a spreadsheet
    assert got[5]["name"] == rows[5]["name"] and got[5]["Incident Count"] == 5 and got[5]["project_id"] == 0
    assert pq.ParquetFile(tmp_path / "file.parquet").metadata.num_rows == 25


def test_an_export_without_rows_is_a_file_with_the_schema(tmp_path):
    part = Upload()
    assert write_part([[]], COLUMNS, part) == 0
    merged = Upload()
    assert merge_parts(Files({"p": bytes(part.data)}), [("p", 0)], merged, expected_rows=0) == 0
    table = _table(merged.data, tmp_path)
    assert table.num_rows == 0 and table.schema.names == list(COLUMNS)


def test_a_value_that_is_not_of_its_columns_type_fails_the_part():
    with pytest.raises(Exception, match=r"(?i)conversion|could not convert|invalid"):
        write_part([[_row(1, created_at="yesterday")]], COLUMNS, Upload())


def test_a_merge_that_does_not_hold_the_parts_rows_uploads_nothing():
    part = Upload()
    write_part([[_row(1)]], COLUMNS, part)
    merged = Upload()
    with pytest.raises(RuntimeError, match="holds 1 rows, its parts 2"):
        merge_parts(Files({"p": bytes(part.data)}), [("p", 2)], merged, expected_rows=2)
    assert merged.data == bytearray()
