"""A night's manifest: the six files of a tenant's night (CSV or Parquet) with their SHA-256, bytes and rows, signed,
and chained to
the tenant's previous night (its manifest's SHA-256 and signature), so a missing, replaced or reordered night is
visible to anyone holding the files. Written beside the files (``nightly/<tenant>/<night>/manifest.json``) once the
night is committed; the chain's head (the last night's signed manifest) is kept in the requests table (sk ``CHAIN``)
and moved in the same transaction as the commit, so the chain and the published nights never disagree.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from export_service.logic.export_events import NIGHTLY_PUBLISHED, EventPublisher, nightly_published
from export_service.logic.manifest import Signer, chain_link, file_entry, manifest_bytes, new_manifest, sign_manifest
from export_service.models.nightly import AUDIT_SOURCE, NIGHTLY_SOURCES, CommitInput, NightlyFormat, SourceResult
from export_service.timefmt import format_instant

MANIFEST_NAME = "manifest.json"


class ManifestFiles(Protocol):
    def put_bytes(self, key: str, body: bytes, content_type: str) -> None: ...


class ChainStore(Protocol):
    def get_chain(self, tenant: str) -> dict[str, Any] | None: ...


@dataclass(frozen=True)
class NightPublisher:
    """What publishing a night needs besides the commit: where the manifest goes, who signs it, where events go."""

    files: ManifestFiles
    signer: Signer | None
    events: EventPublisher | None = None


@dataclass(frozen=True)
class NightManifest:
    key: str
    signed: dict[str, Any]
    body: bytes  # the manifest file

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.body).hexdigest()

    def chain_item(self) -> dict[str, Any]:
        """What the requests table keeps as the tenant's chain head (sk CHAIN)."""
        return {
            "sequence": int(self.signed["chain"]["sequence"]),
            "night": self.signed["night"],
            "manifest_key": self.key,
            "manifest": self.body.decode("utf-8"),
        }


def manifest_key(tenant: str, night: str) -> str:
    return f"nightly/{tenant}/{night}/{MANIFEST_NAME}"


def file_name(source: str, night: str, fmt: NightlyFormat = NightlyFormat.CSV) -> str:
    """The name a night's file is downloaded under (the listing's links carry it), e.g. incident-20220525-2026-06-02.csv
    or, for a Parquet night, incident-20220525-2026-06-02.parquet."""
    return f"{NIGHTLY_SOURCES[source].slug}-{night}.{fmt.extension}"


def night_format(files: Sequence[SourceResult]) -> NightlyFormat:
    """The one format of a night's files (a night is dispatched with one format, which every step is given)."""
    formats = {result.format for result in files}
    if len(formats) != 1:
        raise ValueError(f"a night's files share one format, got {sorted(formats)}")
    return formats.pop()


def previous_manifest(chain: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return json.loads(chain["manifest"]) if chain and chain.get("manifest") else None


def build_night_manifest(
    run: CommitInput,
    files: Sequence[SourceResult],
    created: datetime,
    export_id: str,
    previous: Mapping[str, Any] | None,
    signer: Signer | None,
) -> NightManifest:
    fmt = night_format(files)
    entries = [
        file_entry(
            file_name(result.source, run.night, result.format),
            sha256=result.sha256,
            size=result.bytes,
            rows=result.rows,
            fmt=result.format.value,
            key=result.key,
            source=result.source,
            audit_records=result.source == AUDIT_SOURCE,
        )
        for result in files
    ]
    manifest = new_manifest(
        export_id=export_id,
        export_type="nightly",
        tenant=run.tenant,
        dataset="nightly",
        fmt=fmt.value,
        filter_={"changedSince": format_instant(run.window_starts_at)},
        start=run.window_starts_at,
        end=run.window_ends_at,
        created_at=created,
        files=entries,
        night=run.night,
        chain=chain_link(previous),
    )
    signed = sign_manifest(manifest, signer)
    return NightManifest(manifest_key(run.tenant, run.night), signed, manifest_bytes(signed))


def publish(publisher: NightPublisher, night: NightManifest, run: CommitInput) -> None:
    """After the commit: the manifest beside the files, then the completion event (a failure fails the step, which is
    retried; a retry re-publishes the committed manifest, so the event is delivered at least once)."""
    publisher.files.put_bytes(night.key, night.body, "application/json")
    if publisher.events is not None:
        detail = nightly_published(
            run.tenant,
            run.night,
            (format_instant(run.window_starts_at), format_instant(run.window_ends_at)),
            night.signed["createdAt"],
            night.signed["files"],
            night.key,
            night.signed,
            night.sha256,
        )
        publisher.events.put(NIGHTLY_PUBLISHED, detail)


def committed_manifest(store: ChainStore, run: CommitInput) -> NightManifest | None:
    """The manifest an earlier attempt committed for this night (None when the chain's head is another night)."""
    chain = store.get_chain(run.tenant)
    signed = previous_manifest(chain)
    if chain is None or signed is None or chain.get("night") != run.night:
        return None
    return NightManifest(str(chain["manifest_key"]), signed, str(chain["manifest"]).encode("utf-8"))
