"""The REQUEST authorizer's decision: an Allow policy carrying the principal, or Unauthorized."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from export_service.logic.api_keys import ApiKeyReader, authenticate, principal_to_context


def api_wildcard_arn(method_arn: str) -> str:
    """``arn:...:api-id/stage/VERB/path`` -> ``arn:...:api-id/stage/*/*`` so one decision fits every route."""
    parts = method_arn.split("/")
    return "/".join(parts[:2]) + "/*/*" if len(parts) >= 2 else method_arn


def authorize(headers: Mapping[str, str], method_arn: str, keys: ApiKeyReader) -> dict[str, Any]:
    """Raises UnauthorizedError for a missing, malformed, wrong or revoked key (API Gateway answers 401)."""
    principal = authenticate(headers, keys)
    return {
        "principalId": principal.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": api_wildcard_arn(method_arn)}
            ],
        },
        "context": principal_to_context(principal),
    }
