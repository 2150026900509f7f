"""The nightly schedule's target (EventBridge Scheduled Event): start one export execution per tenant and night.
The commit deadline's schedule calls it too (detail.check = commit-deadline): which tenants' nights are late."""

from datetime import timedelta

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.parser.models import EventBridgeModel
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.aws_clients import BATCH
from export_service.logic.nightly import dispatch
from export_service.logic.nightly_watch import late_tenants
from export_service.observability import logger, metrics, tracer

DEADLINE_CHECK = "commit-deadline"  # detail.check of the deadline schedule's event


@logger.inject_lambda_context(clear_state=True, correlation_id_path="id")
@tracer.capture_lambda_handler
@metrics.log_metrics
@event_parser(model=EventBridgeModel)
def handler(event: EventBridgeModel, context: LambdaContext) -> dict:
    deps = get_dependencies(BATCH)
    if event.detail.get("check") == DEADLINE_CHECK:  # the NightlyCommitDeadline schedule, not a night to start
        late = late_tenants(deps.export_requests().enabled_tenants(), event.time)
        metrics.add_metric(name="NightlyNotCommitted", unit=MetricUnit.Count, value=len(late))
        if late:
            logger.error("nightly exports not committed by the deadline", tenants=late, checked=event.time.isoformat())
        return {"checked": event.time.isoformat(), "late": late}
    jobs = deps.jobs()
    if jobs.starter is None:
        raise RuntimeError("STATE_MACHINE_ARN is not set: the nightly dispatcher cannot start exports")
    overlap = timedelta(minutes=deps.settings.nightly_overlap_minutes)
    outcomes = dispatch(deps.export_requests(), jobs.starter, event.time, overlap)
    started = [o for o in outcomes if o.outcome == "started"]
    metrics.add_metric(name="NightlyExecutionsStarted", unit=MetricUnit.Count, value=len(started))
    logger.info("nightly dispatch", scheduled=event.time.isoformat(), outcomes=[o.__dict__ for o in outcomes])
    return {"scheduled": event.time.isoformat(), "tenants": [o.__dict__ for o in outcomes]}
