"""Export manifests: what one export holds (per file its SHA-256, bytes and rows), signed with the service's
asymmetric KMS key, and for nightly exports chained per tenant. docs/verify.md is the auditor's side of this module.

The signed bytes, which a verifier recomputes without any of this code:

- the *canonical form* of a manifest is the manifest without its ``signature`` member, serialised as JSON with keys
  sorted at every level, no whitespace (``","`` and ``":"`` separators), non-ASCII characters kept as UTF-8;
- the *manifest digest* is the SHA-256 of the canonical form;
- the ``signature`` member is ``{"algorithm": "ECDSA_SHA_256", "keyId": <KMS key ARN>, "value": <base64 DER>}``:
  ECDSA over P-256 with SHA-256 of the message, where the message is the 32-byte manifest digest (KMS ``Sign`` with
  ``MessageType=RAW``). So ``public_key.verify(signature, sha256(canonical_form), ECDSA(SHA256()))`` checks it.

A manifest file holds the signed manifest (signature included) in the same canonical JSON, so ``sha256sum`` of the
file is the SHA-256 of that form. A nightly manifest's ``chain`` names the previous night of the tenant: its night,
that SHA-256 of its manifest file and its signature, so a missing, replaced or reordered night breaks the chain; the
first night says ``"first": true``.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from export_service import __version__
from export_service.timefmt import format_instant

KIND = "ExportManifest"
MANIFEST_VERSION = 1
SIGNING_ALGORITHM = "ECDSA_SHA_256"
KEY_SPEC = "ECC_NIST_P256"


class Signer(Protocol):
    def sign(self, message: bytes) -> tuple[str, bytes]:
        """Sign ``message`` (KMS RAW, ECDSA_SHA_256); returns the id (ARN) of the key that signed and the DER
        signature."""
        ...


def _canonical_json(document: Mapping[str, Any]) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_form(manifest: Mapping[str, Any]) -> bytes:
    """What is signed: the manifest without its signature, canonical JSON."""
    return _canonical_json({name: value for name, value in manifest.items() if name != "signature"})


def manifest_digest(manifest: Mapping[str, Any]) -> bytes:
    """The 32-byte SHA-256 of the canonical form: the message KMS signs."""
    return hashlib.sha256(canonical_form(manifest)).digest()


def sign_manifest(manifest: Mapping[str, Any], signer: Signer | None) -> dict[str, Any]:
    """The manifest with its ``signature`` (``None`` when no signing key is configured: a verifier refuses it)."""
    unsigned = {name: value for name, value in manifest.items() if name != "signature"}
    if signer is None:
        return {**unsigned, "signature": None}
    key_id, signature = signer.sign(manifest_digest(unsigned))
    return {
        **unsigned,
        "signature": {
            "algorithm": SIGNING_ALGORITHM,
            "keyId": key_id,
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }


def manifest_bytes(signed: Mapping[str, Any]) -> bytes:
    """The manifest file: the signed manifest (signature included) as canonical JSON."""
    return _canonical_json(signed)


def file_entry(
    name: str,
    *,
    sha256: str,
    size: int,
    rows: int,
    fmt: str,
    key: str | None = None,
    audit_records: bool = False,
    source: str | None = None,
) -> dict[str, Any]:
    """One file of an export. ``audit_records``: its rows are audit records, each carrying its own checksum."""
    entry: dict[str, Any] = {"name": name, "sha256": sha256, "bytes": size, "rows": rows, "format": fmt}
    if key is not None:
        entry["key"] = key
    if source is not None:
        entry["source"] = source
    if audit_records:
        entry["checksummedRecords"] = True
    return entry


def new_manifest(
    *,
    export_id: str,
    export_type: str,
    tenant: str,
    dataset: str,
    fmt: str,
    filter_: Mapping[str, Any],
    start: datetime | str | None,
    end: datetime | str | None,
    created_at: datetime,
    files: Sequence[Mapping[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """The unsigned manifest of one export (``export_type``: sync, job or nightly)."""
    return {
        "apiVersion": "v1",
        "kind": KIND,
        "manifestVersion": MANIFEST_VERSION,
        "exportId": export_id,
        "exportType": export_type,
        "tenant": tenant,
        "dataset": dataset,
        "format": fmt,
        "filter": dict(filter_),
        "range": {"from": _instant(start), "to": _instant(end)},
        "createdAt": format_instant(created_at),
        "serviceVersion": __version__,
        "files": [dict(entry) for entry in files],
        "totalRows": sum(int(entry["rows"]) for entry in files),
        **extra,
    }


def _instant(value: datetime | str | None) -> str | None:
    return format_instant(value) if isinstance(value, datetime) else value


def chain_link(previous: Mapping[str, Any] | None) -> dict[str, Any]:
    """A nightly manifest's ``chain``: the first night says so; any other names the previous signed manifest."""
    if previous is None:
        return {"sequence": 1, "first": True, "previous": None}
    signature = previous.get("signature") or {}
    return {
        "sequence": int(previous["chain"]["sequence"]) + 1,
        "first": False,
        "previous": {
            "night": previous["night"],
            "exportId": previous["exportId"],
            "manifestSha256": hashlib.sha256(manifest_bytes(previous)).hexdigest(),
            "signature": signature.get("value"),
            "keyId": signature.get("keyId"),
        },
    }
