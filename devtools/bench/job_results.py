"""What the export job benchmark measured for each size, where the job's wall time went, and the report's tables."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from devtools.bench.common import MIB, render
from devtools.bench.job_stack import TaskCall

PLAN_FUNCTION = "ExportPlanFunction"
PART_FUNCTION = "ExportPartFunction"
FINISH_FUNCTION = "ExportFinishFunction"
POLL_SECONDS = 0.25


@dataclass
class WorkerRun:
    """The largest part exported again by the part function's handler in a fresh interpreter."""

    index: int
    rows: int
    seconds: float  # the untraced run
    rss_before: int  # bytes: after imports and clients, before the call
    rss_peak: int  # bytes: the process's VmHWM (what Lambda reports as Max Memory Used)
    traced_peak: int  # bytes: tracemalloc peak of the call, in a second run


@dataclass
class JobResult:
    size: int
    tenant: str
    job_id: str = ""
    began: float = 0.0
    posted: float = 0.0
    wall_s: float = 0.0
    bare_s: float = 0.0
    file_bytes: int = 0
    file_rows: int = 0
    download_s: float = 0.0
    tasks: list[TaskCall] = field(default_factory=list)
    worker: WorkerRun | None = None
    problems: list[str] = field(default_factory=list)
    estimated: int = 0  # the 202's estimatedRecords
    lower_bound: bool = False  # ... a lower bound (the count before the 202 stopped within its budget)

    @property
    def post_s(self) -> float:
        return self.posted - self.began

    def succeeded(self, function: str) -> list[TaskCall]:
        """The task's successful calls (a retried part counts once: its last success)."""
        calls = [call for call in self.tasks if call.function == function and call.payload is not None]
        if function != PART_FUNCTION:
            return calls
        by_index = {int(call.payload["index"]): call for call in calls if call.payload is not None}
        return [by_index[index] for index in sorted(by_index)]


@dataclass(frozen=True)
class JobSplit:
    """Where a job's wall time went, from the timed task invocations."""

    post: float  # POST /v1/exports answered 202: validate, count (up to the cap), create the item, start
    to_plan: float  # the POST's start to the plan task's start (the execution may start before the POST answers)
    plan: float
    parts: float  # the first part's start to the last part's end (the Map)
    finish: float  # stitch all parts into one file, hash, manifest
    other: float  # the rest of the wall time: the Map's start and end, state transitions, the poll's latency
    part_count: int
    part_calls: int
    part_seconds: tuple[float, float, float]  # min, median, max
    concurrency: int  # most parts running at once
    largest_part: int  # rows


def job_split(result: JobResult) -> JobSplit | None:
    plans, parts, finishes = (result.succeeded(name) for name in (PLAN_FUNCTION, PART_FUNCTION, FINISH_FUNCTION))
    if not (plans and parts and finishes):
        return None
    plan, finish = plans[-1], finishes[-1]
    parts_span = max(call.ended for call in parts) - min(call.began for call in parts)
    to_plan = plan.began - result.began
    accounted = to_plan + plan.seconds + parts_span + finish.seconds
    edges = sorted([(call.began, 1) for call in parts] + [(call.ended, -1) for call in parts])
    running = most = 0
    for _, step in edges:
        running += step
        most = max(most, running)
    seconds = [call.seconds for call in parts]
    return JobSplit(
        post=result.post_s,
        to_plan=to_plan,
        plan=plan.seconds,
        parts=parts_span,
        finish=finish.seconds,
        other=result.wall_s - accounted,
        part_count=len(parts),
        part_calls=sum(1 for call in result.tasks if call.function == PART_FUNCTION),
        part_seconds=(min(seconds), statistics.median(seconds), max(seconds)),
        concurrency=most,
        largest_part=max(int(call.payload["rows"]) for call in parts if call.payload is not None),
    )


def _results_rows(results: Sequence[JobResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for result in results:
        done = result.wall_s > 0
        worker = result.worker
        rows.append(
            (
                f"{result.size:,}",
                f"{result.wall_s:.1f}" if done else "failed",
                f"{result.size / result.wall_s:,.0f}" if done else "-",
                f"{result.bare_s:.2f}",
                f"{result.size / result.bare_s:,.0f}" if result.bare_s else "-",
                f"{result.wall_s / result.bare_s:.2f}" if done and result.bare_s else "-",
                f"{worker.traced_peak / MIB:.1f}" if worker else "-",
                f"{worker.rows:,}" if worker else "-",
                f"{worker.rss_peak / MIB:.1f}" if worker else "-",
                f"{result.file_bytes / MIB:.1f}" if result.file_bytes else "-",
            )
        )
    return rows


def _split_rows(results: Sequence[JobResult]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for result in results:
        split = job_split(result)
        if split is None:
            continue
        worker = result.worker
        rows.append(
            (
                f"{result.size:,}",
                f"{split.post:.2f}",
                f"{split.to_plan:.2f}",
                f"{split.plan:.2f}",
                f"{split.parts:.1f}",
                f"{split.finish:.1f}",
                f"{split.other:.1f}",
                f"{split.part_count}",
                "/".join(f"{seconds:.1f}" for seconds in split.part_seconds),
                f"{split.concurrency}",
                f"{worker.seconds:.1f}" if worker else "-",
                f"{worker.rows / worker.seconds:,.0f}" if worker and worker.seconds else "-",
            )
        )
    return rows


def job_report(results: Sequence[JobResult]) -> str:
    header = (
        "records",
        "job wall s",
        "job rec/s",
        "bare read s",
        "bare rec/s",
        "ratio",
        "worker tracemalloc MiB",
        "largest part rows",
        "worker peak RSS MiB",
        "file MiB",
    )
    split_header = (
        "records",
        "POST s",
        "to plan s",
        "plan s",
        "parts s",
        "finish s",
        "other s",
        "parts",
        "part s min/med/max",
        "at once",
        "worker alone s",
        "worker rec/s",
    )
    split_rows = _split_rows(results)
    lines = [
        "export job results (one run each; ratio = job wall s / bare read s):",
        "",
        render(header, _results_rows(results)),
        "",
        "job wall: POST /v1/exports (start_export handler) to the job item's state 'succeeded', polled every "
        f"{POLL_SECONDS}s. bare read: boto3 client.query over the same day partitions, one thread, Items counted.",
        "worker: the job's largest part exported again by the part function's handler in a fresh interpreter (as a "
        "Lambda container runs it); tracemalloc peak of the call (clients already built), and the process's peak RSS "
        "(VmHWM, imports included: what Lambda reports as Max Memory Used).",
        "",
        "where the time went (from the state machine's task invocations, timed in-process):",
        "",
        render(split_header, split_rows) if split_rows else "(no successful job)",
        "",
        "POST: until the 202. to plan + plan + parts + finish + other = job wall. to plan: the POST's start to the "
        "plan task's start. parts: the first part's start to the last part's end, the Map's parts sharing this "
        "process's GIL (moto runs them on threads). other: the Map's start and end, state transitions, the poll's "
        "latency. worker alone: the largest part, nothing else running.",
    ]
    return "\n".join(lines)
