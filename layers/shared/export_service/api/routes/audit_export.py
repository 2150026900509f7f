"""GET /v1/audit/export: the audit log as CSV, the AuditExport JSON envelope, JSON Lines or a PDF report."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller
from export_service.api.job_responses import export_limits, file_or_job, file_response
from export_service.logic.audit_export import MAX_PDF_RECORDS, export_audit_pdf
from export_service.logic.datasets import AUDIT_EXPORT
from export_service.logic.export_engine import export_inline
from export_service.models.audit import LOCAL_TIME_COLUMN, AuditExportQuery
from export_service.models.export import ExportFormat
from export_service.timefmt import utc_now

router = EndpointRouter()


@router.endpoint(
    "GET",
    "/v1/audit/export",
    permission=AUDIT_EXPORT.permission,
    query=AuditExportQuery,
    summary="Export the audit log",
    description=(
        "Audit records of the caller's tenant in time order (timestamp, then id), as CSV with the audit log's columns "
        "(id ... checksum) followed by the audit-event fields (eventType, subType, systemSource, auditeeId, "
        "metadata), the AuditExport JSON "
        "envelope, JSON Lines, or a PDF report (file_type=pdf, at most "
        f"{MAX_PDF_RECORDS:,} records, else 400; never a 202). Both bounds are inclusive. With `locale` or "
        f"`timezone`, csv/json/jsonl add a `{LOCAL_TIME_COLUMN}` column (the timestamp in that zone and language, "
        "with its UTC offset) after the others; `timestamp` stays exact UTC. Results over the synchronous limit "
        "(10,000 records by default) or the Lambda response size are never truncated: the call answers "
        "202 Accepted with a Location header and an ExportJob that produces the same export asynchronously."
    ),
    tags=["audit"],
    responses={
        200: {
            "description": "The export file",
            "content": {"text/csv": {}, "application/json": {}, "application/x-ndjson": {}, "application/pdf": {}},
        },
        202: {"description": "Too large to answer inline: an ExportJob was started (poll its Location)"},
        400: {"description": "Invalid parameter, reversed range, or result too large (PDF: over 5,000 records)"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks AUDIT_READ"},
    },
)
def get_audit_export(query: Annotated[AuditExportQuery, Query()]) -> Response[str]:  # type: ignore[valid-type]
    principal = caller(router)
    deps = get_dependencies()
    now = utc_now()
    request = AUDIT_EXPORT.build(principal.tenant_id, query, now)
    limits = export_limits(deps.settings)
    if request.fmt is ExportFormat.PDF:  # synchronous only: over 5,000 records is a 400, never a job
        pdf = export_audit_pdf(request, deps.audit_store, limits, now, parameter=query.format_parameter)
        return file_response(pdf, tenant=principal.tenant_id, dataset="audit", fmt=request.fmt)
    result = export_inline(AUDIT_EXPORT, request, query, request.fmt, deps, limits, now)
    return file_or_job(result, router=router, spec=AUDIT_EXPORT, principal=principal, fmt=request.fmt, now=now)
