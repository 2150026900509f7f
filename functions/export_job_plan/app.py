"""Plan: validate the job, split its Queries into part files, write plan.json (a task of the export state machine)."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.aws_clients import BATCH
from export_service.logic.job_steps import run_plan
from export_service.models.jobs import PlanInput
from export_service.observability import logger, tracer
from export_service.timefmt import utc_now


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=PlanInput)
def handler(event: PlanInput, context: LambdaContext) -> dict:
    logger.append_keys(job_id=event.job_id, tenant=event.tenant)
    return run_plan(get_dependencies(BATCH).jobs(), event.tenant, event.job_id, utc_now(), event.distributed)
