"""The steps of an export job, as the API and the state machine's tasks run them. Payloads carry keys and counts."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from export_service.dal.query import QueryPartition
from export_service.dal.s3_files import PRESIGN_SECONDS
from export_service.errors import ExportServiceError, ForbiddenError, NotConfiguredError, NotFoundError
from export_service.logic import parquet_files
from export_service.logic.balance import balanced_chunks, estimated_rows, filtered
from export_service.logic.datasets import AUDIT, export_spec, read_permission
from export_service.logic.distributed import distributed_chunks, items_key, recorded_results
from export_service.logic.export_engine import ExportSpec, bounded_count, envelope_metadata, require_read
from export_service.logic.export_events import JOB_FAILED, JOB_SUCCEEDED, EventPublisher, job_failed, job_succeeded
from export_service.logic.export_jobs import (
    JOB_RETENTION,
    MAX_CHUNKS,
    FilesLike,
    JobSpec,
    JobStoreLike,
    SourceStores,
    build_job,
    chunk,
    export_part,
    filename_for,
    frozen_parameters,
    job_prefix,
    job_query,
    new_job_id,
    plan_parts,
    stitch,
)
from export_service.logic.formats import CONTENT_TYPES, ExportFormat
from export_service.logic.job_lifecycle import Slots, give_back_slot, hold_slot
from export_service.logic.job_progress import PartProgress, records_so_far
from export_service.logic.manifest import Signer, file_entry, manifest_bytes, new_manifest, sign_manifest
from export_service.models.api_keys import Permission, Principal
from export_service.models.export import QueryModel
from export_service.observability import MetricUnit, emit, record_export
from export_service.timefmt import format_instant


class ExecutionStarter(Protocol):
    def start(self, name: str, payload: Mapping[str, Any]) -> bool: ...


class Presigner(Protocol):
    def presign(self, key: str, filename: str | None = None, expires: int = PRESIGN_SECONDS) -> str: ...


@dataclass
class JobContext:
    stores: SourceStores
    jobs: JobStoreLike
    files: FilesLike
    starter: ExecutionStarter | None = None
    count_cap: int = 100_000
    count_seconds: float = 0.25  # the count before a 202 stops then (estimatedRecords is then a lower bound) ...
    count_floor: int = 10_000  # ... once it counted this many (the synchronous limit: a few small pages)
    signer: Signer | None = None  # signs manifests (the Finish step, synchronous answers with manifest=true)
    events: EventPublisher | None = None  # completion events (Finish, RecordFailure)
    slots: Slots | None = None  # the tenant's jobs running at once (None: no limit)


_CALLER_ERRORS = {"InvalidParameterError", "InvalidRangeError", "UnknownParameterError", "NotFoundError"}
JOB_ID = re.compile(r"^exp-[0-9]{8}T[0-9]{6}-[0-9a-f]{12}$")


class GoneError(ExportServiceError):
    status = 410
    code = "GONE"


class JobFailedError(ExportServiceError):
    status = 409
    code = "EXPORT_FAILED"


def start_requested_job(
    ctx: JobContext,
    principal: Principal,
    dataset: str,
    fmt: ExportFormat,
    params: Mapping[str, Any],
    now: datetime,
    audit: Callable[[Mapping[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """POST /v1/exports: an unknown dataset is a 400, then the dataset's read permission a 403, then the parameters,
    validated by the dataset's query model (400 naming the parameter)."""
    spec = export_spec(dataset)
    require_read(spec, principal)  # who may read the rows comes before what was asked of them
    query = job_query(spec, fmt, params)
    # a dataset whose parameters name the format (file_type) says what the file is; Parquet is the job's own
    fmt = fmt if fmt is ExportFormat.PARQUET else getattr(query, "fmt", fmt)
    return start_job(ctx, principal, spec, fmt, query, now, audit=audit)


def start_job(
    ctx: JobContext,
    principal: Principal,
    spec: ExportSpec[Any],
    fmt: ExportFormat,
    query: QueryModel,
    now: datetime,
    estimated: int | None = None,
    audit: Callable[[Mapping[str, Any]], None] | None = None,
    estimate_complete: bool = True,
) -> dict[str, Any]:
    """Record and start a job of a validated request for ``principal``, who must hold the dataset's read permission;
    returns the job item. ``estimated``: a count already made by the caller. ``audit``: writes the "job started"
    audit record of the recorded job before its execution starts; when it fails the job is marked failed and the
    error raised (no job runs unaudited)."""
    tenant = principal.tenant_id
    held = require_read(spec, principal)  # what the rows are read with: recorded, so every step reads the same
    job = build_job(tenant, spec, fmt, query, now, held)
    plan = plan_parts(job, ctx.stores)
    if estimated is None and spec.prober is not None and not filtered(plan.parts):
        # what the planner's probes tell: a few small Queries whatever the size (exact when every day is quiet)
        estimated, _exact = estimated_rows(plan.parts, spec.prober(ctx.stores))
    elif estimated is None:  # a count within a budget: the 202 comes at once whatever the size; the job counts on
        estimated, estimate_complete = bounded_count(
            spec, job.request, ctx.stores, plan.parts, ctx.count_cap, ctx.count_seconds, ctx.count_floor
        )
    job_id = new_job_id(now)
    expires = now + JOB_RETENTION
    item = {
        "job_id": job_id,
        "tenant": tenant,
        "dataset": spec.name,
        # seeing the job, its links or its manifest needs every permission its rows were read with
        "read_permissions": sorted(permission.value for permission in held),
        "created_by": principal.key_id,  # who may collect it without EXPORTS_READ
        "format": fmt.value,
        "parameters": json.dumps(frozen_parameters(job), sort_keys=True),
        "filename": filename_for(job, plan, now),
        "state": "processing",
        "estimated_records": estimated,
        "estimate_complete": estimate_complete,
        "created_at": format_instant(now),
        "updated_at": format_instant(now),
        "expires_at": format_instant(expires),
    }
    if ctx.starter is None:
        raise NotConfiguredError("asynchronous exports are not configured in this deployment (no state machine)")
    hold_slot(ctx.slots, ctx.jobs, tenant, job_id, now)  # 429 TOO_MANY_JOBS when the tenant runs its most jobs
    # Recorded as processing before the execution starts, so no step can ever be overwritten by this call.
    ctx.jobs.create(tenant, job_id, item, ttl=int(expires.timestamp()))
    if audit is not None:
        try:
            audit(item)
        except Exception:
            ctx.jobs.update(tenant, job_id, {"state": "failed", "error": "the export could not be audited; try again"})
            give_back_slot(ctx.slots, tenant, job_id)  # the job never ran: its slot is free again at once
            raise
    try:
        # The execution is named after the job: a duplicated start is refused by Step Functions, not run twice.
        ctx.starter.start(job_id, {"job_id": job_id, "tenant": tenant})
    except Exception:
        ctx.jobs.update(tenant, job_id, {"state": "failed", "error": "the export could not be started; try again"})
        give_back_slot(ctx.slots, tenant, job_id)
        raise
    return item


def _load(ctx: JobContext, tenant: str, job_id: str) -> dict[str, Any]:
    job = ctx.jobs.get(tenant, job_id)
    if job is None:
        raise NotFoundError(f"no export job '{job_id}'", parameter="jobId")
    return job


def _spec(job: Mapping[str, Any], now: datetime) -> JobSpec:
    spec = export_spec(job["dataset"])
    fmt = ExportFormat(job["format"])
    query = job_query(spec, fmt, json.loads(job["parameters"]))
    return build_job(job["tenant"], spec, fmt, query, now, job_read_permissions(job))


def run_plan(ctx: JobContext, tenant: str, job_id: str, now: datetime, distributed: bool = False) -> dict[str, Any]:
    """``distributed``: the Map's items go to S3 for a Distributed Map, in as many parts as the rows need
    (logic/distributed.py); else at most 32 parts, returned inline."""
    job = _load(ctx, tenant, job_id)
    spec = _spec(job, now)
    parts = plan_parts(spec, ctx.stores).parts
    if distributed and spec.spec.prober is not None:
        chunks = distributed_chunks(parts, spec.spec.prober(ctx.stores))
    elif spec.spec.prober is not None:  # parts balanced by items read: a busy day is cut among several workers
        chunks = balanced_chunks(parts, spec.spec.prober(ctx.stores), MAX_CHUNKS)
    else:
        chunks = chunk(parts)
    prefix = job_prefix(tenant, job_id)
    plan_key = f"{prefix}/plan.json"
    ctx.files.put_json(plan_key, {"chunks": [[p.model_dump() for p in group] for group in chunks]})
    ctx.jobs.update(tenant, job_id, {"partitions_total": len(chunks), "updated_at": format_instant(now)})
    items = [{"job_id": job_id, "tenant": tenant, "plan_key": plan_key, "index": i} for i in range(len(chunks))]
    if distributed:  # read by the Distributed Map's ItemReader: the payload would not hold thousands of items
        ctx.files.put_json(items_key(prefix), items)
        bucket = getattr(ctx.files, "bucket", "")
        return {
            "job_id": job_id,
            "tenant": tenant,
            "plan_key": plan_key,
            "items_bucket": bucket,
            "items_key": items_key(prefix),
        }
    return {"job_id": job_id, "tenant": tenant, "plan_key": plan_key, "chunks": items}


def run_part(ctx: JobContext, tenant: str, job_id: str, plan_key: str, index: int, now: datetime) -> dict[str, Any]:
    job = _load(ctx, tenant, job_id)
    spec = _spec(job, now)
    group = [QueryPartition.model_validate(p) for p in ctx.files.get_json(plan_key)["chunks"][index]]
    key = f"{job_prefix(tenant, job_id)}/parts/{index:05d}"
    upload = ctx.files.upload(key, "application/octet-stream")
    progress = PartProgress(ctx.jobs, tenant, job_id, index)
    try:
        if spec.fmt is ExportFormat.PARQUET:  # a Parquet part file (typed columns; DuckDB in the job workers)
            rows = parquet_files.write_part(spec.spec.read(spec.request, ctx.stores, group, 1), spec.columns, upload)
        else:
            rows = export_part(spec, ctx.stores, group, upload, progress)
        upload.close()
    except BaseException:
        upload.abort()
        raise
    progress.done(rows)
    ctx.jobs.mark_partition_done(tenant, job_id, index)
    return {"index": index, "key": key, "rows": rows, "bytes": upload.bytes}


def run_finish(
    ctx: JobContext, tenant: str, job_id: str, results: Sequence[Mapping[str, Any]], now: datetime
) -> dict[str, Any]:
    job = _load(ctx, tenant, job_id)
    spec = _spec(job, now)
    if not results:  # a Distributed Map returns nothing: each part's rows are on the job item
        results = recorded_results(job, job_prefix(tenant, job_id))
    ordered = sorted(results, key=lambda r: int(r["index"]))
    total = sum(int(r["rows"]) for r in ordered)
    # the same metadata as the synchronous envelope, plus the job's id
    metadata = {**envelope_metadata(spec.spec, spec.request, now), "totalRecords": total, "format": job["format"]}
    metadata["jobId"] = job_id
    key = f"{job_prefix(tenant, job_id)}/{job['filename']}"
    upload = ctx.files.upload(key, CONTENT_TYPES[spec.fmt])
    try:
        parts = [(r["key"], int(r["rows"])) for r in ordered]
        if spec.fmt is ExportFormat.PARQUET:  # one Parquet file of row groups, the parts in order
            parquet_files.merge_parts(ctx.files, parts, upload, expected_rows=total)
        else:
            stitch(spec, ctx.files, upload, parts, metadata)
        sha256 = upload.close()
    except BaseException:
        upload.abort()  # no multipart upload is left behind (its parts would be stored, and billed, for a day)
        raise
    start, end, _bounded = spec.spec.bounds(spec.request)
    entry = file_entry(
        job["filename"],
        sha256=sha256,
        size=upload.bytes,
        rows=total,
        fmt=job["format"],
        key=key,
        audit_records=job["dataset"] == AUDIT,
    )
    manifest = new_manifest(
        export_id=job_id,
        export_type="job",
        tenant=tenant,
        dataset=job["dataset"],
        fmt=job["format"],
        filter_=json.loads(job["parameters"]),
        start=start,
        end=end,
        created_at=now,
        files=[entry],
        jobId=job_id,
        **{"from": metadata.get("from"), "to": metadata.get("to")},
    )
    manifest_key = f"{job_prefix(tenant, job_id)}/manifest.json"
    ctx.files.put_bytes(manifest_key, manifest_bytes(sign_manifest(manifest, ctx.signer)), "application/json")
    result = {"key": key, "bytes": upload.bytes, "rows": total, "sha256": sha256, "manifest_key": manifest_key}
    ctx.jobs.update(
        tenant,
        job_id,
        {"state": "succeeded", "result": result, "updated_at": format_instant(now), "finished_at": format_instant(now)},
    )
    give_back_slot(ctx.slots, tenant, job_id)
    record_export(job["format"], total, upload.bytes)
    took = (now - datetime.fromisoformat(job["created_at"])).total_seconds()
    emit("ExportJobDuration", MetricUnit.Seconds, max(took, 0.0), Format=job["format"])
    if ctx.events is not None:  # after the job is recorded: a consumer that reads it on the event finds it done
        ctx.events.put(JOB_SUCCEEDED, job_succeeded(job, result, format_instant(now)))
    return {"job_id": job_id, "rows": total, "bytes": upload.bytes, "sha256": sha256}


def run_fail(ctx: JobContext, tenant: str, job_id: str, error: Mapping[str, Any], now: datetime) -> dict[str, Any]:
    """Record why a job failed (the error's type and a short cause; never a stack trace for callers)."""
    # Only our own errors' messages are for callers; anything else (AWS errors can name roles and accounts) is
    # logged by the task that failed and reported here without its text.
    try:
        cause = json.loads(str(error.get("Cause") or "{}"))
    except ValueError:
        cause = {}
    error_type = str(cause.get("errorType") or error.get("Error") or "Error") if isinstance(cause, dict) else "Error"
    if error_type in _CALLER_ERRORS and isinstance(cause, dict):
        message = str(cause.get("errorMessage", ""))[:300]
    else:
        message = f"the export failed ({error_type}); start it again, or contact support with job id {job_id}"
    ctx.jobs.update(tenant, job_id, {"state": "failed", "error": message, "updated_at": format_instant(now)})
    give_back_slot(ctx.slots, tenant, job_id)
    if ctx.events is not None:
        job = ctx.jobs.get(tenant, job_id)
        if job is not None:
            ctx.events.put(JOB_FAILED, job_failed(job, message, format_instant(now)))
    return {"job_id": job_id, "state": "failed"}


def download_link(files: Presigner, job: Mapping[str, Any]) -> str:
    """A fresh link to a succeeded job's file, valid for 300 s."""
    return files.presign(job["result"]["key"], job["filename"])


def job_body(job: Mapping[str, Any], files: Presigner | None, now: datetime) -> dict[str, Any]:
    """The ExportJob resource; when succeeded, fresh presigned links that expire in 300 s."""
    done = len(job.get("partitions_done") or ())
    total = int(job.get("partitions_total") or 0)
    status: dict[str, Any] = {
        "state": job["state"],
        "estimatedRecords": int(job.get("estimated_records") or 0),
        "progress": {"partitionsDone": done, "partitionsTotal": total, "recordsSoFar": records_so_far(job)},
    }
    if job.get("estimate_complete") is False:  # the count before the 202 was cut short: at least that many
        status["estimateIsLowerBound"] = True
    if job["state"] == "succeeded" and files is not None:
        result = job["result"]
        status.update(
            {
                "downloadUrl": download_link(files, job),
                "expiresAt": format_instant(now + timedelta(seconds=PRESIGN_SECONDS)),
                "records": int(result["rows"]),
                "bytes": int(result["bytes"]),
                "sha256": result["sha256"],
                "manifestUrl": files.presign(result["manifest_key"]),
            }
        )
    if job["state"] == "failed":
        status["error"] = job.get("error", "")
    return {
        "apiVersion": "v1",
        "kind": "ExportJob",
        "metadata": {
            "jobId": job["job_id"],
            "dataset": job["dataset"],
            "format": job["format"],
            "filename": job["filename"],
            "createdAt": job["created_at"],
            "expiresAt": job["expires_at"],
        },
        "status": status,
    }


def job_read_permissions(job: Mapping[str, Any]) -> frozenset[Permission]:
    """The permissions the job's rows were read with, as it recorded them (jobs recorded before: its dataset's)."""
    recorded = job.get("read_permissions") or [job.get("read_permission") or read_permission(job["dataset"])]
    return frozenset(Permission(name) for name in recorded if name)


def require_job_access(job: Mapping[str, Any], principal: Principal) -> None:
    """A job holds its dataset's rows: seeing it (state, links, manifest) needs every permission its rows were read
    with (its dataset's read permission), and, unless the key started it, EXPORTS_READ (the tenant's exports made
    by other keys)."""
    for permission in sorted(job_read_permissions(job) - principal.permissions):
        raise ForbiddenError(
            f"export job '{job['job_id']}' holds {job['dataset']} data; this API key lacks the {permission.value} "
            "permission",
            parameter="jobId",
        )
    if Permission.EXPORTS_READ not in principal.permissions and job.get("created_by") != principal.key_id:
        raise ForbiddenError(
            f"export job '{job['job_id']}' was started by another key; seeing it needs the EXPORTS_READ permission",
            parameter="jobId",
        )


def may_see_job(job: Mapping[str, Any], principal: Principal) -> bool:
    try:
        require_job_access(job, principal)
    except ForbiddenError:
        return False
    return True


def list_jobs(ctx: JobContext, principal: Principal, now: datetime) -> list[dict[str, Any]]:
    """The tenant's unexpired jobs among its last 50, newest first, that this key may see."""
    return [
        job
        for job in ctx.jobs.list(principal.tenant_id)
        if job["expires_at"] > format_instant(now) and may_see_job(job, principal)
    ]


def get_job(
    ctx: JobContext, principal: Principal, job_id: str, now: datetime, datasets: Sequence[str] | None = None
) -> dict[str, Any]:
    """The tenant's job if this key may see it (``datasets``: only jobs of these; any other is not found)."""
    if not JOB_ID.match(job_id):  # also keeps absurd ids out of DynamoDB keys
        raise NotFoundError(f"no export job '{job_id[:80]}'", parameter="jobId")
    job = _load(ctx, principal.tenant_id, job_id)
    if datasets is not None and job["dataset"] not in datasets:
        raise NotFoundError(f"no export job '{job_id}'", parameter="jobId")
    require_job_access(job, principal)
    if job["expires_at"] <= format_instant(now):
        raise GoneError(
            f"export job '{job_id}' expired at {job['expires_at']}; its files are deleted after 30 days. "
            "Start a new export.",
            parameter="jobId",
        )
    return job
