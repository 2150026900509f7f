"""GET /v1/manifest-keys (any valid key). Thin: the route lives in the shared layer."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.app import create_app
from export_service.api.routes.manifest_keys import router
from export_service.observability import logger, metrics, tracer

app = create_app([router])


@logger.inject_lambda_context(clear_state=True, correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
