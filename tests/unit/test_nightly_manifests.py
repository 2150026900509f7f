"""A night's manifest (logic/nightly_chain.py through commit_night): signed, chained to the tenant's previous night,
committed with the entries, written beside the files, re-published by a retried step; the completion event."""

from __future__ import annotations

import itertools
import json
from datetime import timedelta
from typing import Any

import pytest
from export_client.verifier.canonical import manifest_file_sha256
from export_client.verifier.keys import check_signature, load_keys

from export_service.logic.export_events import NIGHTLY_PUBLISHED
from export_service.logic.nightly import commit_night
from export_service.logic.nightly_chain import NightPublisher
from export_service.models.nightly import AUDIT_SOURCE, SOURCE_NAMES
from tests.unit.integrity_support import LocalSigner, MemoryBus, MemoryFiles, key_file
from tests.unit.nightly_support import (
    ENABLED,
    NIGHT1,
    NIGHT2,
    NIGHT3,
    OVERLAP,
    FakeRequestStore,
    _commit_input,
    _config,
)

pytestmark = pytest.mark.unit


class ChainedStore(FakeRequestStore):
    """FakeRequestStore with the chain head, moved with the commit under the same condition as DynamoDB's."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.chain: dict[str, Any] | None = None

    def get_chain(self, tenant: str) -> dict[str, Any] | None:
        return dict(self.chain) if self.chain else None

    def commit(self, tenant, night, enabled_at, window_end, created_at, entries, ttl, chain=None):  # type: ignore[override]
        if chain is not None:
            expected = (self.chain or {}).get("sequence", 0)
            if chain["sequence"] != expected + 1:
                raise RuntimeError("TransactionCanceled: the chain moved")
        super().commit(tenant, night, enabled_at, window_end, created_at, entries, ttl)
        if chain is not None and not self.refuse:
            self.chain = dict(chain)


def _publisher() -> tuple[NightPublisher, MemoryFiles, MemoryBus, LocalSigner]:
    files, bus, signer = MemoryFiles(), MemoryBus(), LocalSigner()
    return NightPublisher(files=files, signer=signer, events=bus), files, bus, signer


def _run_nights(store, publisher, count=3):
    results, start = [], ENABLED
    for night in (NIGHT1, NIGHT2, NIGHT3)[:count]:
        results.append(commit_night(store, _commit_input(night, start), night + timedelta(minutes=5), publisher))
        start = night - OVERLAP
    return results


def test_each_night_is_signed_chained_and_written_beside_its_files(tmp_path):
    store = ChainedStore(_config())
    publisher, files, _bus, signer = _publisher()
    results = _run_nights(store, publisher)
    assert [r["state"] for r in results] == ["committed"] * 3
    assert [r["chain_sequence"] for r in results] == [1, 2, 3]
    keys = load_keys(key_file(tmp_path / "keys.json", signer))
    manifests = [
        json.loads(files.objects[f"nightly/acme/{night}/manifest.json"])
        for night in ("2026-05-02", "2026-05-03", "2026-05-04")
    ]
    for manifest in manifests:
        assert check_signature(manifest, keys, "m")[1] is None
        assert [entry["source"] for entry in manifest["files"]] == list(SOURCE_NAMES)
        assert {entry["name"] for entry in manifest["files"]} == {
            f"{entry['source'].split('+', 1)[1]}-{manifest['night']}.csv" for entry in manifest["files"]
        }
        assert [entry.get("checksummedRecords", False) for entry in manifest["files"]] == [
            source == AUDIT_SOURCE for source in SOURCE_NAMES
        ]
    assert manifests[0]["chain"] == {"sequence": 1, "first": True, "previous": None}
    for earlier, later in itertools.pairwise(manifests):
        assert later["chain"]["previous"]["night"] == earlier["night"]
        assert later["chain"]["previous"]["manifestSha256"] == manifest_file_sha256(earlier)
        assert later["chain"]["previous"]["signature"] == earlier["signature"]["value"]
    # every entry of a night names its manifest; the chain head is the last night's manifest file
    assert {item["manifest_key"] for item in store.items if item["night"] == "2026-05-03"} == {
        "nightly/acme/2026-05-03/manifest.json"
    }
    assert store.chain["manifest"].encode() == files.objects["nightly/acme/2026-05-04/manifest.json"]


def test_the_window_and_the_changed_since_filter_are_in_the_manifest():
    store = ChainedStore(_config())
    publisher, files, _bus, _signer = _publisher()
    _run_nights(store, publisher, count=2)
    second = json.loads(files.objects["nightly/acme/2026-05-03/manifest.json"])
    assert second["range"] == {"from": "2026-05-02T02:15:00.000Z", "to": "2026-05-03T02:30:00.000Z"}
    assert second["filter"] == {"changedSince": "2026-05-02T02:15:00.000Z"}
    assert second["exportType"] == "nightly" and second["exportId"] == "nightly-20260503-acme"


def test_a_published_night_sends_one_event_with_keys_and_counts_only():
    store = ChainedStore(_config())
    publisher, _files, bus, _signer = _publisher()
    _run_nights(store, publisher, count=1)
    [(detail_type, detail)] = bus.events
    assert detail_type == NIGHTLY_PUBLISHED
    assert detail["tenant"] == "acme" and detail["night"] == "2026-05-02" and detail["chainSequence"] == 1
    assert detail["manifestKey"] == "nightly/acme/2026-05-02/manifest.json"
    assert detail["totalRecords"] == sum(entry["records"] for entry in detail["sources"])
    assert "url" not in json.dumps(detail)


def test_a_retried_step_republishes_the_committed_manifest_unchanged():
    store = ChainedStore(_config())
    publisher, files, bus, _signer = _publisher()
    _run_nights(store, publisher, count=1)
    committed = files.objects.pop("nightly/acme/2026-05-02/manifest.json")  # the attempt died before writing it
    again = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=9), publisher)
    assert again["state"] == "committed" and again["reason"] == "by an earlier attempt"
    assert files.objects["nightly/acme/2026-05-02/manifest.json"] == committed  # byte for byte: the chain holds
    assert len(bus.events) == 2  # at least once


def test_the_chain_survives_a_disable_and_re_enable():
    store = ChainedStore(_config())
    publisher, files, _bus, _signer = _publisher()
    _run_nights(store, publisher, count=1)
    re_enabled = ENABLED + timedelta(days=1, hours=3)
    store.config = _config(enabled_at=re_enabled, watermark=None, last_night=None, last_created_at=None)
    run = _commit_input(NIGHT2, re_enabled).model_copy(update={"enabled_at": re_enabled})
    commit_night(store, run, NIGHT2 + timedelta(minutes=5), publisher)
    second = json.loads(files.objects["nightly/acme/2026-05-03/manifest.json"])
    assert second["chain"]["sequence"] == 2 and second["chain"]["previous"]["night"] == "2026-05-02"


def test_a_refused_commit_publishes_no_manifest():
    store = ChainedStore(_config(), refuse="disabled")
    publisher, files, bus, _signer = _publisher()
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5), publisher)
    assert result["state"] == "skipped" and files.objects == {} and bus.events == []


def test_without_a_publisher_a_night_commits_as_before():
    store = FakeRequestStore(_config())
    result = commit_night(store, _commit_input(NIGHT1, ENABLED), NIGHT1 + timedelta(minutes=5))
    assert result["state"] == "committed" and "manifest_key" not in store.items[0]
