"""An export job's execution ended FAILED, TIMED_OUT or ABORTED (EventBridge: Step Functions Execution Status
Change): the job, if still processing, is marked failed and its slot given back, so no job stays processing."""

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.aws_clients import BATCH
from export_service.logic.job_lifecycle import settle_stopped_execution
from export_service.observability import logger, metrics, tracer
from export_service.timefmt import utc_now


@logger.inject_lambda_context(clear_state=True, correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def handler(event: EventBridgeModel, context: LambdaContext) -> dict:
    jobs = get_dependencies(BATCH).jobs()
    logger.append_keys(job_id=event.detail.get("name"), execution_status=event.detail.get("status"))
    outcome = settle_stopped_execution(jobs.jobs, jobs.slots, event.detail, utc_now())  # type: ignore[arg-type]
    if outcome["changed"]:
        metrics.add_metric(name="ExportJobsStopped", unit=MetricUnit.Count, value=1)
        metrics.add_dimension(name="Status", value=str(outcome["status"]))
    logger.info("export execution stopped", **outcome)
    return outcome
