"""KMS access for manifest signatures: sign with the service's asymmetric key (ECC_NIST_P256, ECDSA_SHA_256), and
read public keys for the route that publishes them. Private key material never leaves KMS."""

from __future__ import annotations

import base64
import textwrap
from typing import Any

SIGNING_ALGORITHM = "ECDSA_SHA_256"


class KmsSigner:
    def __init__(self, client: Any, key_id: str) -> None:
        self._client = client
        self.key_id = key_id

    def sign(self, message: bytes) -> tuple[str, bytes]:
        """ECDSA_SHA_256 over ``message`` (MessageType RAW: KMS hashes it); returns the signing key's ARN and the DER
        signature."""
        response = self._client.sign(
            KeyId=self.key_id, Message=message, MessageType="RAW", SigningAlgorithm=SIGNING_ALGORITHM
        )
        return _arn(str(response["KeyId"]), self.key_id), bytes(response["Signature"])


class KmsPublicKeys:
    def __init__(self, client: Any) -> None:
        self._client = client

    def describe(self, key_id: str) -> dict[str, Any]:
        """One key's public half: ``keyId`` (its ARN), ``keySpec``, ``signingAlgorithms`` and ``publicKey`` (PEM,
        SubjectPublicKeyInfo)."""
        response = self._client.get_public_key(KeyId=key_id)
        return {
            "keyId": _arn(str(response["KeyId"]), key_id),
            "keySpec": response.get("KeySpec") or response.get("CustomerMasterKeySpec"),
            "signingAlgorithms": list(response.get("SigningAlgorithms") or ()),
            "publicKey": pem(bytes(response["PublicKey"])),
        }


def pem(der: bytes) -> str:
    body = "\n".join(textwrap.wrap(base64.b64encode(der).decode("ascii"), 64))
    return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"


def _arn(answered: str, asked: str) -> str:
    """KMS answers the key's ARN; an emulator may answer its bare id: the ARN asked for names the same key."""
    if answered.startswith("arn:") or not asked.startswith("arn:"):
        return answered
    return asked if asked.endswith(f"/{answered}") else answered
