"""The key file (the answer of GET /v1/manifest-keys, saved) and the signature check: ECDSA P-256 with SHA-256
over the manifest's 32-byte digest, by the key the manifest names in ``signature.keyId``."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from export_client.verifier.canonical import manifest_digest
from export_client.verifier.report import Failure, InputError

ALGORITHM = "ECDSA_SHA_256"


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    status: str
    key: Any  # cryptography's EllipticCurvePublicKey


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import hashes, serialization  # noqa: PLC0415
        from cryptography.hazmat.primitives.asymmetric import ec  # noqa: PLC0415
    except ImportError:  # pragma: no cover - a dependency of the client
        raise InputError(
            "the 'cryptography' package is needed to check signatures (pip install cryptography)"
        ) from None
    return hashes, serialization, ec


def load_keys(path: Path) -> dict[str, PublicKey]:
    """keyId -> key, from a saved ManifestKeyList (or a list of its ``keys``)."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read the key file {path}: {error}") from None
    entries = document.get("keys") if isinstance(document, dict) else document
    if not isinstance(entries, list) or not entries:
        raise InputError(f"{path} holds no keys (save the answer of GET /v1/manifest-keys)")
    _hashes, serialization, ec = _crypto()
    keys: dict[str, PublicKey] = {}
    for entry in entries:
        try:
            key = serialization.load_pem_public_key(str(entry["publicKey"]).encode("ascii"))
            key_id = str(entry["keyId"])
        except (KeyError, TypeError, ValueError) as error:
            raise InputError(f"{path}: a key entry is not readable ({error})") from None
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise InputError(f"{path}: key {key_id} is not an ECC P-256 public key")
        keys[key_id] = PublicKey(key_id, str(entry.get("status", "")), key)
    return keys


def check_signature(
    manifest: Mapping[str, Any], keys: Mapping[str, PublicKey], where: str
) -> tuple[str, Failure | None]:
    """(the key that verified it, None) or ("", the failure)."""
    hashes, _serialization, ec = _crypto()
    signature = manifest.get("signature")
    if not isinstance(signature, Mapping) or not signature.get("value"):
        return "", Failure(where, "signature", "the manifest is not signed")
    if signature.get("algorithm") != ALGORITHM:
        return "", Failure(where, "signature", f"algorithm {signature.get('algorithm')!r}, expected {ALGORITHM}")
    key_id = str(signature.get("keyId") or "")
    key = keys.get(key_id)
    if key is None:
        return "", Failure(where, "signature", f"signed by key {key_id!r}, which is not in the key file")
    try:
        raw = base64.b64decode(str(signature["value"]), validate=True)
        key.key.verify(raw, manifest_digest(manifest), ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError):
        return "", Failure(where, "signature", "the signature value is not base64")
    except Exception as error:  # cryptography's InvalidSignature
        if type(error).__name__ != "InvalidSignature":
            raise
        return "", Failure(
            where, "signature", f"does not verify with key {key_id}: the manifest was altered or signed by another key"
        )
    return key_id, None
