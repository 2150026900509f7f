"""Nightly export step: one source's file (CSV, or Parquet for a tenant that chose it) for one tenant and night,
streamed into S3 (a state machine task)."""

from aws_lambda_powertools.utilities.parser import event_parser
from aws_lambda_powertools.utilities.typing import LambdaContext

from export_service.api.deps import get_dependencies
from export_service.aws_clients import BATCH
from export_service.logic import nightly
from export_service.models.nightly import SourceInput
from export_service.observability import logger, record_export, tracer


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
@event_parser(model=SourceInput)
def handler(event: SourceInput, context: LambdaContext) -> dict:
    logger.append_keys(tenant=event.tenant, night=event.night, source=event.source, format=event.format.value)
    deps = get_dependencies(BATCH)
    result = nightly.export_source(deps, deps.jobs().files, event)
    record_export(result.format.value, result.rows, result.bytes)
    return result.model_dump(mode="json")
