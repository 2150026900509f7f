"""Shared by the integrity unit tests: a local ECDSA P-256 signer standing in for KMS, the key file a verifier reads,
and in-memory manifest files and event bus."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from export_client.verifier.commands import verify_command

from export_service.logic.manifest import file_entry, new_manifest


class LocalSigner:
    """What KMS Sign (ECDSA_SHA_256, MessageType RAW) does, with a key made here."""

    def __init__(self, key_id: str = "arn:aws:kms:us-east-1:123456789012:key/local-test-key") -> None:
        self.key_id = key_id
        self._key = ec.generate_private_key(ec.SECP256R1())

    def sign(self, message: bytes) -> tuple[str, bytes]:
        return self.key_id, self._key.sign(message, ec.ECDSA(hashes.SHA256()))

    def key_entry(self, status: str = "current") -> dict[str, Any]:
        pem = self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return {"keyId": self.key_id, "status": status, "publicKey": pem.decode("ascii")}


def key_file(path: Path, *signers: LocalSigner) -> Path:
    path.write_text(json.dumps({"kind": "ManifestKeyList", "keys": [signer.key_entry() for signer in signers]}))
    return path


class MemoryFiles:
    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def put_bytes(self, key: str, body: bytes, content_type: str) -> None:
        self.objects[key] = body


class MemoryBus:
    def __init__(self) -> None:
        self.events: list[tuple[str, dict[str, Any]]] = []

    def put(self, detail_type: str, detail: Mapping[str, Any]) -> None:
        self.events.append((detail_type, json.loads(json.dumps(detail))))


def manifest_for(name: str, data: bytes, rows: int, fmt: str = "csv", **extra: Any) -> dict[str, Any]:
    """An unsigned manifest of one audit file ``name`` holding ``data`` (``extra``: the file's source, and the
    manifest's export id and type, night and chain)."""
    entry = file_entry(
        name,
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
        rows=rows,
        fmt=fmt,
        audit_records=True,
        **({"source": extra.pop("source")} if "source" in extra else {}),
    )
    return new_manifest(
        export_id=extra.pop("export_id", "exp-1"),
        export_type=extra.pop("export_type", "job"),
        tenant="acme",
        dataset="audit",
        fmt=fmt,
        filter_={},
        start=None,
        end=None,
        created_at=datetime(2026, 6, 2, tzinfo=UTC),
        files=[entry],
        **extra,
    )


def run_verifier(*args: str) -> tuple[int, str]:
    """``python -m export_client.verifier <args>`` in-process: its exit code and what it printed."""
    result = CliRunner().invoke(verify_command, list(args))
    return result.exit_code, result.output
