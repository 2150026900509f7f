"""One algorithm, two implementations: the service's checksum and manifest code and the offline verifier (which
imports nothing of the service) against the same vectors (tests/vectors/), made once by the service's code."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from export_client.verifier import canonical as verifier
from export_client.verifier.chain import Night, check_chain
from export_client.verifier.keys import check_signature, load_keys

from export_service.logic import manifest as service
from export_service.logic.checksum import record_checksum

pytestmark = pytest.mark.unit

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
CHECKSUMS = json.loads((VECTORS / "audit_checksums.json").read_text(encoding="utf-8"))["vectors"]
MANIFESTS = json.loads((VECTORS / "manifests.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("vector", CHECKSUMS, ids=lambda v: v["record"]["id"])
def test_the_service_and_the_verifier_compute_the_same_record_checksum(vector):
    record = vector["record"]
    # documented: a column an export adds for people (localTime) is not a record field
    fields = {name: value for name, value in record.items() if name != "localTime"}
    assert record_checksum(fields) == vector["checksum"]
    assert verifier.record_checksum(record) == vector["checksum"]


def test_a_changed_field_changes_the_checksum_in_both():
    record = dict(CHECKSUMS[0]["record"], resource="another")
    assert record_checksum(record) != CHECKSUMS[0]["checksum"]
    assert verifier.record_checksum(record) == record_checksum(record)


@pytest.mark.parametrize("index", [0, 1])
def test_the_service_and_the_verifier_agree_on_a_manifests_bytes(index):
    vector = MANIFESTS["vectors"][index]
    manifest = vector["manifest"]
    assert hashlib.sha256(service.canonical_form(manifest)).hexdigest() == vector["canonical_sha256"]
    assert service.manifest_digest(manifest).hex() == verifier.manifest_digest(manifest).hex() == vector["digest"]
    assert hashlib.sha256(service.manifest_bytes(manifest)).hexdigest() == vector["file_sha256"]
    assert verifier.manifest_file_sha256(manifest) == vector["file_sha256"]


def test_the_vectors_signatures_verify_and_an_altered_manifest_does_not(tmp_path):
    keys_path = tmp_path / "keys.json"
    keys_path.write_text(json.dumps(MANIFESTS["keys"]))
    keys = load_keys(keys_path)
    for vector in MANIFESTS["vectors"]:
        key_id, failure = check_signature(vector["manifest"], keys, "m")
        assert failure is None and key_id.endswith("000000000001")
    altered = json.loads(json.dumps(MANIFESTS["vectors"][0]["manifest"]))
    altered["files"][0]["rows"] += 1
    _key, failure = check_signature(altered, keys, "m")
    assert failure is not None and failure.check == "signature" and "does not verify" in failure.detail


def test_the_second_nights_chain_link_is_the_first_nights_manifest_in_both():
    first, second = (vector["manifest"] for vector in MANIFESTS["vectors"])
    assert service.chain_link(first) == second["chain"]
    held, failures = check_chain(
        [Night(Path("manifest-2026-06-21.json"), first), Night(Path("m-2026-06-22.json"), second)]
    )
    assert failures == [] and "2 nights 2026-06-21 .. 2026-06-22" in held[0]
