"""Manifests (logic/manifest.py), completion events (logic/export_events.py) and their samples in events/."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from export_client.verifier.keys import check_signature, load_keys

from export_service import __version__
from export_service.logic.export_events import (
    JOB_FAILED,
    JOB_SUCCEEDED,
    NIGHTLY_PUBLISHED,
    job_failed,
    job_succeeded,
    nightly_published,
)
from export_service.logic.manifest import (
    chain_link,
    file_entry,
    manifest_bytes,
    new_manifest,
    sign_manifest,
)
from tests.helpers import load_event
from tests.unit.integrity_support import LocalSigner, key_file

pytestmark = pytest.mark.unit
NOW = datetime(2026, 6, 2, 4, 3, tzinfo=UTC)


def _manifest(**extra):
    entry = file_entry(
        "audit-2026-05-01_2026-06-01.csv", sha256="ab" * 32, size=1234, rows=7, fmt="csv", audit_records=True
    )
    return new_manifest(
        export_id="exp-1",
        export_type="job",
        tenant="acme",
        dataset="audit",
        fmt="csv",
        filter_={"action": "runbook.execute"},
        start=datetime(2026, 5, 1, tzinfo=UTC),
        end="2026-06-01T00:00:00.000Z",
        created_at=NOW,
        files=[entry],
        **extra,
    )


def test_a_manifest_names_what_the_export_holds():
    manifest = _manifest()
    assert manifest["tenant"] == "acme" and manifest["dataset"] == "audit" and manifest["format"] == "csv"
    assert manifest["filter"] == {"action": "runbook.execute"}
    assert manifest["range"] == {"from": "2026-05-01T00:00:00.000Z", "to": "2026-06-01T00:00:00.000Z"}
    assert manifest["createdAt"] == "2026-06-02T04:03:00.000Z" and manifest["serviceVersion"] == __version__
    assert manifest["files"] == [
        {
            "name": "audit-2026-05-01_2026-06-01.csv",
            "sha256": "ab" * 32,
            "bytes": 1234,
            "rows": 7,
            "format": "csv",
            "checksummedRecords": True,
        }
    ]
    assert manifest["totalRows"] == 7


def test_the_service_version_is_the_projects():
    from devtools.template import ROOT  # noqa: PLC0415

    assert f'version = "{__version__}"' in (ROOT / "pyproject.toml").read_text()


def test_a_signed_manifest_verifies_with_its_key_and_not_after_any_change(tmp_path):
    signer, other = LocalSigner(), LocalSigner("arn:aws:kms:us-east-1:123456789012:key/another")
    signed = sign_manifest(_manifest(), signer)
    assert signed["signature"]["keyId"] == signer.key_id and signed["signature"]["algorithm"] == "ECDSA_SHA_256"
    keys = load_keys(key_file(tmp_path / "keys.json", signer, other))
    assert check_signature(json.loads(manifest_bytes(signed)), keys, "m") == (signer.key_id, None)
    changed = json.loads(manifest_bytes(signed))
    changed["files"][0]["sha256"] = "cd" * 32
    assert check_signature(changed, keys, "m")[1].check == "signature"
    resigned = sign_manifest(changed, other)  # re-signed with another key the key file holds: it verifies as that key
    assert check_signature(resigned, keys, "m")[0] == other.key_id
    only_ours = load_keys(key_file(tmp_path / "ours.json", signer))
    assert "not in the key file" in check_signature(resigned, only_ours, "m")[1].detail


def test_without_a_key_a_manifest_is_written_unsigned_and_refused(tmp_path):
    unsigned = sign_manifest(_manifest(), None)
    assert unsigned["signature"] is None
    keys = load_keys(key_file(tmp_path / "keys.json", LocalSigner()))
    assert check_signature(unsigned, keys, "m")[1].detail == "the manifest is not signed"


def test_the_chain_starts_first_and_then_names_the_previous_manifest_file():
    signer = LocalSigner()
    first = sign_manifest(_manifest(night="2026-06-01", chain=chain_link(None)), signer)
    assert first["chain"] == {"sequence": 1, "first": True, "previous": None}
    link = chain_link(first)
    import hashlib  # noqa: PLC0415

    assert link["sequence"] == 2 and link["first"] is False
    assert link["previous"]["night"] == "2026-06-01"
    assert link["previous"]["manifestSha256"] == hashlib.sha256(manifest_bytes(first)).hexdigest()
    assert link["previous"]["signature"] == first["signature"]["value"]


JOB = {
    "job_id": "exp-20260602T040233-a584a5883597",
    "tenant": "acme",
    "dataset": "audit",
    "format": "csv",
    "created_at": "2026-06-02T04:02:33.120Z",
    "estimated_records": 12000,
}
RESULT = {
    "key": "exports/acme/x/audit.csv",
    "bytes": 10,
    "rows": 2,
    "sha256": "ab" * 32,
    "manifest_key": "exports/acme/x/manifest.json",
}


@pytest.mark.parametrize(
    ("sample", "detail_type", "detail"),
    [
        ("event_job_succeeded", JOB_SUCCEEDED, job_succeeded(JOB, RESULT, "2026-06-02T04:03:10.455Z")),
        ("event_job_failed", JOB_FAILED, job_failed(JOB, "the export failed", "2026-06-02T04:09:41.002Z")),
        (
            "event_nightly_published",
            NIGHTLY_PUBLISHED,
            nightly_published(
                "acme",
                "2026-06-02",
                ("a", "b"),
                "c",
                [{"source": "s", "rows": 1, "bytes": 2, "sha256": "ab" * 32, "key": "nightly/acme/2026-06-02/s.csv"}],
                "nightly/acme/2026-06-02/manifest.json",
                {"chain": {"sequence": 3}},
                "cd" * 32,
            ),
        ),
    ],
)
def test_events_have_the_samples_shape_and_carry_no_link_or_data(sample, detail_type, detail):
    event = load_event(sample)
    assert event["source"] == "export-service" and event["detail-type"] == detail_type
    assert set(detail) == set(event["detail"])
    for name, value in event["detail"].items():
        assert type(detail[name]) is type(value), name
    text = json.dumps(detail) + json.dumps(event)
    assert "http" not in text and "X-Amz" not in text  # keys, counts and digests; never a link


def test_a_failed_job_sends_its_event_with_the_reason_callers_see():
    from export_service.logic.job_steps import JobContext, run_fail  # noqa: PLC0415
    from tests.unit.integrity_support import MemoryBus  # noqa: PLC0415

    class Jobs:
        def __init__(self) -> None:
            self.item = dict(JOB, state="processing")

        def update(self, tenant, job_id, fields):
            self.item.update(fields)

        def get(self, tenant, job_id):
            return dict(self.item)

    bus = MemoryBus()
    context = JobContext(stores=None, jobs=Jobs(), files=None, events=bus)  # type: ignore[arg-type]
    error = {"Error": "States.TaskFailed", "Cause": json.dumps({"errorType": "InvalidRangeError", "errorMessage": "x"})}
    run_fail(context, "acme", JOB["job_id"], error, NOW)
    [(detail_type, detail)] = bus.events
    assert detail_type == JOB_FAILED and detail["jobId"] == JOB["job_id"] and detail["error"] == "x"
    assert detail["failedAt"] == "2026-06-02T04:03:00.000Z" and detail["state"] == "failed"
