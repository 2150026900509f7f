"""format=parquet export jobs end to end: the client starts a Parquet job and a CSV job of the same request, downloads
both verified against their manifests, and pyarrow (a reader independent of the DuckDB that wrote the file) reads the
Parquet file back: typed columns, and row by row the values of the CSV."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from tests.e2e.client_support import run_exports
from tests.e2e.conftest import ACME, Stack
from tests.helpers import csv_cell_of

pytestmark = pytest.mark.e2e

BOUNDS = ("--from", "2026-04-01T00:00:00Z", "--to", "2026-05-01T00:00:00Z")  # demo data only: the same rows twice


def _export(stack: Stack, folder: Path, dataset: str, *options: str) -> dict[str, Any]:
    bounds = BOUNDS if dataset != "incident-list" else ("from_time=" + BOUNDS[1], "to_time=" + BOUNDS[3])
    run = run_exports(stack.url, ACME, "export", dataset, *bounds, *options, "--json", cwd=folder)
    assert run.code == 0, run.stderr
    summary: dict[str, Any] = run.json
    assert (summary["path"], summary["verified"]) == ("job", "manifest")
    return summary


@pytest.mark.parametrize(
    ("dataset", "types"),
    [
        ("audit", {"timestamp": "timestamp[us, tz=UTC]", "checksum": "string", "metadata": "string"}),
        ("incident-events", {"created_at": "timestamp[us, tz=UTC]", "event_details": "string"}),
        ("incident-list", {"created_time": "timestamp[us, tz=UTC]", "project_id": "int64", "ticket_id": "int64"}),
    ],
)
def test_a_parquet_job_holds_the_csv_jobs_rows_with_typed_columns(stack: Stack, tmp_path, dataset, types):
    parquet = _export(stack, tmp_path, dataset, "-f", "parquet", "-o", "export.parquet")
    plain = _export(stack, tmp_path, dataset, "--job", "-o", "export.csv")
    assert parquet["file"].endswith("export.parquet") and parquet["rows"] == plain["rows"] > 0
    table = pq.read_table(tmp_path / "export.parquet")
    schema = {field.name: str(field.type) for field in table.schema}
    assert {name: schema[name] for name in types} == types
    with (tmp_path / "export.csv").open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        assert list(reader.fieldnames or []) == table.schema.names  # the same columns in the same order
        rows = list(reader)
    assert len(rows) == table.num_rows
    for number, (want, got) in enumerate(zip(rows, table.to_pylist(), strict=True)):
        assert {name: csv_cell_of(value) for name, value in got.items()} == want, number
    assert parquet["bytes"] * 2 < plain["bytes"]  # compressed columns


def test_parquet_is_for_jobs_a_synchronous_request_names_the_format(stack: Stack, http):
    response = http.get(stack.export_url, params={"format": "parquet"}, headers={"apikey": ACME}, timeout=60)
    assert response.status_code == 400 and response.json()["parameter"] == "format"
