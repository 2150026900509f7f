"""Parquet nightly files end to end on the local stack: two tenants hold the same rows, one with nightly exports in
Parquet (turned on with the documented command, `python -m devtools.nightly enable --format parquet`), one in CSV;
two nights are fired with the documented command (the schedule's EventBridge event to the dispatcher, the real state
machine). Each Parquet file is downloaded through the listing's presigned link, read back by pyarrow (a reader
independent of the DuckDB that wrote it) and compared row by row with the CSV file of the same night and source. The
client keeps a folder of the Parquet nights (each verified against the listing), refuses to stitch them, the offline
verifier checks them as a signed chain, and the DuckDB query docs/nightly.md gives for them returns what the client's
stitch makes of the CSV nights.
"""

from __future__ import annotations

import csv
import hashlib
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest
import requests

from devtools.generate import audit_records
from devtools.generate_incidents import incident_bundles
from devtools.provision import local_refs
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.dal.export_request_store import ExportRequestStore
from export_service.dal.incident_store import IncidentStore
from export_service.logic.api_keys import mint_api_key
from export_service.logic.audit_records import write_audit_records
from export_service.logic.incident_records import export_row, write_incident_bundles
from export_service.models.api_keys import Permission
from export_service.models.incidents import DATASETS, Dataset
from export_service.models.nightly import AUDIT_SOURCE, NIGHTLY_SOURCES, SOURCE_NAMES
from export_service.timefmt import format_instant
from tests.e2e.client_support import run_exports
from tests.e2e.conftest import ROOT, Stack
from tests.e2e.provable_support import verifier
from tests.helpers import csv_cell_of

pytestmark = pytest.mark.e2e

PARQUET, PLAIN = "nightly-parquet-e2e", "nightly-parquet-e2e-csv"
ENABLED = datetime(2026, 7, 10, tzinfo=UTC)
NIGHTS = [datetime(2026, 7, 11, 2, 30, tzinfo=UTC), datetime(2026, 7, 12, 2, 30, tzinfo=UTC)]
INCIDENTS = DATASETS[Dataset.INCIDENTS].source
INSTANT = "timestamp[us, tz=UTC]"


def _nightly_command(stack: Stack, *arguments: str) -> str:
    command = [sys.executable, "-m", "devtools.nightly", "--dynamodb-endpoint", stack.dynamodb_endpoint]
    command += ["--moto-endpoint", stack.moto_endpoint, *arguments]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _fire(stack: Stack, moment: datetime) -> None:
    out = _nightly_command(stack, "fire", "--time", moment.isoformat())
    for tenant in (PARQUET, PLAIN):
        assert f'{{"tenant": "{tenant}", "outcome": "started"' in out, out[-3000:]
        assert re.search(rf'"tenant": "{tenant}".*"status": "SUCCEEDED"', out), out[-3000:]


@pytest.fixture(scope="module")
def tokens(stack: Stack) -> Iterator[dict[str, str]]:
    """Both tenants' keys, the same rows written for each, and the two nights fired; nightly exports off after."""
    dynamodb, refs = stack.dynamodb(), local_refs()
    keys = ApiKeyStore(dynamodb, refs["ApiKeysTable"])
    tokens = {}
    for tenant in (PARQUET, PLAIN):
        key, token = mint_api_key(
            tenant, [Permission.EXPORTS_READ, Permission.AUDIT_READ, Permission.INCIDENTS_READ], ENABLED
        )
        keys.put(key)
        tokens[tenant] = token
    since = format_instant(ENABLED)
    out = _nightly_command(stack, "enable", "--tenant", PARQUET, "--since", since, "--format", "parquet")
    assert out == f"nightly exports on for {PARQUET} (first window from {since}; parquet files)\n"
    assert _nightly_command(stack, "enable", "--tenant", PLAIN, "--since", since).endswith("; csv files)\n")
    nightly = ExportRequestStore(dynamodb, refs["ExportRequestsTable"])
    try:
        audit = list(audit_records(PARQUET, 120, ENABLED, NIGHTS[1], 21))
        bundles = list(incident_bundles(PARQUET, 16, ENABLED - timedelta(days=2), NIGHTS[1], 21))
        incidents = IncidentStore(dynamodb, refs["IncidentsTable"])
        for tenant in (PARQUET, PLAIN):
            write_audit_records(AuditStore(dynamodb, refs["AuditTable"]), tenant, audit)
            write_incident_bundles(incidents, tenant, bundles)
        _fire(stack, NIGHTS[0])
        # between the nights, three incidents change (the second night has their new state; stitching keeps it)
        changed = [
            {
                **export_row(Dataset.INCIDENTS, bundle.incident),
                "name": f"renamed {n}",
                "updated_at": format_instant(NIGHTS[0] + timedelta(hours=2, minutes=n)),
            }
            for n, bundle in enumerate(bundles[:3])
        ]
        for tenant in (PARQUET, PLAIN):
            incidents.put_rows(tenant, Dataset.INCIDENTS, ((row, {}) for row in changed))
        _fire(stack, NIGHTS[1])
        yield tokens
    finally:
        for tenant in (PARQUET, PLAIN):
            nightly.disable(tenant)


def _listing(stack: Stack, token: str) -> dict[tuple[str, str], dict[str, Any]]:
    response = requests.get(f"{stack.url}/v1/export-requests", headers={"apikey": token}, timeout=60)
    assert response.status_code == 200, response.text
    return {(entry["window_ends_at"][:10], entry["source"]): entry for entry in response.json()["data"]}


def _download(entry: dict[str, Any], path: Path) -> requests.Response:
    response = requests.get(entry["url"], timeout=60)
    assert response.status_code == 200, response.text[:300]
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
    path.write_bytes(response.content)
    return response


def test_each_parquet_file_holds_the_csv_files_rows_typed(stack: Stack, tokens: dict[str, str], tmp_path: Path):
    typed, plain = _listing(stack, tokens[PARQUET]), _listing(stack, tokens[PLAIN])
    nights = [f"{night:%Y-%m-%d}" for night in NIGHTS]
    assert sorted(typed) == sorted(plain) == sorted((night, source) for night in nights for source in SOURCE_NAMES)
    compared = 0
    for (night, source), entry in sorted(typed.items()):
        assert entry["format"] == "parquet" and plain[(night, source)]["format"] == "csv"
        name = f"{NIGHTLY_SOURCES[source].slug}-{night}"
        response = _download(entry, tmp_path / f"{name}.parquet")
        assert response.headers["Content-Type"] == "application/vnd.apache.parquet"
        assert f'filename="{name}.parquet"' in response.headers.get("Content-Disposition", "")
        _download(plain[(night, source)], tmp_path / f"{name}.csv")
        table = pq.read_table(tmp_path / f"{name}.parquet")
        assert table.num_rows == entry["records"] == plain[(night, source)]["records"]
        types = {field.name: str(field.type) for field in table.schema}
        instants = {"timestamp"} if source == AUDIT_SOURCE else {"created_at", "updated_at"}
        assert {types[column] for column in instants} == {INSTANT}  # timestamps as timestamps
        assert types["id"] == "string"
        if source == AUDIT_SOURCE:
            assert types["metadata"] == types["checksum"] == "string"  # a JSON field as a string
        with (tmp_path / f"{name}.csv").open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            assert list(reader.fieldnames or []) == table.schema.names  # the same columns in the same order
            rows = list(reader)
        for number, (want, got) in enumerate(zip(rows, table.to_pylist(), strict=True)):
            assert {column: csv_cell_of(value) for column, value in got.items()} == want, (name, number)
            assert all(isinstance(got[column], datetime) for column in instants if got[column] is not None)
        compared += len(rows)
    assert compared > 200
    assert typed[(nights[1], INCIDENTS)]["records"] >= 3  # the changed incidents


def test_the_client_syncs_verified_parquet_nights_and_refuses_to_stitch_them(
    stack: Stack, tokens: dict[str, str], tmp_path: Path
):
    folder = tmp_path / "nightly"
    first = run_exports(stack.url, tokens[PARQUET], "nightly", "sync", str(folder), "--json", cwd=tmp_path)
    assert first.code == 0, first.stderr
    assert len(first.json["downloaded"]) == 12 and first.json["failed"] == []
    assert sorted(path.name for path in folder.iterdir() if not path.name.startswith(".")) == sorted(
        f"{NIGHTLY_SOURCES[source].slug}-{night:%Y-%m-%d}.parquet" for night in NIGHTS for source in SOURCE_NAMES
    )
    listed = _listing(stack, tokens[PARQUET])
    assert first.json["records"] == sum(entry["records"] for entry in listed.values())
    again = run_exports(stack.url, tokens[PARQUET], "nightly", "sync", str(folder), cwd=tmp_path)
    assert again.code == 0 and "nothing new" in again.stdout, again.stderr

    stitched = run_exports(stack.url, tokens[PARQUET], "nightly", "stitch", str(folder), "-o", "out", cwd=tmp_path)
    assert stitched.code == 5, stitched.stderr
    assert "nightly stitch merges CSV files" in stitched.stderr and "docs/nightly.md" in stitched.stderr
    assert not (tmp_path / "out").exists()


def test_parquet_nights_verify_offline_as_a_signed_chain(stack: Stack, tokens: dict[str, str], tmp_path: Path):
    folder = tmp_path / "delivery"
    folder.mkdir()
    for (night, source), entry in _listing(stack, tokens[PARQUET]).items():
        _download(entry, folder / f"{NIGHTLY_SOURCES[source].slug}-{night}.parquet")
        if not (folder / f"manifest-{night}.json").exists():
            manifest = requests.get(entry["manifest_url"], timeout=60)
            assert manifest.status_code == 200
            (folder / f"manifest-{night}.json").write_bytes(manifest.content)
            assert manifest.json()["format"] == "parquet"
    keys = requests.get(f"{stack.url}/v1/manifest-keys", headers={"apikey": tokens[PARQUET]}, timeout=30)
    (tmp_path / "keys.json").write_text(keys.text)
    done = verifier("chain", folder, "--keys", tmp_path / "keys.json", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{PARQUET}: 2 nights 2026-07-11 .. 2026-07-12" in done.stdout
    assert done.stdout.count("ok      file") == 12
    assert "audit records in parquet: their checksums are not recomputed" in done.stdout

    path = folder / "incident-20220525-2026-07-12.parquet"  # one byte changed: the chain no longer verifies
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    broken = verifier("chain", folder, "--keys", tmp_path / "keys.json", cwd=tmp_path)
    assert broken.returncode == 7 and f"FAILED  file      {path}: sha256" in broken.stdout


def _documented_query() -> str:
    """The DuckDB query docs/nightly.md gives for deduplicating a source's Parquet nights."""
    text = (ROOT / "docs" / "nightly.md").read_text(encoding="utf-8")
    found = re.search(r"```sql\n(.+?)```", text, re.DOTALL)
    assert found, "docs/nightly.md shows no SQL block"
    return found.group(1)


def test_the_documented_duckdb_query_over_parquet_nights_equals_the_clients_stitch_of_csv_nights(
    stack: Stack, tokens: dict[str, str], tmp_path: Path
):
    for tenant in (PARQUET, PLAIN):
        synced = run_exports(stack.url, tokens[tenant], "nightly", "sync", str(tmp_path / tenant), cwd=tmp_path)
        assert synced.code == 0, synced.stderr
    stitched = run_exports(
        stack.url,
        tokens[PLAIN],
        "nightly",
        "stitch",
        str(tmp_path / PLAIN),
        "-o",
        str(tmp_path / "out"),
        "--json",
        cwd=tmp_path,
    )
    assert stitched.code == 0, stitched.stderr
    (incidents,) = [item for item in stitched.json["files"] if item["source"] == INCIDENTS]
    with Path(incidents["file"]).open(encoding="utf-8", newline="") as handle:
        want = list(csv.DictReader(handle))
    assert incidents["rows_written"] < incidents["rows_read"]  # the nights overlapped: the stitch removed copies
    assert {row["name"] for row in want} >= {"renamed 0", "renamed 1", "renamed 2"}  # the latest copy won

    query = _documented_query().replace("nightly/", f"{tmp_path / PARQUET}/")
    connection = duckdb.connect()
    cursor = connection.execute(query)
    columns = [column[0] for column in cursor.description]
    got = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    assert columns == list(DATASETS[Dataset.INCIDENTS].columns)
    assert [{column: csv_cell_of(value) for column, value in row.items()} for row in got] == want
