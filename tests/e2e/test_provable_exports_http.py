"""Provable exports end to end on the local stack: deliveries made over HTTP (a synchronous answer with its signed
manifest, an export job, six chained nights), checked by the offline verifier as an auditor runs it (no AWS
credentials, no service), then tampered with, case by case: every case is found, untouched deliveries verify. Also
the completion events a consumer receives, and the export actions in the tenant's own audit log."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from devtools.provision import local_refs
from export_service.dal.api_key_store import ApiKeyStore
from export_service.dal.audit_store import AuditStore
from export_service.dal.export_request_store import ExportRequestStore
from export_service.logic.api_keys import mint_api_key
from export_service.logic.audit_records import write_audit_records
from export_service.models.api_keys import Permission
from tests.e2e.conftest import Stack
from tests.e2e.provable_support import (
    ENABLED,
    KEY_ID,
    NIGHTS,
    SECRET,
    TENANT,
    TOKEN,
    add_a_row,
    aws,
    copy_of,
    drop_a_row,
    edit_a_record_and_its_checksum,
    fire,
    flip_one_byte,
    listen_for_events,
    night_name,
    nightly_window_records,
    received_events,
    reorder_two_rows,
    resign,
    verifier,
)

pytestmark = pytest.mark.e2e
HEADERS = {"apikey": TOKEN}
SIGNATURE, FILE, RECORDS, CHAIN = 11, 7, 12, 13


def _download(url: str, path: Path) -> Path:
    response = requests.get(url, timeout=60)
    assert response.status_code == 200, response.text[:300]
    path.write_bytes(response.content)
    return path


def _wait(http: requests.Session, stack: Stack, location: str) -> dict[str, Any]:
    import time  # noqa: PLC0415

    deadline = time.monotonic() + 180
    while True:
        body = http.get(f"{stack.url}{location}", headers=HEADERS, timeout=30).json()
        if body["status"]["state"] in ("succeeded", "failed") or time.monotonic() > deadline:
            return body
        time.sleep(0.5)


@pytest.fixture(scope="module")
def delivered(stack: Stack, http: requests.Session, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    """The tenant's deliveries, saved as an auditor receives them, and the events sent meanwhile."""
    root = tmp_path_factory.mktemp("delivery")
    refs, dynamodb = local_refs(), aws(stack, "dynamodb")
    queue = listen_for_events(stack)
    key, _ = mint_api_key(
        TENANT,
        [Permission.AUDIT_READ, Permission.INCIDENTS_READ, Permission.EXPORTS_READ, Permission.EXPORTS_WRITE],
        ENABLED,
        key_id=KEY_ID,
        secret=SECRET,
    )
    ApiKeyStore(dynamodb, refs["ApiKeysTable"]).put(key)
    audit = AuditStore(dynamodb, refs["AuditTable"])
    ExportRequestStore(dynamodb, refs["ExportRequestsTable"]).enable(TENANT, ENABLED)
    starts = [ENABLED, *NIGHTS[:-1]]
    for number, (start, end) in enumerate(zip(starts, NIGHTS, strict=True)):
        write_audit_records(audit, TENANT, nightly_window_records(40, start, end, seed=100 + number))

    # the public keys, saved once
    keys = root / "keys.json"
    answer = http.get(f"{stack.url}/v1/manifest-keys", headers=HEADERS, timeout=30)
    assert answer.status_code == 200, answer.text
    keys.write_text(answer.text)

    # a synchronous answer with its manifest (identity coding, as curl sends by default): file, headers, manifest
    sync = root / "sync"
    sync.mkdir()
    params = {"from": "2026-07-01", "to": "2026-07-04", "manifest": "true"}
    response = http.get(
        f"{stack.url}/v1/audit/export", params=params, headers={**HEADERS, "Accept-Encoding": "identity"}, timeout=60
    )
    assert response.status_code == 200, response.text
    name = re.search(r'filename="([^"]+)"', response.headers["Content-Disposition"]).group(1)
    (sync / name).write_bytes(response.content)
    (sync / "headers.txt").write_text("".join(f"{k}: {v}\n" for k, v in response.headers.items()))
    link = re.match(r"<(.+)>", response.headers["Link"]).group(1)
    _download(link, sync / f"{name}.manifest.json")

    # an export job (JSON Lines)
    job_dir = root / "job"
    job_dir.mkdir()
    started = http.post(
        f"{stack.url}/v1/exports",
        headers=HEADERS,
        timeout=60,
        json={"dataset": "audit", "format": "jsonl", "from": "2026-07-01", "to": "2026-07-08"},
    )
    assert started.status_code == 202, started.text
    job = _wait(http, stack, started.headers["Location"])
    assert job["status"]["state"] == "succeeded", job
    _download(job["status"]["downloadUrl"], job_dir / job["metadata"]["filename"])
    _download(job["status"]["manifestUrl"], job_dir / "manifest.json")

    # six nights, then every night's files and manifest through the listing's links
    for night in NIGHTS:
        fire(stack, night)
    nightly = root / "nightly"
    nightly.mkdir()
    listing = http.get(f"{stack.url}/v1/export-requests", headers=HEADERS, timeout=60).json()["data"]
    for entry in listing:
        night = entry["window_ends_at"][:10]
        slug = entry["source"].split("+", 1)[1]
        _download(entry["url"], nightly / f"{slug}-{night}.csv")
        if not (nightly / f"manifest-{night}.json").exists():
            _download(entry["manifest_url"], nightly / f"manifest-{night}.json")
    yield {
        "root": root,
        "keys": keys,
        "sync": sync / name,
        "sync_response": response,
        "job": job,
        "job_file": job_dir / job["metadata"]["filename"],
        "nightly": nightly,
        "listing": listing,
        "events": received_events(stack, queue),
    }


def _check(delivered: dict, *args: str | Path) -> tuple[int, str]:
    done = verifier(*args, "--keys", delivered["keys"], cwd=delivered["root"])
    return done.returncode, done.stdout + done.stderr


# ---- untouched deliveries verify --------------------------------------------------------------------------------


def test_an_untouched_synchronous_answer_verifies_with_its_headers(delivered):
    code, out = _check(delivered, "file", delivered["sync"], "--headers", delivered["sync"].parent / "headers.txt")
    assert code == 0, out
    assert "ok      signature" in out and "Repr-Digest and X-Record-Count" in out
    assert re.search(r"ok      records .*: \d+ audit records, every checksum recomputed", out)


def test_an_untouched_job_file_verifies(delivered):
    code, out = _check(delivered, "file", delivered["job_file"])
    assert code == 0, out
    assert f"{delivered['job']['status']['records']:,} rows" in out


def test_six_untouched_nights_verify_as_a_chain(delivered):
    code, out = _check(delivered, "chain", delivered["nightly"])
    assert code == 0, out
    first, last = night_name(NIGHTS[0]), night_name(NIGHTS[-1])
    assert f"{TENANT}: 6 nights {first} .. {last} (sequence 1..6), each chained to the night before" in out
    assert out.count("ok      signature") == 6 and out.count("ok      file") == 36


# ---- the tamper matrix -------------------------------------------------------------------------------------------

TAMPERS = {
    "flip one byte": (flip_one_byte, FILE, "sha256"),
    "drop a row": (drop_a_row, FILE, "rows"),
    "add a row": (add_a_row, FILE, "rows"),
    "reorder two rows": (reorder_two_rows, FILE, "sha256"),
}


@pytest.mark.parametrize("case", sorted(TAMPERS))
@pytest.mark.parametrize("which", ["sync", "job_file"])
def test_a_tampered_file_is_found(delivered, tmp_path, which, case):
    tamper, code, check = TAMPERS[case]
    copy = copy_of(delivered[which].parent, tmp_path / "copy") / delivered[which].name
    tamper(copy)
    exit_code, out = _check(delivered, "file", copy)
    assert exit_code == code, out
    assert f"FAILED  file      {copy}: {check}:" in out


def test_an_audit_record_edited_with_its_checksum_is_found_by_the_manifest(delivered, tmp_path):
    copy = copy_of(delivered["sync"].parent, tmp_path / "copy") / delivered["sync"].name
    edit_a_record_and_its_checksum(copy)
    assert verifier("records", copy, cwd=tmp_path).returncode == 0  # on its own the record is consistent
    code, out = _check(delivered, "file", copy)
    assert code == FILE and f"{copy}: sha256:" in out, out


def test_a_swapped_manifest_is_found(delivered, tmp_path):
    copy = copy_of(delivered["sync"].parent, tmp_path / "copy") / delivered["sync"].name
    code, out = _check(delivered, "file", copy, "--manifest", delivered["job_file"].parent / "manifest.json")
    assert code == FILE and "sha256" in out, out


@pytest.mark.parametrize("claim", ["forger", "service"])
def test_a_manifest_signed_again_with_another_key_is_found(delivered, tmp_path, claim):
    folder = copy_of(delivered["job_file"].parent, tmp_path / "copy")
    service_key = json.loads(delivered["keys"].read_text())["keys"][0]["keyId"]
    resign(folder / "manifest.json", claim_key=service_key if claim == "service" else None)
    code, out = _check(delivered, "file", folder / delivered["job_file"].name)
    assert code == SIGNATURE, out
    assert ("does not verify" if claim == "service" else "not in the key file") in out


def test_a_deleted_night_is_named(delivered, tmp_path):
    folder = copy_of(delivered["nightly"], tmp_path / "nightly")
    gone = night_name(NIGHTS[2])
    for path in folder.glob(f"*{gone}*"):
        path.unlink()
    code, out = _check(delivered, "chain", folder)
    assert code == CHAIN, out
    assert f"FAILED  chain     {TENANT} night {gone}: chain: missing: night {night_name(NIGHTS[3])}" in out


def test_a_nights_deleted_files_are_named(delivered, tmp_path):
    folder = copy_of(delivered["nightly"], tmp_path / "nightly")
    gone = night_name(NIGHTS[3])
    for path in folder.glob(f"*-{gone}.csv"):
        path.unlink()
    code, out = _check(delivered, "chain", folder)
    assert code == FILE, out
    assert out.count(f"(night {gone}): missing") == 6


def test_reordered_nights_are_named(delivered, tmp_path):
    folder = copy_of(delivered["nightly"], tmp_path / "nightly")
    a, b = (folder / f"manifest-{night_name(NIGHTS[n])}.json" for n in (1, 2))
    a_bytes = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(a_bytes)
    code, out = _check(delivered, "chain", folder)
    assert code == CHAIN and "reordered" in out, out


def test_a_night_replaced_by_another_is_named(delivered, tmp_path):
    folder = copy_of(delivered["nightly"], tmp_path / "nightly")
    (folder / f"manifest-{night_name(NIGHTS[4])}.json").write_bytes(
        (folder / f"manifest-{night_name(NIGHTS[1])}.json").read_bytes()
    )
    code, out = _check(delivered, "chain", folder)
    assert code == CHAIN and "replaced" in out, out


def test_a_tampered_nightly_audit_file_is_found(delivered, tmp_path):
    folder = copy_of(delivered["nightly"], tmp_path / "nightly")
    target = next(folder.glob(f"audit_event-*-{night_name(NIGHTS[1])}.csv"))
    edit_a_record_and_its_checksum(target)
    code, out = _check(delivered, "chain", folder)
    assert code == FILE and f"{target}: sha256" in out, out


# ---- events and the audit of exports -----------------------------------------------------------------------------


def test_completion_events_arrive_with_keys_and_counts_never_links(delivered):
    events = delivered["events"]
    job_id = delivered["job"]["metadata"]["jobId"]
    [job] = [e for e in events if e["detail-type"] == "Export Job Succeeded" and e["detail"]["jobId"] == job_id]
    assert job["detail"]["tenant"] == TENANT and job["detail"]["records"] == delivered["job"]["status"]["records"]
    assert job["detail"]["manifestKey"] == f"exports/{TENANT}/{job_id}/manifest.json"
    nights = [
        e["detail"]
        for e in events
        if e["detail-type"] == "Nightly Export Published" and e["detail"]["tenant"] == TENANT
    ]
    assert [n["night"] for n in nights] == [night_name(n) for n in NIGHTS]
    assert [n["chainSequence"] for n in nights] == [1, 2, 3, 4, 5, 6]
    assert all(n["manifestKey"] == f"nightly/{TENANT}/{n['night']}/manifest.json" for n in nights)
    mine = [e for e in events if TENANT in json.dumps(e)]
    assert mine and all("http" not in json.dumps(e["detail"]) for e in mine)


def test_each_export_action_is_in_the_audit_log_with_the_keys_id(delivered, stack, http, tmp_path):
    since = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()  # the actions are stamped when they ran
    params = {"event_type": "export", "auditee_id": KEY_ID, "format": "jsonl", "from": since}
    response = http.get(f"{stack.url}/v1/audit/export", params=params, headers=HEADERS, timeout=60)
    assert response.status_code == 200, response.text
    records = [json.loads(line) for line in response.text.splitlines()]
    by_action: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        assert record["user"] == KEY_ID and record["systemSource"] == "export_api"
        by_action.setdefault(record["action"], []).append(record)
    assert {"export.sync", "export.job_started", "export.link_minted", "export.listing_read"} <= set(by_action)
    export_id = delivered["sync_response"].headers["Export-Id"]
    [sync] = [r for r in by_action["export.sync"] if json.loads(r["metadata"])["export_id"] == export_id]
    assert json.loads(sync["metadata"])["records"] == delivered["sync_response"].headers["X-Record-Count"]
    assert json.loads(json.loads(sync["metadata"])["filter"]) == {"from": "2026-07-01", "to": "2026-07-04"}
    job_id = delivered["job"]["metadata"]["jobId"]
    assert any(json.loads(r["metadata"]).get("job_id") == job_id for r in by_action["export.job_started"])
    assert any(json.loads(r["metadata"]).get("job_id") == job_id for r in by_action["export.link_minted"])
    # exportable and checksummed like any other record: the verifier recomputes each one
    (tmp_path / "actions.jsonl").write_text(response.text)
    assert verifier("records", tmp_path / "actions.jsonl", cwd=tmp_path).returncode == 0
    assert delivered["listing"]  # the listing read that produced export.listing_read
