"""The offline verifier (python -m export_client.verifier) on files it is handed: what it prints, the class of the
first failure as its exit code, and the file, row and check it names. End to end on the local stack:
tests/e2e/test_provable_exports_http.py."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from export_service.logic.audit_records import seal_audit_record
from export_service.logic.manifest import chain_link, manifest_bytes, sign_manifest
from export_service.models.audit import AUDIT_COLUMNS, NewAuditRecord
from tests.unit.integrity_support import LocalSigner, key_file, manifest_for, run_verifier

pytestmark = pytest.mark.unit
SIGNER = LocalSigner()


def _audit_csv(count: int, seed: str = "r") -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AUDIT_COLUMNS)
    start = datetime(2026, 6, 1, tzinfo=UTC)
    for n in range(count):
        record = seal_audit_record(
            NewAuditRecord(
                id=f"{seed}-{n}",
                timestamp=start + timedelta(minutes=n),
                action="user.login",
                user="ana@acme.example.com",
                resource="=SUM(1)" if n == 1 else "portal",
            )
        ).model_dump()
        writer.writerow(
            ["'" + record[c] if c == "resource" and record[c].startswith("=") else record[c] for c in AUDIT_COLUMNS]
        )
    return out.getvalue().encode("utf-8")


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    data = _audit_csv(5)
    (tmp_path / "audit.csv").write_bytes(data)
    (tmp_path / "manifest.json").write_bytes(manifest_bytes(sign_manifest(manifest_for("audit.csv", data, 5), SIGNER)))
    key_file(tmp_path / "keys.json", SIGNER)
    return tmp_path


def test_an_untouched_file_verifies_and_says_what_was_checked(delivery):
    code, out = run_verifier("file", str(delivery / "audit.csv"), "--keys", str(delivery / "keys.json"))
    assert code == 0, out
    assert "ok      signature" in out and "ok      file" in out and "5 rows" in out
    assert "ok      records" in out and "5 audit records, every checksum recomputed" in out


@pytest.mark.parametrize(
    ("tamper", "code", "named"),
    [
        ("flip", 7, "sha256"),
        ("drop", 7, "rows"),
        ("add", 7, "rows"),
        ("swap", 7, "sha256"),
        ("record_and_checksum", 7, "sha256"),
        ("resign", 11, "not in the key file"),
        ("edit_manifest", 11, "does not verify"),
    ],
)
def test_every_tamper_is_found_and_named(delivery, tamper, code, named):
    path, manifest_path = delivery / "audit.csv", delivery / "manifest.json"
    lines = path.read_bytes().split(b"\r\n")
    if tamper == "flip":
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif tamper == "drop":
        path.write_bytes(b"\r\n".join(lines[:2] + lines[3:]))
    elif tamper == "add":
        path.write_bytes(b"\r\n".join([*lines[:-1], lines[1], b""]))
    elif tamper == "swap":
        path.write_bytes(b"\r\n".join([lines[0], lines[2], lines[1], *lines[3:]]))
    elif tamper == "record_and_checksum":
        rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
        rows[2]["user"] = "mallory@acme.example.com"
        from export_client.verifier.canonical import record_checksum  # noqa: PLC0415

        rows[2]["checksum"] = record_checksum(rows[2])  # consistent: only the manifest can tell
        out = io.StringIO(newline="")
        writer = csv.DictWriter(out, fieldnames=list(AUDIT_COLUMNS), lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(rows)
        path.write_text(out.getvalue(), encoding="utf-8", newline="")
    elif tamper == "resign":
        forged = json.loads(manifest_path.read_text())
        forged["files"][0]["rows"] = 99
        manifest_path.write_bytes(manifest_bytes(sign_manifest(forged, LocalSigner("arn:aws:kms:xx:1:key/mallory"))))
    elif tamper == "edit_manifest":
        edited = json.loads(manifest_path.read_text())
        edited["files"][0]["rows"] = 4
        manifest_path.write_text(json.dumps(edited))
    exit_code, out = run_verifier("file", str(path), "--keys", str(delivery / "keys.json"))
    assert exit_code == code, out
    assert "FAILED" in out and named in out
    assert str(path) in out or str(manifest_path) in out


def test_a_swapped_manifest_is_refused(delivery, tmp_path_factory):
    other_dir = tmp_path_factory.mktemp("other")
    other = _audit_csv(5, seed="other")
    manifest = sign_manifest(manifest_for("audit.csv", other, 5), SIGNER)
    (other_dir / "manifest.json").write_bytes(manifest_bytes(manifest))
    code, out = run_verifier(
        "file",
        str(delivery / "audit.csv"),
        "--manifest",
        str(other_dir / "manifest.json"),
        "--keys",
        str(delivery / "keys.json"),
    )
    assert code == 7 and "sha256" in out


def test_records_alone_name_the_row_and_the_check(delivery):
    path = delivery / "audit.csv"
    path.write_bytes(path.read_bytes().replace(b"ana@acme", b"eve@acme", 1))
    code, out = run_verifier("records", str(path))
    assert code == 12, out
    assert f"{path} row 1 (id r-0)" in out and "checksum" in out


def test_a_neutralised_cell_still_verifies(delivery):
    assert b"'=SUM(1)" in (delivery / "audit.csv").read_bytes()
    assert run_verifier("records", str(delivery / "audit.csv"))[0] == 0


def _nights(folder: Path, count: int = 6) -> list[str]:
    previous = None
    names = []
    for n in range(count):
        night = (datetime(2026, 6, 21, tzinfo=UTC) + timedelta(days=n)).date().isoformat()
        name = f"audit_event-20261122-{night}.csv"
        data = _audit_csv(3, seed=night)
        (folder / name).write_bytes(data)
        manifest = sign_manifest(
            manifest_for(
                name,
                data,
                3,
                source="text/csv+audit_event-20261122",
                export_type="nightly",
                export_id=f"nightly-{night}",
                night=night,
                chain=chain_link(previous),
            ),
            SIGNER,
        )
        (folder / f"manifest-{night}.json").write_bytes(manifest_bytes(manifest))
        previous = manifest
        names.append(night)
    key_file(folder.parent / "keys.json", SIGNER)
    return names


@pytest.fixture
def nightly(tmp_path: Path) -> tuple[Path, list[str]]:
    folder = tmp_path / "nightly"
    folder.mkdir()
    return folder, _nights(folder)


def _chain(folder: Path, *extra: str) -> tuple[int, str]:
    return run_verifier("chain", str(folder), "--keys", str(folder.parent / "keys.json"), *extra)


def test_six_chained_nights_verify(nightly):
    folder, nights = nightly
    code, out = _chain(folder)
    assert code == 0, out
    assert f"acme: 6 nights {nights[0]} .. {nights[-1]} (sequence 1..6), each chained to the night before" in out


def test_a_deleted_night_is_named(nightly):
    folder, nights = nightly
    for path in folder.glob(f"*{nights[2]}*"):
        path.unlink()
    code, out = _chain(folder)
    assert code == 13, out
    assert f"acme night {nights[2]}: chain: missing: night {nights[3]} (sequence 4) chains to it" in out


def test_a_deleted_first_night_and_a_missing_last_night_are_named(nightly):
    folder, nights = nightly
    for path in folder.glob(f"*{nights[0]}*"):
        path.unlink()
    code, out = _chain(folder)
    assert code == 13 and f"acme night {nights[0]}: chain: missing" in out
    assert _chain(folder, "--partial")[0] == 0
    code, out = _chain(folder, "--partial", "--through", "2026-06-30")
    assert code == 13 and "missing: the folder ends before 2026-06-30" in out


def test_two_nights_manifests_swapped_are_a_reorder(nightly):
    folder, nights = nightly
    a, b = folder / f"manifest-{nights[1]}.json", folder / f"manifest-{nights[2]}.json"
    a_bytes = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(a_bytes)
    code, out = _chain(folder)
    assert code == 13, out
    assert f"reordered: the file is named for night {nights[1]} but holds night {nights[2]}'s manifest" in out


def test_a_replaced_night_is_named(nightly, tmp_path):
    folder, nights = nightly
    # night 3 made again (new data, validly signed): its files and manifest agree, the chain does not
    data = _audit_csv(2, seed="replacement")
    name = f"audit_event-20261122-{nights[2]}.csv"
    (folder / name).write_bytes(data)
    previous = json.loads((folder / f"manifest-{nights[1]}.json").read_text())
    manifest = sign_manifest(
        manifest_for(
            name,
            data,
            2,
            source="text/csv+audit_event-20261122",
            export_type="nightly",
            export_id="x",
            night=nights[2],
            chain=chain_link(previous),
        ),
        SIGNER,
    )
    (folder / f"manifest-{nights[2]}.json").write_bytes(manifest_bytes(manifest))
    code, out = _chain(folder)
    assert code == 13, out
    assert f"acme night {nights[2]} (manifest-{nights[2]}.json): chain: replaced" in out


def test_a_deleted_file_of_a_night_is_named(nightly):
    folder, nights = nightly
    (folder / f"audit_event-20261122-{nights[4]}.csv").unlink()
    code, out = _chain(folder)
    assert code == 7 and f"audit_event-20261122-{nights[4]}.csv (night {nights[4]}): missing" in out


def test_a_copied_night_is_a_duplicate(nightly, tmp_path):
    folder, nights = nightly
    shutil.copy(folder / f"manifest-{nights[3]}.json", folder / "copy.json")
    code, out = _chain(folder)
    assert code == 13 and "replaced: two manifests hold this place" in out


def test_unreadable_input_is_exit_2(tmp_path):
    code, out = run_verifier("file", str(tmp_path / "absent.csv"), "--keys", str(tmp_path / "keys.json"))
    assert code == 2 and "no such file" in out
