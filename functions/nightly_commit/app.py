"""Nightly export step: publish the night's export requests and move the watermark, once (a state machine task)."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.logic.nightly import commit_night
from export_service.models.nightly import CommitInput
from export_service.observability import logger, tracer
from export_service.timefmt import utc_now


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=CommitInput)
def handler(event: CommitInput, context: LambdaContext) -> dict:
    logger.append_keys(tenant=event.tenant, night=event.night)
    result = commit_night(get_dependencies().export_requests(), event, utc_now())
    logger.info("nightly commit", **result)
    return result
