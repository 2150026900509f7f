"""GET /v1/audit/export: the audit log as CSV, the AuditExport JSON envelope, JSON Lines or a PDF report."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from export_service.api.caller import authorised_caller
from export_service.api.deps import get_dependencies
from export_service.api.job_responses import export_limits, file_or_job, file_response
from export_service.api.query_guard import register_query_rules
from export_service.errors import InvalidParameterError
from export_service.logic.audit_export import (
    MAX_PDF_RECORDS,
    build_audit_request,
    export_audit,
    export_audit_pdf,
    metadata_parameter,
)
from export_service.logic.localize import SUPPORTED_LOCALES
from export_service.models.api_keys import Permission
from export_service.models.audit import AUDIT_LIST_FILTERS, LOCAL_TIME_COLUMN, METADATA_KEYS, AuditFileType
from export_service.timefmt import utc_now

router = Router()

PATH = "/v1/audit/export"
LISTS = tuple(AUDIT_LIST_FILTERS)
QUERY_RULES = register_query_rules(
    PATH,
    {"format", "file_type", "from", "to", "range_start", "range_end", "action", "user", "namespace", "bom"}
    | {"locale", "timezone"}
    | set(LISTS)
    | {metadata_parameter(key) for key in METADATA_KEYS},
    repeatable=LISTS,
    permission=Permission.AUDIT_READ.value,
)
_ISO = "ISO 8601 date-time, e.g. 2026-03-01T00:00:00Z (no offset means UTC)"
_ANY = "repeated or comma-separated; any of the values matches; an unknown value matches nothing"
_META = "Metadata filter (seed 003): records whose metadata has this exact value for the key"


@router.get(
    PATH,
    summary="Export the audit log",
    description=(
        "Audit records of the caller's tenant in time order (timestamp, then id), as CSV with seed 001's columns "
        "followed by seed 003's (eventType, subType, systemSource, auditeeId, metadata), the AuditExport JSON "
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
def get_audit_export(
    format: Annotated[  # noqa: A002
        AuditFileType | None, Query(description="csv (default), json, jsonl or pdf")
    ] = None,
    file_type: Annotated[AuditFileType | None, Query(description="Synonym of 'format' (seed 003)")] = None,
    from_: Annotated[str | None, Query(alias="from", description=f"Start, {_ISO}")] = None,
    to: Annotated[str | None, Query(description=f"End (default: now), {_ISO}")] = None,
    range_start: Annotated[str | None, Query(description="Synonym of 'from' (seed 003)")] = None,
    range_end: Annotated[str | None, Query(description="Synonym of 'to' (seed 003)")] = None,
    action: Annotated[str | None, Query(description="Exact action, e.g. runbook.create")] = None,
    user: Annotated[str | None, Query(description="Exact user, e.g. admin@example.com")] = None,
    namespace: Annotated[str | None, Query(description="Exact namespace, e.g. production")] = None,
    event_type: Annotated[list[str] | None, Query(description=f"Event types, e.g. runbook; {_ANY}")] = None,
    sub_type: Annotated[list[str] | None, Query(description=f"Sub types, e.g. created; {_ANY}")] = None,
    system_source: Annotated[
        list[str] | None, Query(description=f"System sources, e.g. runbook_service; {_ANY}")
    ] = None,
    auditee_id: Annotated[list[str] | None, Query(description=f"IDs of who caused the event; {_ANY}")] = None,
    metadata_entity_id: Annotated[str | None, Query(alias="metadata[entity_id]", description=_META)] = None,
    metadata_assessment_id: Annotated[str | None, Query(alias="metadata[assessment_id]", description=_META)] = None,
    metadata_task_id: Annotated[str | None, Query(alias="metadata[task_id]", description=_META)] = None,
    metadata_workflow_instance_id: Annotated[
        str | None, Query(alias="metadata[workflow_instance_id]", description=_META)
    ] = None,
    metadata_screening_application_id: Annotated[
        str | None, Query(alias="metadata[screening_application_id]", description=_META)
    ] = None,
    metadata_screening_config_id: Annotated[
        str | None, Query(alias="metadata[screening_config_id]", description=_META)
    ] = None,
    metadata_match_id: Annotated[str | None, Query(alias="metadata[match_id]", description=_META)] = None,
    metadata_inquiry_id: Annotated[str | None, Query(alias="metadata[inquiry_id]", description=_META)] = None,
    metadata_tag: Annotated[str | None, Query(alias="metadata[tag]", description=_META)] = None,
    metadata_cache_id: Annotated[str | None, Query(alias="metadata[cache_id]", description=_META)] = None,
    metadata_workflow_step: Annotated[str | None, Query(alias="metadata[workflow_step]", description=_META)] = None,
    locale: Annotated[
        str | None,
        Query(description=f"Language of the PDF and of {LOCAL_TIME_COLUMN}: {', '.join(SUPPORTED_LOCALES)} (en)"),
    ] = None,
    timezone: Annotated[
        str | None, Query(description=f"IANA time zone of the PDF's dates and of {LOCAL_TIME_COLUMN} (UTC)")
    ] = None,
    bom: Annotated[bool, Query(description="Start CSV with a UTF-8 byte order mark (for Excel)")] = False,
) -> Response[str]:
    event, principal = authorised_caller(router, Permission.AUDIT_READ)
    deps = get_dependencies()
    now = utc_now()
    if format is not None and file_type is not None and format is not file_type:
        raise InvalidParameterError("give either 'format' or 'file_type', not both", parameter="file_type")
    format_name = "file_type" if file_type is not None else "format"
    request = build_audit_request(
        principal.tenant_id,
        fmt=file_type or format or AuditFileType.CSV,
        start=(("from", from_), ("range_start", range_start)),
        end=(("to", to), ("range_end", range_end)),
        filters={"action": action, "user": user, "namespace": namespace},
        lists={
            "event_type": event_type,
            "sub_type": sub_type,
            "system_source": system_source,
            "auditee_id": auditee_id,
        },
        metadata={
            "entity_id": metadata_entity_id,
            "assessment_id": metadata_assessment_id,
            "task_id": metadata_task_id,
            "workflow_instance_id": metadata_workflow_instance_id,
            "screening_application_id": metadata_screening_application_id,
            "screening_config_id": metadata_screening_config_id,
            "match_id": metadata_match_id,
            "inquiry_id": metadata_inquiry_id,
            "tag": metadata_tag,
            "cache_id": metadata_cache_id,
            "workflow_step": metadata_workflow_step,
        },
        locale=locale,
        timezone=timezone,
        bom=bom,
        now=now,
    )
    limits = export_limits(deps.settings)
    if request.fmt is AuditFileType.PDF:  # synchronous only: over 5,000 records is a 400, never a job
        pdf = export_audit_pdf(request, deps.audit_store, limits, now, parameter=format_name)
        return file_response(pdf, tenant=principal.tenant_id, dataset="audit", fmt=request.fmt)
    return file_or_job(
        lambda: export_audit(request, deps.audit_store, limits, now),
        event=event,
        principal=principal,
        dataset="audit",
        fmt=request.export_format,
        now=now,
        repeatable=LISTS,
    )
