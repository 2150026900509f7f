"""`exports nightly sync` and `exports nightly stitch` end to end: nights fired on the local stack with the documented
command (`python -m devtools.nightly ... fire --time ...`), the installed client keeping a folder of them.

A tenant of its own, enabled for the module and disabled after it (firing a night runs every enabled tenant).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devtools.generate import audit_records
from devtools.generate_incidents import incident_bundles
from devtools.provision import local_refs
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.dal.export_request_store import ExportRequestStore
from export_service.dal.incident_store import IncidentStore
from export_service.logic.api_keys import mint_api_key
from export_service.logic.audit_records import write_audit_records
from export_service.logic.incident_records import write_incident_bundles
from export_service.models.api_keys import Permission
from tests.e2e.client_support import faulty_proxy, run_exports
from tests.e2e.conftest import ROOT, Stack

pytestmark = pytest.mark.e2e

TENANT = "client-nightly"
ENABLED = datetime(2026, 6, 5, tzinfo=UTC)
NIGHTS = [datetime(2026, 6, 6 + n, 2, 30, tzinfo=UTC) for n in range(3)]
STATE = ".exports-nightly.json"


def _fire(stack: Stack, moment: datetime) -> None:
    command = [sys.executable, "-m", "devtools.nightly", "--dynamodb-endpoint", stack.dynamodb_endpoint]
    command += ["--moto-endpoint", stack.moto_endpoint, "fire", "--time", moment.isoformat()]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    mine = [json.loads(line) for line in done.stdout.splitlines() if line.startswith('{"tenant": "client-nightly"')]
    assert [line["status"] for line in mine] == ["SUCCEEDED"], done.stdout[-3000:]


@pytest.fixture(scope="module")
def token(stack: Stack) -> Iterator[str]:
    """The tenant's key, data written around the nights, and the first two nights fired."""
    dynamodb, refs = stack.dynamodb(), local_refs()
    key, secret_token = mint_api_key(
        TENANT, [Permission.EXPORTS_READ, Permission.AUDIT_READ, Permission.INCIDENTS_READ], ENABLED
    )
    ApiKeyStore(dynamodb, refs["ApiKeysTable"]).put(key)
    nightly = ExportRequestStore(dynamodb, refs["ExportRequestsTable"])
    nightly.enable(TENANT, ENABLED)
    try:
        write_audit_records(
            AuditStore(dynamodb, refs["AuditTable"]), TENANT, audit_records(TENANT, 90, ENABLED, NIGHTS[2], 3)
        )
        bundles = incident_bundles(TENANT, 12, ENABLED, NIGHTS[2], 3)
        write_incident_bundles(IncidentStore(dynamodb, refs["IncidentsTable"]), TENANT, bundles)
        for night in NIGHTS[:2]:
            _fire(stack, night)
        yield secret_token
    finally:
        nightly.disable(TENANT)


def _csvs(folder: Path) -> dict[str, float]:
    return {path.name: path.stat().st_mtime for path in sorted(folder.glob("*.csv"))}


def test_sync_twice_then_a_new_night_then_stitch(stack: Stack, token: str, tmp_path: Path):
    folder = tmp_path / "nightly"
    first = run_exports(stack.url, token, "nightly", "sync", str(folder), "--json", cwd=tmp_path)
    assert first.code == 0, first.stderr
    assert len(first.json["downloaded"]) == 12 and first.json["failed"] == []
    files = _csvs(folder)
    assert len(files) == 12 and {name[-14:-4] for name in files} == {"2026-06-06", "2026-06-07"}
    state = json.loads((folder / STATE).read_text())
    assert sum(item["records"] for item in state["files"].values()) == first.json["records"] > 0

    second = run_exports(stack.url, token, "nightly", "sync", str(folder), cwd=tmp_path)
    assert second.code == 0, second.stderr
    assert "nothing new" in second.stdout
    assert _csvs(folder) == files  # not one file written again
    assert json.loads((folder / STATE).read_text()) == state

    _fire(stack, NIGHTS[2])
    third = run_exports(stack.url, token, "nightly", "sync", str(folder), "--json", cwd=tmp_path)
    assert third.code == 0, third.stderr
    assert sorted(name[-14:-4] for name in third.json["downloaded"]) == ["2026-06-08"] * 6

    out = tmp_path / "stitched"
    stitched = run_exports(stack.url, token, "nightly", "stitch", str(folder), "-o", str(out), "--json", cwd=tmp_path)
    assert stitched.code == 0, stitched.stderr
    by_source = {item["source"]: item for item in stitched.json["files"]}
    assert len(by_source) == 6
    for item in by_source.values():
        with Path(item["file"]).open(encoding="utf-8", newline="") as handle:
            ids = [row["id"] for row in csv.DictReader(handle)]
        assert len(ids) == len(set(ids)) == item["rows_written"] <= item["rows_read"]
        assert item["inputs"] == 3 and Path(item["file"]).name.endswith("-2026-06-06_2026-06-08.csv")
    # the 90 audit records written between enabling and the third night, each once (the windows overlap by an hour)
    assert by_source["text/csv+audit_event-20261122"]["rows_written"] == 90


def test_a_file_corrupted_in_transit_is_refused_and_the_next_run_fetches_only_it(stack: Stack, token: str, tmp_path):
    folder = tmp_path / "nightly"
    with faulty_proxy() as proxy:
        proxy.always["/retrospective-"] = "flip"
        broken = run_exports(stack.url, token, "nightly", "sync", str(folder), "--json", proxy=proxy, cwd=tmp_path)
    assert broken.code == 7, broken.stderr
    failed = {item["file"][-14:-4] for item in broken.json["failed"]}
    assert failed and all(item["file"].startswith("retrospective-") for item in broken.json["failed"])
    assert "does not match its listing" in broken.stderr
    assert not any(name.startswith("retrospective-") for name in _csvs(folder))
    assert not list(folder.glob(".*.part"))
    kept = _csvs(folder)

    healed = run_exports(stack.url, token, "nightly", "sync", str(folder), "--json", cwd=tmp_path)
    assert healed.code == 0, healed.stderr
    assert {name[-14:-4] for name in healed.json["downloaded"]} == failed
    assert all(name.startswith("retrospective-") for name in healed.json["downloaded"])
    assert {name: mtime for name, mtime in _csvs(folder).items() if name in kept} == kept
