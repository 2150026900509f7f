"""The API's Lambda REQUEST authorizer: checks the key, returns tenant and permissions as context."""

from aws_lambda_powertools.utilities.data_classes import event_source
from aws_lambda_powertools.utilities.data_classes.api_gateway_authorizer_event import APIGatewayAuthorizerRequestEvent
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.errors import UnauthorizedError
from export_service.logic.authorizer import authorize
from export_service.observability import logger, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_source(data_class=APIGatewayAuthorizerRequestEvent)
def handler(event: APIGatewayAuthorizerRequestEvent, context: LambdaContext) -> dict:
    try:
        decision = authorize(event.headers or {}, event.method_arn, get_dependencies().api_key_store)
    except UnauthorizedError as exc:
        logger.info("request not authorised", reason=exc.message, path=event.path)
        # API Gateway turns exactly this message into a 401 (the UNAUTHORIZED gateway response).
        raise Exception("Unauthorized") from None  # noqa: TRY002
    logger.info("request authorised", key_id=decision["principalId"], tenant=decision["context"]["tenantId"])
    return decision
