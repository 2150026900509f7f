"""GET /v1/audit/export: the audit log as CSV, the AuditExport JSON envelope, JSON Lines or a PDF report."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller, face
from export_service.api.job_responses import (
    accepts_gzip,
    audit_export_job_accepted,
    export_limits,
    file_or_job,
    serve_file,
)
from export_service.errors import InvalidParameterError
from export_service.logic.audit_export import MAX_PDF_RECORDS, export_audit_pdf
from export_service.logic.datasets import AUDIT_EXPORT, RUNBOOK_AUDIT_EXPORT
from export_service.logic.export_engine import export_inline
from export_service.models.audit import LOCAL_TIME_COLUMN, AuditExportQuery
from export_service.models.export import ExportFormat, Face
from export_service.timefmt import utc_now

router = EndpointRouter()


@router.endpoint(
    "GET",
    {
        "/v1/audit/export": Face.PRODUCT,
        "/api/v1/audit/export": Face.RUNBOOK_AUDIT,
        "/v5/audit-sentinel/events/export": Face.AUDIT_SENTINEL,
    },
    permission=AUDIT_EXPORT.permission,
    query=AuditExportQuery,
    tags={face: face.tags or ["audit"] for face in Face},
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
        "202 Accepted with a Location header and an ExportJob that produces the same export asynchronously. "
        "At /api/v1/audit/export (the runbook platform's audit export, csv or json) the file has exactly the audit "
        "log's ten columns and fields, is named audit-export-YYYYMMDD, and a result over the limit answers 202 with "
        "an AuditExportJob whose downloadUrl is GET /api/v1/audit/export/download/{jobId}. At "
        "/v5/audit-sentinel/events/export it answers as here."
    ),
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
    runbook = face(router) == Face.RUNBOOK_AUDIT
    spec = RUNBOOK_AUDIT_EXPORT if runbook else AUDIT_EXPORT
    request = spec.build(principal.tenant_id, query, now)
    if runbook and request.fmt not in (ExportFormat.CSV, ExportFormat.JSON):
        raise InvalidParameterError("this audit export answers csv or json", parameter=query.format_parameter)
    limits = export_limits(deps.settings, gzip=accepts_gzip(router))  # a PDF is never compressed
    if request.fmt is ExportFormat.PDF:  # synchronous only: over 5,000 records is a 400, never a job
        pdf = export_audit_pdf(request, deps.audit_store, limits, now, parameter=query.format_parameter)
        return serve_file(
            pdf, router=router, spec=spec, principal=principal, fmt=request.fmt, now=now, request=request, query=query
        )
    result = export_inline(spec, request, query, request.fmt, deps, limits, now)
    accepted = audit_export_job_accepted if runbook else None
    return file_or_job(
        result,
        router=router,
        spec=spec,
        principal=principal,
        fmt=request.fmt,
        now=now,
        accepted_as=accepted,
        request=request,
        query=query,
    )
