"""The API's Lambda REQUEST authorizer: checks the key, returns tenant and permissions as context.

It runs before every request, so it loads only what checking a key needs: boto3 and its DynamoDB client, Powertools'
Logger, and the standard library (no pydantic, no Powertools data classes, no X-Ray SDK: Lambda's active tracing
still records its invocations)."""

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.authorizer_keys import fallback_usage_key, key_records
from export_service.aws_clients import unavailable
from export_service.errors import UnauthorizedError
from export_service.logic.authorizer import authorize
from export_service.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: LambdaContext) -> dict:
    try:
        decision = authorize(event.get("headers") or {}, event["methodArn"], key_records(), fallback_usage_key())
    except UnauthorizedError as exc:
        logger.info("request not authorised", reason=exc.message, path=event.get("path"))
        # API Gateway turns exactly this message into a 401 (the UNAUTHORIZED gateway response).
        raise Exception("Unauthorized") from None  # noqa: TRY002
    except Exception as exc:
        if not unavailable(exc):
            raise
        # The key store did not answer within the client's timeouts and retries (a few seconds): API Gateway answers
        # its AUTHORIZER_FAILURE gateway response, a 503 with Retry-After in the error model (template.yaml).
        logger.warning("API key store unavailable", error_type=type(exc).__name__, error=str(exc)[:300])
        raise RuntimeError("the API key store is unavailable") from None
    logger.info("request authorised", key_id=decision["principalId"], tenant=decision["context"]["tenantId"])
    return decision
