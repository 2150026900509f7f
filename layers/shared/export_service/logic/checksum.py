"""Per-record checksums: sha256 over a canonical JSON form, so the same record always hashes the same."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping


def canonical_form(record: Mapping[str, object]) -> bytes:
    """Sorted keys, no whitespace, UTF-8; the checksum field itself and empty values are left out."""
    fields = {key: value for key, value in record.items() if key != "checksum" and value not in (None, "")}
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def record_checksum(record: Mapping[str, object]) -> str:
    return "sha256:" + hashlib.sha256(canonical_form(record)).hexdigest()


def verify_checksum(record: Mapping[str, object]) -> bool:
    return record.get("checksum") == record_checksum(record)
