"""Nightly export step: publish the night's export requests and move the watermark, once (a state machine task);
then the night's signed manifest, chained to the tenant's previous night, beside its files, and the completion
event."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import event_bus, get_dependencies, manifest_signer
from export_service.aws_clients import BATCH
from export_service.logic.nightly import commit_night
from export_service.logic.nightly_chain import NightPublisher
from export_service.models.nightly import CommitInput
from export_service.observability import logger, tracer
from export_service.timefmt import utc_now


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=CommitInput)
def handler(event: CommitInput, context: LambdaContext) -> dict:
    logger.append_keys(tenant=event.tenant, night=event.night)
    deps = get_dependencies(BATCH)  # a state machine task: patient clients
    publisher = NightPublisher(files=deps.jobs().files, signer=manifest_signer(BATCH), events=event_bus(BATCH))
    result = commit_night(deps.export_requests(), event, utc_now(), publisher)
    logger.info("nightly commit", **result)
    return result
