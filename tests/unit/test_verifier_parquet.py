"""The offline verifier on Parquet audit files (a tenant's Parquet nights, a Parquet export job): each file is checked
by its SHA-256, bytes and rows (from its footer) against the signed manifest, and the chain of nights as for CSV; the
records' checksums, which the verifier recomputes from CSV and JSON, are named as not recomputed rather than failed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from export_service.logic.audit_records import seal_audit_record
from export_service.logic.manifest import chain_link, manifest_bytes, sign_manifest
from export_service.logic.parquet_files import write_part
from export_service.models.audit import AUDIT_COLUMNS, NewAuditRecord
from tests.unit.integrity_support import LocalSigner, key_file, manifest_for, run_verifier

pytestmark = pytest.mark.unit
SIGNER = LocalSigner()
SOURCE = "text/csv+audit_event-20261122"


class Upload:
    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: str | bytes) -> None:
        self.data += data.encode() if isinstance(data, str) else data


def _audit_parquet(count: int, seed: str) -> bytes:
    start = datetime(2026, 6, 1, tzinfo=UTC)
    rows = [
        seal_audit_record(
            NewAuditRecord(id=f"{seed}-{n}", timestamp=start + timedelta(minutes=n), action="user.login", user="ana")
        ).model_dump()
        for n in range(count)
    ]
    upload = Upload()
    assert write_part([rows], AUDIT_COLUMNS, upload) == count
    return bytes(upload.data)


def _nights(folder: Path, count: int = 2) -> list[str]:
    previous, nights = None, []
    for n in range(count):
        night = (datetime(2026, 6, 21, tzinfo=UTC) + timedelta(days=n)).date().isoformat()
        name = f"audit_event-20261122-{night}.parquet"
        data = _audit_parquet(4 + n, seed=night)
        (folder / name).write_bytes(data)
        manifest = sign_manifest(
            manifest_for(
                name,
                data,
                4 + n,
                fmt="parquet",
                source=SOURCE,
                export_type="nightly",
                export_id=f"nightly-{night}",
                night=night,
                chain=chain_link(previous),
            ),
            SIGNER,
        )
        (folder / f"manifest-{night}.json").write_bytes(manifest_bytes(manifest))
        previous = manifest
        nights.append(night)
    key_file(folder.parent / "keys.json", SIGNER)
    return nights


@pytest.fixture
def nightly(tmp_path: Path) -> tuple[Path, list[str]]:
    folder = tmp_path / "nightly"
    folder.mkdir()
    return folder, _nights(folder)


def test_parquet_nights_verify_as_a_chain_with_their_rows_counted(nightly):
    folder, nights = nightly
    code, out = run_verifier("chain", str(folder), "--keys", str(folder.parent / "keys.json"))
    assert code == 0, out
    assert f"audit_event-20261122-{nights[0]}.parquet" in out and "4 rows" in out and "5 rows" in out
    assert out.count("audit records in parquet: their checksums are not recomputed") == 2
    assert f"acme: 2 nights {nights[0]} .. {nights[1]} (sequence 1..2), each chained to the night before" in out


def test_a_parquet_file_with_its_manifest_verifies(nightly):
    folder, nights = nightly
    name = f"audit_event-20261122-{nights[1]}.parquet"
    manifest = folder / f"manifest-{nights[1]}.json"
    code, out = run_verifier(
        "file", str(folder / name), "--manifest", str(manifest), "--keys", str(folder.parent / "keys.json")
    )
    assert code == 0, out
    assert "ok      file" in out and "5 rows" in out and "checksums are not recomputed" in out


@pytest.mark.parametrize("where", [100, -20])  # in a column chunk; in the footer (which holds the row count)
def test_a_changed_parquet_file_fails_the_file_check(nightly, where):
    folder, nights = nightly
    path = folder / f"audit_event-20261122-{nights[0]}.parquet"
    data = bytearray(path.read_bytes())
    data[where] ^= 0x01
    path.write_bytes(bytes(data))
    code, out = run_verifier("chain", str(folder), "--keys", str(folder.parent / "keys.json"))
    assert code == 7, out
    assert f"FAILED  file      {path}: sha256:" in out
