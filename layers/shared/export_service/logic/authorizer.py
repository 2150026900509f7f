"""The REQUEST authorizer's decision: an Allow policy carrying the principal, or Unauthorized."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)

from export_service.logic.api_keys import ApiKeyReader, authenticate_key, principal_to_context
from export_service.models.api_keys import Principal


def authorize(
    headers: Mapping[str, str], method_arn: str, keys: ApiKeyReader, fallback_usage_key: str = ""
) -> dict[str, Any]:
    """Raises UnauthorizedError for a missing, malformed, wrong or revoked key (API Gateway answers 401).

    The policy allows every route of the stage, so one decision fits any route; which routes a key may call is
    decided by its permissions, in each route. ``usageIdentifierKey`` names the API Gateway API key whose usage plan
    meters the request (the stage's ApiKeySourceType is AUTHORIZER): the tenant's, else ``fallback_usage_key``."""
    key = authenticate_key(headers, keys)
    principal = Principal(tenant_id=key.tenant_id, key_id=key.key_id, permissions=key.permissions)
    arn = parse_api_gateway_arn(method_arn)
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.key_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=principal_to_context(principal),
        usage_identifier_key=key.usage_key or fallback_usage_key or None,
    )
    policy.allow_all_routes()
    return policy.asdict()
