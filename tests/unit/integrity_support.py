"""Shared by the integrity unit tests: a local ECDSA P-256 signer standing in for KMS, the key file a verifier reads,
and in-memory manifest files and event bus."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


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
