"""GET /v1/audit/export: the audit log as CSV, the AuditExport JSON envelope, or JSON Lines."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.caller import authorised_caller
from export_service.api.deps import get_dependencies
from export_service.api.job_responses import export_limits, file_or_job
from export_service.api.query_guard import register_query_rules
from export_service.logic.audit_export import build_audit_request, export_audit
from export_service.logic.formats import ExportFormat
from export_service.models.api_keys import Permission
from export_service.timefmt import utc_now

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
    event, principal = authorised_caller(router, Permission.AUDIT_READ)
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
    limits = export_limits(deps.settings)
    return file_or_job(
        lambda: export_audit(request, deps.audit_store, limits, now),
        event=event,
        tenant=principal.tenant_id,
        dataset="audit",
        fmt=format,
        now=now,
    )
