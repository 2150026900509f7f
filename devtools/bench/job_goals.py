"""The export job's goals, measured in the job section of ``make bench``: the 202s at the largest size (POST
/v1/exports, and a synchronous export handed to a job), a job whose records all fall on one day against the same
count spread over the window, and a worker's peak memory across sizes."""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from devtools.bench.common import MIB, USER_AGENT, handler_event, log, render, timed_invoke
from devtools.bench.job_results import JobResult, job_split
from devtools.bench.job_stack import JobStack
from devtools.bench.loading import ensure_loaded
from devtools.bench.scale_model import predict, report
from export_service.timefmt import format_instant

SYNC_FUNCTION = "AuditExportFunction"
WIRE_BYTES = 660.0  # an audit item in a Query answer (devtools/bench/read_path.py: 6.3 MiB per 10,000 items)
SYNC_ROUTE = "/v1/audit/export"


@dataclass
class Accepted:
    """How long a 202 took to answer."""

    what: str
    records: int
    seconds: float
    estimated: int
    lower_bound: bool
    getitem_ms: float = 0.0  # DynamoDB Local's GetItem latency then (median of 5): what each of the 202's calls waits


def sync_handover(stack: JobStack, tenant: str, size: int, window: tuple[datetime, datetime]) -> Accepted:
    """GET /v1/audit/export over ``tenant``'s whole window, with the template's synchronous limits: a 202."""
    query = {"from": [format_instant(window[0])], "to": [format_instant(window[1])]}
    event = handler_event("GET", SYNC_ROUTE, tenant, "AUDIT_READ", query=query, headers=USER_AGENT)
    seconds, response = timed_invoke(stack.functions[SYNC_FUNCTION], event, status=202, what=f"GET {SYNC_ROUTE}")
    status = json.loads(response["body"])["status"]
    return Accepted(
        f"GET {SYNC_ROUTE} (over the sync limit)",
        size,
        seconds,
        int(status["estimatedRecords"]),
        bool(status.get("estimateIsLowerBound")),
    )


def busy_day_window(window: tuple[datetime, datetime]) -> tuple[datetime, datetime]:
    return window[0], window[0] + timedelta(days=1) - timedelta(milliseconds=1)


def run_busy_day(
    args: argparse.Namespace,
    stack: JobStack,
    table: str,
    size: int,
    window: tuple[datetime, datetime],
    loaded: dict[str, int],
    measure: Callable[[JobResult, tuple[datetime, datetime]], None],
) -> JobResult:
    """The same count as a spread job, all on the window's first day (tenant ``day-<N>``)."""
    result = JobResult(size=size, tenant=f"day-{size}")
    day = busy_day_window(window)
    ensure_loaded(loaded, table, result.tenant, size, day, args.load_threads)
    log(f"\n{size:,} records all on {day[0]:%Y-%m-%d} (tenant {result.tenant}), exported over the same window:")
    measure(result, window)
    return result


def goals_report(
    results: Sequence[JobResult], busy: JobResult | None, accepted: Sequence[Accepted], loaded_at: str
) -> str:
    """The job goals side by side: worker RSS across sizes, job / bare read, the 202s, busy day vs spread."""
    lines = [f"export job goals (load average {loaded_at}):", ""]
    done = [result for result in results if result.worker is not None and result.wall_s > 0]
    if len(done) >= 2:
        small, large = done[0], done[-1]
        assert small.worker is not None and large.worker is not None
        growth = large.worker.rss_peak / small.worker.rss_peak - 1
        traced = large.worker.traced_peak / small.worker.traced_peak - 1
        lines.append(
            f"worker peak RSS: {small.worker.rss_peak / MIB:.1f} MiB ({small.worker.rows:,}-row part of "
            f"{small.size:,}) -> {large.worker.rss_peak / MIB:.1f} MiB ({large.worker.rows:,}-row part of "
            f"{large.size:,}): {growth:+.1%} (goal within +10%); tracemalloc {traced:+.1%}"
        )
    for result in done:
        lines.append(
            f"job wall / bare single-threaded read at {result.size:,}: {result.wall_s:.1f}s / {result.bare_s:.1f}s = "
            f"{result.wall_s / result.bare_s:.2f}" + (" (goal <= 1.0 at 1,000,000)" if result.size >= 1_000_000 else "")
        )
    rows = [
        (
            item.what,
            f"{item.records:,}",
            f"{item.seconds:.2f}",
            f"{item.estimated:,}" + (" (at least)" if item.lower_bound else ""),
            "yes" if item.seconds < 1.0 else "NO",
            f"{item.getitem_ms:.0f}",
        )
        for item in accepted
    ]
    if rows:
        header = ("202 answered by", "records", "seconds", "estimatedRecords", "< 1 s", "DynamoDB Local GetItem ms")
        lines += ["", render(header, rows), ""]
    measured = [result for result in done if result.worker is not None and result.worker.seconds > 0]
    if measured:
        largest = max(measured, key=lambda result: result.size)
        assert largest.worker is not None
        rate = largest.worker.rows / largest.worker.seconds
        lines += [
            "",
            report(
                predict(100_000_000, rate, largest.file_bytes / largest.size, WIRE_BYTES),
                rate,
                largest.file_bytes / largest.size,
                WIRE_BYTES,
            ),
        ]
    spread = next((result for result in results if busy is not None and result.size == busy.size), None)
    if busy is not None and spread is not None and busy.wall_s > 0 and spread.wall_s > 0:
        lines.append(
            f"all on one day vs spread over the window, {busy.size:,} records: {busy.wall_s:.1f}s / "
            f"{spread.wall_s:.1f}s = {busy.wall_s / spread.wall_s:.2f} (goal <= 1.3); parts "
            f"{_parts(busy)} vs {_parts(spread)}; largest part {_largest(busy)} vs {_largest(spread)} rows"
        )
    return "\n".join(lines)


def _parts(result: JobResult) -> str:
    split = job_split(result)
    return str(split.part_count) if split else "-"


def _largest(result: JobResult) -> str:
    split = job_split(result)
    return f"{split.largest_part:,}" if split else "-"


def timed_post(result: JobResult, latency_ms: float = 0.0) -> Accepted:
    """The POST's 202 of a job already run (its time and estimate, from the run)."""
    return Accepted("POST /v1/exports", result.size, result.post_s, result.estimated, result.lower_bound, latency_ms)


def getitem_ms(client: Any, table: str, tenant: str) -> float:
    """DynamoDB Local's latency for one small GetItem (the tenant's bounds), median of 5, in milliseconds."""
    times = []
    for _ in range(5):
        began = time.perf_counter()
        client.get_item(TableName=table, Key={"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": "META"}})
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times)
