"""HTTP shapes of export jobs shared by the job routes and the synchronous routes that hand over to a job."""

import base64
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.metrics import MetricUnit

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import request_event
from export_service.api.export_integrity import (
    audit_action,
    link_header,
    new_export_id,
    representation_headers,
    request_filter,
    sync_manifest_link,
)
from export_service.config import Settings
from export_service.logic.export_audit import ExportAction
from export_service.logic.export_engine import ExportBody, ExportLimits, ExportSpec, TooLarge
from export_service.logic.formats import ExportFormat
from export_service.models.api_keys import Principal
from export_service.models.export import QueryModel
from export_service.observability import emit, logger, record_export


def accepted(job: Mapping[str, Any], now: datetime, base_path: str = "") -> Response[str]:
    """202 Accepted with the job and where to poll it (``base_path``: the stage or custom-domain prefix)."""
    from export_service.logic.job_steps import job_body  # noqa: PLC0415 - a synchronous answer never loads jobs

    return Response(
        status_code=202,
        content_type="application/json",
        body=json.dumps(job_body(job, None, now)),
        headers={"Location": f"{base_path}/v1/exports/{job['job_id']}"},
    )


def audit_export_job(job: Mapping[str, Any], now: datetime, base_path: str = "") -> dict[str, Any]:
    """The runbook platform's AuditExportJob: where to download the file when it is ready (a path on this API that
    answers 202 while the job runs and redirects to a fresh link when it is done), and until when."""
    return {
        "apiVersion": "v1",
        "kind": "AuditExportJob",
        "metadata": {"jobId": job["job_id"]},
        "status": {
            "state": job["state"],
            "estimatedRecords": int(job.get("estimated_records") or 0),
            "downloadUrl": f"{base_path}/api/v1/audit/export/download/{job['job_id']}",
            "expiresAt": job["expires_at"],
        },
    }


def audit_export_job_accepted(job: Mapping[str, Any], now: datetime, base_path: str = "") -> Response[str]:
    body = audit_export_job(job, now, base_path)
    return Response(
        status_code=202,
        content_type="application/json",
        body=json.dumps(body),
        headers={"Location": body["status"]["downloadUrl"]},
    )


def base_path(request_path: str, path: str) -> str:
    """What precedes the route in the caller's URL: ``requestContext.path`` is ``/prod/v1/...`` on the
    execute-api domain (``path`` is ``/v1/...``)."""
    return request_path[: -len(path)] if path and request_path.endswith(path) else ""


def export_limits(settings: Settings, *, gzip: bool = False) -> ExportLimits:
    """The synchronous limits from validated settings (``gzip``: the answer will be compressed, see accepts_gzip)."""
    return ExportLimits(
        settings.sync_export_limit,
        settings.max_response_bytes,
        settings.count_cap,
        settings.read_prefetch,
        gzip=gzip,
        count_seconds=settings.count_seconds,
    )


def accepts_gzip(router: Router) -> bool:
    """The request's Accept-Encoding accepts gzip (``gzip`` or ``*`` without ``q=0``)."""
    headers = request_event(router).headers or {}
    value = next((v for k, v in headers.items() if k.lower() == "accept-encoding" and v), "")
    for part in value.split(","):
        coding, _, parameters = part.partition(";")
        refused = parameters.replace(" ", "").lower() in ("q=0", "q=0.0", "q=0.00", "q=0.000")
        if coding.strip().lower() in ("gzip", "*") and not refused:
            return True
    return False


def file_or_job(
    result: ExportBody | TooLarge,
    *,
    router: Router,
    spec: ExportSpec[Any],
    principal: Principal,
    fmt: ExportFormat,
    now: datetime,
    accepted_as: Callable[[Mapping[str, Any], datetime, str], Response[str]] | None = None,
    request: Any = None,
    query: QueryModel | None = None,
) -> Response[str]:
    """The export inline (200 with the file), or, when it is too large, the same validated request started as an
    asynchronous export for the key that asked: 202 + Location (400 EXPORT_TOO_LARGE where no state machine is
    configured). Either way the action is audited first (``request``/``query``: what was asked, for the audit
    record and the manifest)."""
    if isinstance(result, ExportBody):
        return serve_file(
            result, router=router, spec=spec, principal=principal, fmt=fmt, now=now, request=request, query=query
        )
    deps = get_dependencies()
    if not deps.settings.state_machine_arn:
        raise result.error
    # Loaded here: an export answered inline, the common case, never loads the job code at its cold start.
    from export_service.api.idempotency import hand_over_once  # noqa: PLC0415
    from export_service.logic.job_steps import start_job  # noqa: PLC0415

    def audit_start(job: Mapping[str, Any]) -> None:
        audit_action(
            router,
            principal,
            ExportAction.JOB_STARTED,
            dataset=spec.name,
            filter_=result.query.parameters(),
            records=result.matched,
            now=now,
            details={"job_id": str(job["job_id"]), "format": fmt.value},
        )

    def start() -> dict[str, Any]:
        return start_job(
            deps.jobs(),
            principal,
            spec,
            fmt,
            result.query,
            now,
            estimated=result.matched,
            audit=audit_start,
            estimate_complete=result.complete,
        )

    asked = request_event(router)  # the same request retried within minutes gets this job, not a second one
    job = hand_over_once(router, principal, asked.path, asked.multi_value_query_string_parameters, start)
    emit("SyncExportsHandedToJob", MetricUnit.Count, 1)
    logger.info("sync export handed to a job", tenant=principal.tenant_id, dataset=spec.name, job_id=job["job_id"])
    event = request_event(router)
    return (accepted_as or accepted)(job, now, base_path(event.request_context.path, event.path))


def serve_file(
    result: ExportBody,
    *,
    router: Router,
    spec: ExportSpec[Any],
    principal: Principal,
    fmt: StrEnum,
    now: datetime,
    request: Any = None,
    query: QueryModel | None = None,
) -> Response[str]:
    """200 with the file, once its export is audited; with ``manifest=true`` also its signed manifest, linked."""
    export_id = new_export_id(now)
    audit_action(
        router,
        principal,
        ExportAction.SYNC,
        dataset=spec.name,
        filter_=request_filter(query),
        records=result.records,
        now=now,
        details={"export_id": export_id, "format": fmt.value},
    )
    response = file_response(result, tenant=principal.tenant_id, dataset=spec.name, fmt=fmt)
    if query is not None and getattr(query, "manifest", False):
        link = sync_manifest_link(
            result,
            export_id=export_id,
            spec=spec,
            request=request,
            query=query,
            principal=principal,
            fmt=fmt.value,
            now=now,
        )
        response.headers["Link"] = link_header(link)
    response.headers["Export-Id"] = export_id
    return response


def file_response(result: ExportBody, *, tenant: str, dataset: str, fmt: StrEnum) -> Response[str]:
    """200 with the file as an attachment (logged, and counted in the RowsExported and BytesExported metrics). A
    binary file (the PDF) is base64-encoded here and flagged so, as API Gateway expects for its BinaryMediaTypes; the
    route's response validation (a str body) never sees raw bytes."""
    logger.info("export served", tenant=tenant, dataset=dataset, records=result.records, format=fmt.value)
    record_export(fmt.value, result.records, len(result.body))
    binary = isinstance(result.body, bytes)
    response = Response(
        status_code=200,
        content_type=result.content_type,
        body=base64.b64encode(result.body).decode("ascii") if isinstance(result.body, bytes) else result.body,
        headers={
            "Content-Disposition": f'attachment; filename="{result.filename}"',
            # RFC 9530: the digest of the representation as sent (a gzip-encoded answer: of its gzip bytes)
            **representation_headers(result.body, result.records),
        },
    )
    response.base64_encoded = binary  # what Powertools sets itself for a bytes body
    if result.encoding:  # a gzip-compressed file (the request accepted it): decoded by the client, not a .gz file
        response.headers["Content-Encoding"] = result.encoding
    response.headers["Vary"] = "Accept-Encoding"
    return response
