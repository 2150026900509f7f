"""The REQUEST authorizer's decision: an Allow policy carrying the principal, or Unauthorized."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import (
    APIGatewayAuthorizerResponse,
    parse_api_gateway_arn,
)

from export_service.logic.api_keys import ApiKeyReader, authenticate, principal_to_context


def authorize(headers: Mapping[str, str], method_arn: str, keys: ApiKeyReader) -> dict[str, Any]:
    """Raises UnauthorizedError for a missing, malformed, wrong or revoked key (API Gateway answers 401).

    The policy allows every route of the stage, so one decision fits any route; which routes a key may call is
    decided by its permissions, in each route."""
    principal = authenticate(headers, keys)
    arn = parse_api_gateway_arn(method_arn)
    policy = APIGatewayAuthorizerResponse(
        principal_id=principal.key_id,
        region=arn.region,
        aws_account_id=arn.aws_account_id,
        api_id=arn.api_id,
        stage=arn.stage,
        context=principal_to_context(principal),
    )
    policy.allow_all_routes()
    return policy.asdict()
