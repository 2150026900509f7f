"""The API's Lambda REQUEST authorizer: checks the key, returns tenant and permissions as context."""

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.aws_clients import unavailable
from export_service.errors import UnauthorizedError
from export_service.logic.authorizer import authorize
from export_service.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    try:
        deps = get_dependencies()
        decision = authorize(
            event.headers or {}, event.method_arn, deps.api_key_store, deps.settings.fallback_usage_key
        )
    except UnauthorizedError as exc:
        logger.info("request not authorised", reason=exc.message, path=event.path)
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
