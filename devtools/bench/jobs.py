"""The asynchronous export job (``--job-sizes``): POST /v1/exports through its real handler, the job polled until it
succeeds, the file downloaded through its presigned link and checked, a worker's memory, the bare read floor."""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import tempfile
import time
from datetime import datetime
from typing import Any

import boto3
import requests

from devtools.bench.baselines import bare_partitions, bare_read
from devtools.bench.common import MIB, USER_AGENT, handler_event, load_average, log, timed_invoke
from devtools.bench.job_goals import Accepted, getitem_ms, goals_report, run_busy_day, sync_handover, timed_post
from devtools.bench.job_results import (
    FINISH_FUNCTION,
    PART_FUNCTION,
    POLL_SECONDS,
    JobResult,
    job_report,
    job_split,
)
from devtools.bench.job_stack import JobStack, map_concurrency
from devtools.bench.job_worker import measure_worker
from devtools.bench.loading import ensure_loaded
from devtools.dynamodb_local import DynamoDBLocal
from export_service.dal.audit_store import AuditStore
from export_service.dal.job_store import JobStore
from export_service.dal.s3_files import PART_SIZE
from export_service.logic.export_jobs import MAX_CHUNKS
from export_service.models.audit import AUDIT_COLUMNS
from export_service.timefmt import format_instant

JOB_WARMUP_SIZE = 1_000  # a small job first, unmeasured: handler imports, clients, moto's first requests
START_FUNCTION = "StartExportFunction"
GET_FUNCTION = "GetExportFunction"
JOBS_ROUTE = "/v1/exports"
JOB_ROUTE = "/v1/exports/{jobId}"


def jobs_event(
    method: str,
    path: str,
    resource: str,
    tenant: str,
    permission: str,
    *,
    body: str | None = None,
    path_parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    headers = dict(USER_AGENT)
    if body is not None:
        headers["Content-Type"] = ["application/json"]
    return handler_event(
        method, resource, tenant, permission, path=path, headers=headers, body=body, path_parameters=path_parameters
    )


def wait_for_job(stack: JobStack, tenant: str, job_id: str, began: float, timeout: float) -> float:
    """Poll the job item (a consistent GetItem, what GET /v1/exports/{jobId} reads) until it succeeds; returns when.

    The execution's status is checked every 2 s too, so that a job item left behind by its execution is reported
    instead of waited for."""
    jobs = JobStore(boto3.client("dynamodb"), stack.refs["ExportJobsTable"])
    sfn = boto3.client("stepfunctions")
    reported = checked = began
    execution_done: float | None = None
    while True:
        job = jobs.get(tenant, job_id)
        now = time.perf_counter()
        if job is None:
            raise RuntimeError(f"job {job_id} has no item")
        state = job["state"]
        if state == "succeeded":
            return now
        if state == "failed":
            raise RuntimeError(f"job {job_id} failed: {job.get('error')}")
        if now - checked >= 2.0:
            checked = now
            status = sfn.describe_execution(executionArn=stack.execution_arn(job_id))["status"]
            if status in ("FAILED", "TIMED_OUT", "ABORTED"):
                raise RuntimeError(f"execution of {job_id} {status}; the job item says '{state}'")
            if status == "SUCCEEDED":
                execution_done = execution_done or now
                if now - execution_done > 10.0:
                    raise RuntimeError(f"execution of {job_id} SUCCEEDED, the job item still says '{state}' 10 s later")
        if now - reported >= 15.0:
            reported = now
            done, total = len(job.get("partitions_done") or ()), int(job.get("partitions_total") or 0)
            log(f"    {job_id}: {state}, {done} of {total} parts done, {now - began:.0f}s")
        if now - began > timeout:
            raise TimeoutError(f"job {job_id} still '{state}' after {timeout:.0f}s")
        time.sleep(POLL_SECONDS)


def run_job(stack: JobStack, result: JobResult, window: tuple[datetime, datetime], timeout: float) -> dict[str, Any]:
    """POST /v1/exports, wait for the job, GET /v1/exports/{jobId}: returns the ExportJob's status."""
    body = {"dataset": "audit", "format": "csv", "from": format_instant(window[0]), "to": format_instant(window[1])}
    event = jobs_event("POST", JOBS_ROUTE, JOBS_ROUTE, result.tenant, "EXPORTS_WRITE,AUDIT_READ", body=json.dumps(body))
    result.began = time.perf_counter()
    _, response = timed_invoke(stack.functions[START_FUNCTION], event, status=202, what=f"POST {JOBS_ROUTE}")
    result.posted = time.perf_counter()
    accepted = json.loads(response["body"])
    result.job_id = accepted["metadata"]["jobId"]
    result.estimated = int(accepted["status"]["estimatedRecords"])
    result.lower_bound = bool(accepted["status"].get("estimateIsLowerBound"))
    done = wait_for_job(stack, result.tenant, result.job_id, result.began, timeout)
    result.wall_s = done - result.began
    result.tasks = stack.timer.calls(result.job_id)
    path = f"{JOBS_ROUTE}/{result.job_id}"
    event = jobs_event(
        "GET", path, JOB_ROUTE, result.tenant, "EXPORTS_READ,AUDIT_READ", path_parameters={"jobId": result.job_id}
    )
    _, response = timed_invoke(stack.functions[GET_FUNCTION], event, what=f"GET {path}")
    status: dict[str, Any] = json.loads(response["body"])["status"]
    if status.get("state") != "succeeded" or not status.get("downloadUrl"):
        raise RuntimeError(f"GET {path}: {json.dumps(status)[:500]}")
    return status


def check_file(result: JobResult, status: dict[str, Any]) -> None:
    """Download the file through its presigned link (streamed to a temporary file); check rows, bytes and SHA-256."""
    digest = hashlib.sha256()
    began = time.perf_counter()
    with tempfile.TemporaryFile() as spool:
        with requests.get(status["downloadUrl"], stream=True, timeout=120) as response:
            if response.status_code != 200:
                raise RuntimeError(f"download answered {response.status_code}: {response.text[:300]}")
            for data in response.iter_content(MIB):
                digest.update(data)
                result.file_bytes += len(data)
                spool.write(data)
        result.download_s = time.perf_counter() - began
        spool.seek(0)
        text = io.TextIOWrapper(spool, encoding="utf-8", newline="")
        reader = csv.reader(text)
        header = next(reader, [])
        result.file_rows = sum(1 for _ in reader)
        text.detach()
    checks = (
        ("header", header, list(AUDIT_COLUMNS)),
        ("data rows", result.file_rows, result.size),
        ("the job's record count", int(status["records"]), result.size),
        ("bytes (the job's)", result.file_bytes, int(status["bytes"])),
        ("SHA-256 (the job's)", digest.hexdigest(), status["sha256"]),
    )
    for name, got, want in checks:
        if got != want:
            result.problems.append(f"{name}: {got!r} in the file, expected {want!r}")


def _measure_job(stack: JobStack, result: JobResult, window: tuple[datetime, datetime], timeout: float) -> None:
    """One measured job: the POST to its success, the split, the file, the worker; problems go to the result."""
    size = result.size
    log("  POST /v1/exports ...")
    status = run_job(stack, result, window, timeout)
    log(
        f"  job {result.job_id} succeeded: {result.wall_s:.1f}s from the POST "
        f"({size / result.wall_s:,.0f} rec/s); the POST answered 202 in {result.post_s:.2f}s (estimatedRecords "
        f"{result.estimated:,}{', at least' if result.lower_bound else ''}); load average {load_average()}"
    )
    split = job_split(result)
    if split is not None:
        low, median, high = split.part_seconds
        log(
            f"  split: plan {split.plan:.2f}s, {split.part_count} parts in {split.parts:.1f}s "
            f"(each {low:.1f}/{median:.1f}/{high:.1f}s min/median/max, up to {split.concurrency} at "
            f"once, {split.part_calls} calls), finish {split.finish:.1f}s"
        )
    for call in result.tasks:
        if call.error is not None:
            log(f"  task error (the state machine retries): {call.function}: {call.error[:300]}")
    check_file(result, status)
    log(
        f"  file: {result.file_bytes / MIB:.1f} MiB, {result.file_rows:,} data rows, downloaded "
        f"through the presigned link in {result.download_s:.1f}s; rows, bytes and SHA-256 "
        + ("match the job's" if not result.problems else "checked: see the problems below")
    )
    result.worker = measure_worker(stack, result)
    worker = result.worker
    log(
        f"  worker, part {worker.index} alone in a fresh interpreter: {worker.rows:,} rows in "
        f"{worker.seconds:.1f}s; peak RSS {worker.rss_peak / MIB:.1f} MiB ("
        f"{(worker.rss_peak - worker.rss_before) / MIB:.1f} above the {worker.rss_before / MIB:.1f} "
        f"before the call); tracemalloc peak {worker.traced_peak / MIB:.1f} MiB"
    )


def run_jobs(
    args: argparse.Namespace, dynamodb: DynamoDBLocal, window: tuple[datetime, datetime], loaded: dict[str, int]
) -> list[JobResult]:
    log("\nasynchronous export job: starting moto's server in this process ...")
    stack = JobStack(dynamodb.endpoint)
    try:
        stack.start()
        table_name = stack.functions[PART_FUNCTION].environment["AUDIT_TABLE_NAME"]
        part_spec, finish_spec = stack.functions[PART_FUNCTION], stack.functions[FINISH_FUNCTION]
        log(
            f"moto at {stack.moto_url} (S3; Step Functions executing the template's ASL, Lambda tasks in-process), "
            f"DynamoDB Local at {dynamodb.endpoint}; tables, bucket and state machine from template.yaml"
        )
        log(
            f"Map MaxConcurrency {map_concurrency()}, at most {MAX_CHUNKS} parts, S3 multipart parts of "
            f"{PART_SIZE // MIB} MiB; {os.cpu_count()} CPUs; Timeout (template) part {part_spec.timeout}s, "
            f"finish {finish_spec.timeout}s (not enforced locally)"
        )
        log(
            f"job sizes {', '.join(f'{size:,}' for size in args.job_sizes)}; csv; window {window[0]:%Y-%m-%d} to "
            f"{window[1]:%Y-%m-%d} ({args.days} day partitions)"
        )
        client = boto3.client("dynamodb")
        planner = AuditStore(client, table_name)

        log("\nwarm-up (unmeasured):")
        warm = JobResult(size=JOB_WARMUP_SIZE, tenant="job-warmup")
        ensure_loaded(loaded, table_name, warm.tenant, warm.size, window, args.load_threads)
        run_job(stack, warm, window, args.job_timeout)
        bare_read(client, table_name, bare_partitions(planner, warm.tenant, window))
        log(f"  a job of {warm.size:,} records (handler imports, clients, moto's first calls): {warm.wall_s:.1f}s")

        results: list[JobResult] = []
        accepted: list[Accepted] = []
        busy: JobResult | None = None

        def measure(result: JobResult, over: tuple[datetime, datetime]) -> None:
            result.bare_s, items = bare_read(client, table_name, bare_partitions(planner, result.tenant, over))
            log(f"  bare read: {result.bare_s:.2f}s ({result.size / result.bare_s:,.0f} rec/s)")
            if items != result.size:
                result.problems.append(f"bare read found {items:,} items, expected {result.size:,}")
            try:
                _measure_job(stack, result, over, args.job_timeout)
            except Exception as error:  # report and go on: the other sizes' figures are still worth having
                result.problems.append(f"{type(error).__name__}: {error}")
                log(f"  FAILED: {type(error).__name__}: {error}")
            for problem in result.problems:
                log(f"  PROBLEM: {problem}")

        def run_busy_day_now() -> JobResult:
            # before larger sizes are loaded: DynamoDB Local slows down as it holds millions of items
            return run_busy_day(args, stack, table_name, args.busy_day_size, window, loaded, measure)

        for size in args.job_sizes:
            log(f"\n{size:,} records:")
            result = JobResult(size=size, tenant=f"job-{size}")
            results.append(result)
            ensure_loaded(loaded, table_name, result.tenant, size, window, args.load_threads)
            measure(result, window)
            if result.wall_s > 0:
                accepted.append(timed_post(result, getitem_ms(client, table_name, result.tenant)))
            if size == args.busy_day_size and busy is None:
                busy = run_busy_day_now()
        if results:
            largest = max(args.job_sizes)
            handed = sync_handover(stack, f"job-{largest}", largest, window)
            handed.getitem_ms = getitem_ms(client, table_name, f"job-{largest}")
            accepted.append(handed)
            log(f"\n{handed.what} at {largest:,} records: 202 in {handed.seconds:.2f}s; load {load_average()}")
        if args.busy_day_size and busy is None:
            log(f"\n{args.busy_day_size:,} records spread over the window, for comparison:")
            spread = JobResult(size=args.busy_day_size, tenant=f"job-{args.busy_day_size}")
            ensure_loaded(loaded, table_name, spread.tenant, spread.size, window, args.load_threads)
            measure(spread, window)
            results.append(spread)
            busy = run_busy_day_now()
        if busy is not None:
            results.append(busy)
    finally:
        stack.stop()
        log("moto stopped")
    log("\n" + job_report(results))
    log("\n" + goals_report([r for r in results if r is not busy], busy, accepted, load_average()))
    return results
