"""The REQUEST authorizer's decision: an Allow policy carrying the principal, or Unauthorized.

Built from the standard library and logic/credentials.py alone (no pydantic, no Powertools data classes): the
authorizer runs before every request, so its cold start is every caller's latency."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from export_service.logic.credentials import KeyReader, authenticate_key


class AuthorizedKey(Protocol):
    @property
    def key_id(self) -> str: ...

    @property
    def tenant_id(self) -> str: ...

    @property
    def secret_hash(self) -> str: ...

    @property
    def revoked(self) -> bool: ...

    @property
    def permissions(self) -> Iterable[str]: ...

    @property
    def usage_key(self) -> str: ...


class ApiArnError(ValueError):
    pass


def all_routes(method_arn: str) -> str:
    """``arn:aws:execute-api:<region>:<account>:<api>/<stage>/*/*``: every route of the caller's stage."""
    parts = method_arn.split(":", 5)
    if len(parts) != 6 or parts[:3] != ["arn", "aws", "execute-api"]:
        raise ApiArnError(f"not an API Gateway method ARN: {method_arn!r}")
    api_id, _, rest = parts[5].partition("/")
    stage = rest.split("/", 1)[0]
    if not api_id or not stage:
        raise ApiArnError(f"not an API Gateway method ARN: {method_arn!r}")
    return f"arn:aws:execute-api:{parts[3]}:{parts[4]}:{api_id}/{stage}/*/*"


def authorize(
    headers: Mapping[str, str], method_arn: str, keys: KeyReader[Any], fallback_usage_key: str = ""
) -> dict[str, Any]:
    """Raises UnauthorizedError for a missing, malformed, wrong or revoked key (API Gateway answers 401).

    The policy allows every route of the stage, so one decision fits any route; which routes a key may call is
    decided by its permissions, in each route. ``usageIdentifierKey`` names the API Gateway API key whose usage plan
    meters the request (the stage's ApiKeySourceType is AUTHORIZER): the tenant's, else ``fallback_usage_key``."""
    key: AuthorizedKey = authenticate_key(headers, keys)
    decision: dict[str, Any] = {
        "principalId": key.key_id,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [{"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [all_routes(method_arn)]}],
        },
        # API Gateway allows only flat string, number and boolean values (logic/api_keys.py reads them back)
        "context": {
            "tenantId": key.tenant_id,
            "keyId": key.key_id,
            "permissions": ",".join(sorted(str(permission) for permission in key.permissions)),
        },
    }
    usage = key.usage_key or fallback_usage_key
    if usage:
        decision["usageIdentifierKey"] = usage
    return decision
