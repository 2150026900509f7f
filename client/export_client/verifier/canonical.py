"""The two canonical forms the verifier recomputes (docs/verify.md; tests/vectors/ holds vectors the service's code
and this code are both tested against).

- An audit record's checksum: ``sha256:`` + hex SHA-256 of the record's fields except ``checksum`` (and except the
  ``localTime`` column an export may add for people), empty values left out, as JSON with sorted keys, no
  whitespace, UTF-8.
- A manifest's signed digest: SHA-256 of the manifest without its ``signature`` member as JSON with keys sorted at
  every level, no whitespace, UTF-8; a manifest file's SHA-256 (what the next night chains to) is the same form of
  the whole signed manifest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

NOT_RECORD_FIELDS = frozenset({"checksum", "localTime"})


def canonical_json(document: Any) -> bytes:
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_checksum(record: Mapping[str, Any]) -> str:
    fields = {
        name: value for name, value in record.items() if name not in NOT_RECORD_FIELDS and value not in (None, "")
    }
    return "sha256:" + hashlib.sha256(canonical_json(fields)).hexdigest()


def manifest_digest(manifest: Mapping[str, Any]) -> bytes:
    """The 32-byte message the service's key signed."""
    return hashlib.sha256(canonical_json({k: v for k, v in manifest.items() if k != "signature"})).digest()


def manifest_file_sha256(manifest: Mapping[str, Any]) -> str:
    """The SHA-256 of the manifest file as the service wrote it (canonical JSON of the signed manifest)."""
    return hashlib.sha256(canonical_json(manifest)).hexdigest()
