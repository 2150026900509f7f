"""Where an export job starts and ends, beyond its state machine's own steps: the tenant's limit of jobs running at
once (a slot taken before the execution starts, given back when it ends), and executions that end without their
Finish or RecordFailure step running (timed out, aborted, or failed while recording the failure), which an
EventBridge rule on Step Functions status changes reports so the job never stays "processing"."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Protocol

from export_service.errors import ExportServiceError
from export_service.timefmt import format_instant

RETRY_AFTER_SECONDS = 30  # a job takes minutes: what a refused caller is told to wait

# Why a job failed when its execution stopped outside its own steps; the job's id completes each message.
STOPPED = {
    "TIMED_OUT": "the export ran longer than an export may run (4 hours) and was stopped; narrow it (a shorter time "
    "range, more filters) and start it again",
    "ABORTED": "the export was stopped before it finished; start it again",
    "FAILED": "the export failed; start it again, or contact support with job id {job_id}",
}


class TooManyJobsError(ExportServiceError):
    status = 429
    code = "TOO_MANY_JOBS"
    retry_after = RETRY_AFTER_SECONDS


class Slots(Protocol):
    maximum: int

    def claim(self, tenant: str, job_id: str) -> bool: ...

    def release(self, tenant: str, job_id: str) -> None: ...

    def running(self, tenant: str) -> set[str]: ...


class Jobs(Protocol):
    def get(self, tenant: str, job_id: str) -> dict[str, Any] | None: ...

    def update_if_state(self, tenant: str, job_id: str, state: str, fields: dict[str, Any]) -> bool: ...


def hold_slot(slots: Slots | None, jobs: Any, tenant: str, job_id: str, now: datetime) -> None:
    """Take one of the tenant's slots for ``job_id`` before its execution starts, or 429 TOO_MANY_JOBS with
    Retry-After naming the limit. A slot whose job has ended (its release was lost) is given back first."""
    if slots is None or slots.claim(tenant, job_id):
        return
    for other in sorted(slots.running(tenant)):
        job = jobs.get(tenant, other)
        if job is None or job.get("state") != "processing" or str(job.get("expires_at", "")) <= format_instant(now):
            slots.release(tenant, other)
    if slots.claim(tenant, job_id):
        return
    raise TooManyJobsError(
        f"this tenant already runs {slots.maximum} export jobs, the most it may run at once; wait until one has "
        f"finished (GET /v1/exports) and retry after {RETRY_AFTER_SECONDS} seconds",
        limit="concurrentJobs",
        maximum=slots.maximum,
    )


def give_back_slot(slots: Slots | None, tenant: str, job_id: str) -> None:
    if slots is not None:
        slots.release(tenant, job_id)


def settle_stopped_execution(
    jobs: Jobs, slots: Slots | None, detail: Mapping[str, Any], now: datetime
) -> dict[str, Any]:
    """A Step Functions execution of an export job ended FAILED, TIMED_OUT or ABORTED: a job still "processing" is
    marked failed with a reason the caller can act on, and its slot is given back. A job whose own steps already
    recorded how it ended is left as it is. ``detail``: the status change event's detail."""
    job_id, status = str(detail.get("name", "")), str(detail.get("status", ""))
    try:
        tenant = str(json.loads(detail.get("input") or "{}").get("tenant") or "")
    except (ValueError, AttributeError):
        tenant = ""
    if status not in STOPPED or not tenant:
        return {"job_id": job_id, "status": status, "changed": False, "reason": "not an export job's stop"}
    reason = STOPPED[status].format(job_id=job_id)
    changed = jobs.update_if_state(
        tenant,
        job_id,
        "processing",
        {"state": "failed", "error": reason, "updated_at": format_instant(now), "finished_at": format_instant(now)},
    )
    give_back_slot(slots, tenant, job_id)
    return {"job_id": job_id, "tenant": tenant, "status": status, "changed": changed}
