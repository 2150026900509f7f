"""Finish (a task of the export state machine): stitch the part files, hash the file, write the manifest."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.aws_clients import BATCH
from export_service.logic.job_steps import run_finish
from export_service.models.jobs import FinishInput
from export_service.observability import logger, tracer
from export_service.timefmt import utc_now


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=FinishInput)
def handler(event: FinishInput, context: LambdaContext) -> dict:
    logger.append_keys(job_id=event.job_id, tenant=event.tenant)
    return run_finish(
        get_dependencies(BATCH).jobs(), event.tenant, event.job_id, [r.model_dump() for r in event.results], utc_now()
    )
