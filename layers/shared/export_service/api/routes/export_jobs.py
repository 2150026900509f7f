"""POST /v1/exports, GET /v1/exports/{jobId}, GET /v1/exports: asynchronous exports (one router per endpoint)."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Body, Header, Path
from pydantic import BaseModel, ConfigDict, Field

from export_service.api.deps import get_dependencies
from export_service.api.endpoint import EndpointRouter, caller, face, request_event
from export_service.api.export_integrity import audit_action
from export_service.api.idempotency import HEADER as IDEMPOTENCY_HEADER
from export_service.api.idempotency import idempotency_key, start_once
from export_service.api.job_responses import accepted, audit_export_job_accepted, base_path
from export_service.logic.datasets import AUDIT, DATASET_NAMES, RUNBOOK_AUDIT
from export_service.logic.export_audit import ExportAction
from export_service.logic.job_steps import (
    JobContext,
    JobFailedError,
    download_link,
    get_job,
    job_body,
    list_jobs,
    start_requested_job,
)
from export_service.models.api_keys import Permission, Principal
from export_service.models.export import ExportFormat, Face, JobFormat
from export_service.timefmt import utc_now

# Starting a job needs EXPORTS_WRITE (and the dataset's read permission, checked with the body). A job is seen with
# its dataset's read permission (plus EXPORTS_READ for other keys' jobs), which only the job knows, so the GET
# routes ask for no permission up front.
start_router = EndpointRouter()
get_router = EndpointRouter()
list_router = EndpointRouter()
JSON = "application/json"


class StartExport(BaseModel):
    """``{"dataset": "audit" | "incidents" | ..., "format": "csv", <the sync endpoint's parameters>...}``"""

    model_config = ConfigDict(extra="allow")

    dataset: str = Field(description=", ".join(DATASET_NAMES))
    format: JobFormat = Field("csv", description="csv (default), json, jsonl, or parquet (typed columns)")

    def parameters(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


@start_router.endpoint(
    "POST",
    "/v1/exports",
    permission=Permission.EXPORTS_WRITE,
    summary="Start an asynchronous export",
    description="Body: dataset, format and the synchronous endpoint's parameters (validated the same way). "
    "No row cap. Answers 202 with Location and the ExportJob.",
    tags=["exports"],
    responses={
        202: {"description": "Job started: Location and the ExportJob"},
        400: {"description": "Invalid body: unknown dataset, format or parameter (named in the error)"},
        415: {"description": "The body is not sent as JSON"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {"description": "The key lacks EXPORTS_WRITE, or the dataset's read permission"},
        409: {"description": "A request with this Idempotency-Key is still being answered (Retry-After)"},
        413: {"description": "The body is larger than 256 KiB"},
        422: {"description": "This Idempotency-Key was used with another body in the last 24 hours"},
        429: {"description": "The tenant already runs its most export jobs at once (Retry-After)"},
    },
)
def post_export(
    body: Annotated[StartExport, Body()],
    _key: Annotated[
        str | None,
        Header(
            alias=IDEMPOTENCY_HEADER,
            description="Makes the start idempotent for 24 hours: the same key (of this API key) with the same body "
            "answers the job the first request started; with another body, 422. 1 to 255 visible ASCII characters.",
        ),
    ] = None,
) -> Response[str]:
    principal, event, now = caller(start_router), request_event(start_router), utc_now()
    fmt = ExportFormat(body.format)

    def audit_start(job: Mapping[str, Any]) -> None:
        audit_action(
            start_router,
            principal,
            ExportAction.JOB_STARTED,
            dataset=str(job["dataset"]),
            filter_=json.loads(job["parameters"]),
            records=int(job.get("estimated_records") or 0),
            now=now,
            details={"job_id": str(job["job_id"]), "format": str(job["format"])},
        )

    ctx = get_dependencies().jobs()
    key = idempotency_key(event.headers)

    def start() -> dict[str, Any]:
        return start_requested_job(ctx, principal, body.dataset, fmt, body.parameters(), now, audit=audit_start)

    job = start_once(start_router, principal, key, body.model_dump(mode="json"), start)
    return accepted(job, now, base_path(event.request_context.path, event.path))


def _audit_link(job: Mapping[str, Any], principal: Principal, now: datetime) -> None:
    """Handing out a succeeded job's download link is an export action: audited before the link leaves."""
    audit_action(
        get_router,
        principal,
        ExportAction.LINK_MINTED,
        dataset=str(job["dataset"]),
        filter_=json.loads(job["parameters"]),
        records=int(job["result"]["rows"]),
        now=now,
        details={"job_id": str(job["job_id"]), "format": str(job["format"])},
    )


@get_router.endpoint(
    "GET",
    {"/v1/exports/<jobId>": Face.PRODUCT, "/api/v1/audit/export/download/<jobId>": Face.RUNBOOK_AUDIT},
    permission=None,
    summary="An export job: state, progress, and when done a download link valid for 300 s",
    description="At /api/v1/audit/export/download/{jobId} (the runbook platform's download of an AuditExportJob): "
    "202 with the AuditExportJob while it runs, a 302 redirect to a fresh link (300 s) when it succeeded, 409 when "
    "it failed; an export job of another dataset is a 404 there.",
    tags={face: face.tags or ["exports"] for face in Face},
    responses={
        200: {"description": "The ExportJob; when succeeded, downloadUrl and manifestUrl presigned for 300 s"},
        202: {"description": "Runbook download path: the AuditExportJob, still running"},
        302: {"description": "Runbook download path: Location is the file's link, valid for 300 s"},
        409: {"description": "Runbook download path: the export failed (the error says why)"},
        401: {"description": "Missing, invalid or revoked API key"},
        403: {
            "description": "The key lacks the job's read permission (AUDIT_READ or INCIDENTS_READ), or EXPORTS_READ "
            "for a job another key started"
        },
        404: {"description": "No such job for this tenant"},
        410: {"description": "Expired (30 days)"},
    },
)
def get_export(job_id: Annotated[str, Path(alias="jobId")]) -> Response[str]:
    principal, now = caller(get_router), utc_now()
    ctx = get_dependencies().jobs()
    if face(get_router) == Face.RUNBOOK_AUDIT:
        return _download_audit_export(ctx, principal, job_id, now)
    job = get_job(ctx, principal, job_id, now)
    if job["state"] == "succeeded":
        _audit_link(job, principal, now)
    return Response(status_code=200, content_type=JSON, body=json.dumps(job_body(job, ctx.files, now)))


def _download_audit_export(ctx: JobContext, principal: Principal, job_id: str, now: datetime) -> Response[str]:
    job = get_job(ctx, principal, job_id, now, datasets=(RUNBOOK_AUDIT, AUDIT))
    if job["state"] == "failed":
        raise JobFailedError(f"export job '{job_id}' failed: {job.get('error', '')}", parameter="jobId")
    if job["state"] != "succeeded":
        event = request_event(get_router)
        return audit_export_job_accepted(job, now, base_path(event.request_context.path, event.path))
    _audit_link(job, principal, now)
    link = download_link(ctx.files, job)
    return Response(status_code=302, content_type=JSON, body="", headers={"Location": link})


@list_router.endpoint(
    "GET",
    "/v1/exports",
    permission=None,
    summary="The export jobs this key may see, newest first (of the tenant's last 50; expired jobs are left out)",
    description="A key sees the jobs whose dataset it may read: its own, and with EXPORTS_READ those of other keys.",
    tags=["exports"],
    responses={
        200: {"description": "ExportJobList"},
        401: {"description": "Missing, invalid or revoked API key"},
    },
)
def list_exports() -> Response[str]:
    principal, now = caller(list_router), utc_now()
    jobs = list_jobs(get_dependencies().jobs(), principal, now)
    body = {"apiVersion": "v1", "kind": "ExportJobList", "items": [job_body(job, None, now) for job in jobs]}
    return Response(status_code=200, content_type=JSON, body=json.dumps(body))
