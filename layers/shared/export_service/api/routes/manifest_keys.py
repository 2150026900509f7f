"""GET /v1/manifest-keys: the public keys that verify export manifests (the current signing key and the retired
ones whose manifests may still be held), each with the id a manifest names in ``signature.keyId``."""

import json
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.event_handler import Response

from export_service.api.deps import get_dependencies, public_keys
from export_service.api.endpoint import EndpointRouter
from export_service.errors import NotConfiguredError
from export_service.logic.manifest import KEY_SPEC, SIGNING_ALGORITHM

router = EndpointRouter()
CACHE_SECONDS = 3600  # keys change only with a deploy; a rotation keeps the old key listed (retired)


@lru_cache(maxsize=1)
def key_list() -> dict[str, Any]:
    """Read from KMS once per container (its keys are fixed by the function's configuration)."""
    settings = get_dependencies().settings
    if not settings.manifest_signing_key_id:
        raise NotConfiguredError("manifest signing is not configured in this deployment (no key)")
    retired = [key for key in settings.manifest_retired_key_ids.split(",") if key.strip()]
    keys = []
    for status, key_id in [("current", settings.manifest_signing_key_id)] + [("retired", k.strip()) for k in retired]:
        described = public_keys().describe(key_id)
        keys.append({**described, "status": status})
    return {
        "apiVersion": "v1",
        "kind": "ManifestKeyList",
        "signingAlgorithm": SIGNING_ALGORITHM,
        "keySpec": KEY_SPEC,
        "keys": keys,
    }


@router.endpoint(
    "GET",
    "/v1/manifest-keys",
    permission=None,
    summary="The public keys that verify export manifests",
    description=(
        "Every export's manifest is signed (ECDSA_SHA_256 over P-256, with a KMS key) and names its key in "
        "`signature.keyId`. This answers the current key and the retired ones (a rotation keeps them listed while "
        "manifests they signed are kept), each as `keyId` (the KMS key ARN), `status` (current or retired), "
        "`keySpec`, `signingAlgorithms` and `publicKey` (PEM, SubjectPublicKeyInfo). Save the answer as the key "
        "file of the offline verifier (`python -m export_client.verifier ... --keys keys.json`, docs/verify.md). "
        f"Any valid key may read it; it may be cached for {CACHE_SECONDS} s."
    ),
    tags=["integrity"],
    responses={
        200: {"description": "ManifestKeyList"},
        401: {"description": "Missing, invalid or revoked API key"},
        503: {"description": "Manifest signing is not configured"},
    },
)
def get_manifest_keys() -> Response[str]:
    return Response(
        status_code=200,
        content_type="application/json",
        body=json.dumps(key_list()),
        headers={"Cache-Control": f"private, max-age={CACHE_SECONDS}"},
    )
