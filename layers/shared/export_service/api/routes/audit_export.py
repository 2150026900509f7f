"""GET /v1/audit/export: the audit log as CSV, the AuditExport JSON envelope, or JSON Lines."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from export_service.api.deps import get_dependencies
from export_service.api.job_responses import accepted, base_path, parameters_from_query
from export_service.api.query_guard import check_query_parameters, register_query_rules
from export_service.errors import ExportTooLargeError
from export_service.logic.api_keys import principal_from_context, require_permission
from export_service.logic.audit_export import ExportLimits, build_audit_request, export_audit
from export_service.logic.formats import ExportFormat
from export_service.logic.job_steps import start_job
from export_service.logic.timefmt import utc_now
from export_service.models.api_keys import Permission
from export_service.observability import logger, metrics

router = Router()

PATH = "/v1/audit/export"
QUERY_RULES = register_query_rules(
    PATH,
    {"format", "from", "to", "range_start", "range_end", "action", "user", "namespace", "bom"},
    permission=Permission.AUDIT_READ.value,
)
_ISO = "ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z (no offset means UTC)"


@router.get(
    PATH,
    summary="Export the audit log",
    description=(
        "Audit records of the caller's tenant in time order (timestamp, then id), as CSV with seed 001's columns, "
        "the AuditExport JSON envelope, or JSON Lines. Both bounds are inclusive. Results over the synchronous "
        "limit (10,000 records by default) or the Lambda response size are never truncated: the call answers "
        "202 Accepted with a Location header and an ExportJob that produces the same export asynchronously."
    ),
    tags=["audit"],
    responses={
        200: {"description": "The export file", "content": {"text/csv": {}, "application/json": {}}},
        202: {"description": "Too large to answer inline: an ExportJob was started (poll its Location)"},
        400: {"description": "Invalid parameter, reversed range, or result too large"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks AUDIT_READ"},
    },
)
def get_audit_export(
    format: Annotated[ExportFormat, Query(description="csv (default), json or jsonl")] = ExportFormat.CSV,  # noqa: A002
    from_: Annotated[str | None, Query(alias="from", description=f"Start, {_ISO}")] = None,
    to: Annotated[str | None, Query(description=f"End (default: now), {_ISO}")] = None,
    range_start: Annotated[str | None, Query(description="Synonym of 'from' (seed 003)")] = None,
    range_end: Annotated[str | None, Query(description="Synonym of 'to' (seed 003)")] = None,
    action: Annotated[str | None, Query(description="Exact action, e.g. runbook.create")] = None,
    user: Annotated[str | None, Query(description="Exact user, e.g. admin@example.com")] = None,
    namespace: Annotated[str | None, Query(description="Exact namespace, e.g. production")] = None,
    bom: Annotated[bool, Query(description="Start CSV with a UTF-8 byte order mark (for Excel)")] = False,
) -> Response[str]:
    event = router.current_event
    assert isinstance(event, APIGatewayProxyEvent)  # the REST resolver's event type
    principal = principal_from_context(event.request_context.authorizer.get_context())
    require_permission(principal, Permission.AUDIT_READ)
    check_query_parameters(PATH, event.multi_value_query_string_parameters)
    deps = get_dependencies()
    now = utc_now()
    request = build_audit_request(
        principal.tenant_id,
        fmt=format,
        start=(("from", from_), ("range_start", range_start)),
        end=(("to", to), ("range_end", range_end)),
        filters={"action": action, "user": user, "namespace": namespace},
        bom=bom,
        now=now,
    )
    settings = deps.settings
    limits = ExportLimits(
        settings.sync_export_limit, settings.max_response_bytes, settings.count_cap, settings.read_prefetch
    )
    try:
        result = export_audit(request, deps.audit_store, limits, now)
    except ExportTooLargeError as too_large:
        if not settings.state_machine_arn:
            raise
        # Too large to answer inline: the same request becomes an asynchronous export (202 + Location).
        parameters = parameters_from_query(event.multi_value_query_string_parameters, ())
        estimated = int(too_large.details.get("matchedRecords", 0))
        job = start_job(deps.jobs(), principal.tenant_id, "audit", format, parameters, now, estimated=estimated)
        logger.info("sync export handed to a job", tenant=principal.tenant_id, job_id=job["job_id"])
        return accepted(job, now, base_path(event.request_context.path, event.path))
    logger.info("audit export served", tenant=principal.tenant_id, records=result.records, format=format.value)
    metrics.add_metric(name="AuditRecordsExported", unit="Count", value=result.records)
    return Response(
        status_code=200,
        content_type=result.content_type,
        body=result.body,
        headers={"Content-Disposition": f'attachment; filename="{result.filename}"'},
    )
