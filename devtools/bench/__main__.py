"""Benchmark of the synchronous audit export against DynamoDB Local: export time against the bare read floor.

    .venv/bin/python -m devtools.bench                          # 10,000 and 100,000 records, csv and json, best of 3
    .venv/bin/python -m devtools.bench --sizes 10000 --formats csv,jsonl --repeat 5
    .venv/bin/python -m devtools.bench --profile                # and a cProfile of one export of the largest size

For each size N the command loads N generated audit records for a tenant of its own (``bench-<N>``) into a fresh
DynamoDB Local (in memory, on a free loopback port), then measures in this one process:

- the export through the real handler (functions/audit_export/app.py, invoked with a REST proxy event and an
  authorizer context as API Gateway sends them), checking status 200 and exactly N data rows;
- the floor: a bare boto3 Query loop over the same day partitions (``AuditStore.plan``), with the same key
  condition and projection as the export's reads, paginating and only counting Items;
- a reference below the floor: the same Queries over plain HTTP, parsed by ``json.loads`` instead of botocore;
- the export's memory: the tracemalloc peak in a separate pass (tracing slows the export down, so timing and
  tracing never share a run), and the peak RSS above the RSS before the call, read in the timed runs.

Timings are the best of ``--repeat`` runs, after one warm-up; the cold import of the handler module is measured
in fresh interpreters. ``--days`` spreads the records over that many day partitions (30); ``--load-threads`` sets
how many threads load them (2: DynamoDB Local, not Python, limits the load rate).

The synchronous caps (SYNC_EXPORT_LIMIT, MAX_RESPONSE_BYTES) are lifted for the run so that the pipeline is measured
beyond them: a deployed stack refuses a synchronous export that large.

The asynchronous export (``--job-sizes``, default 100,000 and 1,000,000; ``--skip-sync`` runs only this part):

    .venv/bin/python -m devtools.bench --skip-sync                            # the job at 100,000 and 1,000,000
    .venv/bin/python -m devtools.bench --skip-sync --job-sizes 10000,100000

In the same run, next to DynamoDB Local, moto's server runs in this process as devtools/local_stack.py runs it (S3,
and Step Functions interpreting statemachine/export_job.asl.json with the Lambda tasks invoked in-process). For each
size N, N records are loaded for a tenant of its own (``job-<N>``), then:

- the job: POST /v1/exports through the real handler (functions/start_export/app.py, REST proxy event, authorizer
  context with EXPORTS_WRITE and AUDIT_READ), the job item polled until it succeeds; wall time from the POST to
  "succeeded", the time split (POST, plan, the Map of parts, finish) from the state machine's task invocations,
  timed as they run;
- the file: GET /v1/exports/{jobId} through its handler, downloaded through the presigned link, rows, bytes and
  SHA-256 checked against the job's;
- a partition worker's memory: the largest part of the job's plan exported again by the part function's handler in
  a fresh interpreter (as a Lambda container runs it; a part is idempotent), once for its peak RSS and once under
  tracemalloc;
- the floor: the bare boto3 Query loop over the same records, as above.

Loading runs at about 2,000 records a second into DynamoDB Local: a million records take 8 to 9 minutes.

People's exports (devtools/bench/people.py): the PDF report and localized csv/json at 5,000 records,
after the synchronous part, or alone:

    .venv/bin/python -m devtools.bench --only-people                          # make bench ARGS=--only-people
"""

from __future__ import annotations

import argparse
import resource
import signal
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from devtools.bench.audit import run_sync
from devtools.bench.common import MIB, log
from devtools.bench.export_audit import run_export_audit
from devtools.bench.jobs import run_jobs
from devtools.bench.people import run_people_section
from devtools.dynamodb_local import DynamoDBLocal, free_port

DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_FORMATS = ("csv", "json")
DEFAULT_ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
DEFAULT_JOB_SIZES = (100_000, 1_000_000)


def _csv_list(text: str, convert: Callable[[str], Any]) -> list[Any]:
    return [convert(part.strip()) for part in text.split(",") if part.strip()]


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)), help="records per export (10000,100000)")
    parser.add_argument("--formats", default=",".join(DEFAULT_FORMATS), help="csv, json and/or jsonl (csv,json)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per measurement; the best counts (3)")
    parser.add_argument("--days", type=int, default=30, help="days the records spread over, one partition a day (30)")
    parser.add_argument("--load-threads", type=int, default=2, help="threads writing the records (2)")
    parser.add_argument(
        "--read-concurrency",
        type=int,
        default=2,
        help="partitions every side of the sync comparison reads at once (2: the export's READ_PREFETCH default)",
    )
    parser.add_argument("--profile", action="store_true", help="also cProfile one csv export of the largest size")
    parser.add_argument(
        "--job-sizes",
        default=",".join(map(str, DEFAULT_JOB_SIZES)),
        help="records per asynchronous export job (100000,1000000); empty for none",
    )
    parser.add_argument("--skip-sync", action="store_true", help="run only the job part")
    parser.add_argument(
        "--busy-day-size",
        type=int,
        default=100_000,
        help="records of a job all on one day, against the same count spread over the window (100000; 0: none)",
    )
    parser.add_argument(
        "--incident-sizes",
        default="100000",
        help="incidents for the summary and distribution benchmark (100000); empty for none",
    )
    parser.add_argument("--people-size", type=int, default=5000, help="records of the PDF/locale section (5000)")
    parser.add_argument("--only-people", action="store_true", help="run only the PDF and localized exports section")
    parser.add_argument("--skip-people", action="store_true", help="leave out the PDF and localized exports section")
    parser.add_argument(
        "--cold-runs", type=int, default=5, help="fresh interpreters per function in the cold starts (5)"
    )
    parser.add_argument("--skip-cold-starts", action="store_true", help="leave out the per-function cold starts")
    parser.add_argument("--only-cold-starts", action="store_true", help="run only the per-function cold starts")
    parser.add_argument("--job-timeout", type=float, default=3600.0, help="seconds a job may take (3600)")
    args = parser.parse_args(argv)
    args.sizes = _csv_list(args.sizes, int)
    args.formats = _csv_list(args.formats, str)
    args.job_sizes = _csv_list(args.job_sizes, int)
    args.incident_sizes = _csv_list(args.incident_sizes, int)
    if args.only_people:  # the PDF/locale section alone
        args.skip_sync, args.job_sizes, args.incident_sizes = True, [], []
        return args
    if args.only_cold_starts:
        args.skip_sync, args.skip_people, args.job_sizes, args.incident_sizes = True, True, [], []
        return args
    if not args.skip_sync and (not args.sizes or any(size < 1 for size in args.sizes)):
        parser.error("--sizes takes positive record counts, e.g. 10000,100000")
    if not args.skip_sync and (not args.formats or set(args.formats) - {"csv", "json", "jsonl"}):
        parser.error("--formats takes csv, json and/or jsonl")
    if any(size < 1 for size in args.job_sizes):
        parser.error("--job-sizes takes positive record counts, e.g. 100000,1000000")
    if args.skip_sync and not args.job_sizes and not args.incident_sizes and args.skip_cold_starts:
        parser.error("--skip-sync leaves nothing to run without --job-sizes or --incident-sizes")
    if min(args.repeat, args.days, args.load_threads, args.read_concurrency) < 1 or args.job_timeout <= 0:
        parser.error("--repeat, --days, --load-threads, --read-concurrency: at least 1; --job-timeout positive")
    return args


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    window = (DEFAULT_ANCHOR, DEFAULT_ANCHOR + timedelta(days=args.days))
    dynamodb = DynamoDBLocal(free_port())
    signal.signal(signal.SIGTERM, _terminate)  # so that the finally blocks stop moto and DynamoDB Local on SIGTERM too
    loaded: dict[str, int] = {}  # tenant -> records loaded in this run
    problems = 0
    try:
        log("starting DynamoDB Local (in memory) ...")
        dynamodb.start()
        if not args.skip_sync:
            run_sync(args, dynamodb, window, loaded)
            log("")
            for line in run_export_audit(dynamodb.endpoint, repeat=max(args.repeat, 5), fresh=False):
                log(line)  # the cost of auditing each export (devtools/bench/export_audit.py)
        if args.only_people or not (args.skip_sync or args.skip_people):
            run_people_section(args, dynamodb, window, loaded)
        if args.job_sizes:
            results = run_jobs(args, dynamodb, window, loaded)
            problems = sum(len(result.problems) for result in results)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            log(
                f"\nthis process's peak RSS: {peak / MIB:.0f} MiB (moto's S3 objects, the Map's parts on threads, "
                "the loaders: not a worker's memory)"
            )
            if problems:
                log(f"{problems} problem(s): see PROBLEM lines above")
        if args.incident_sizes:
            from devtools.bench.incidents import run_incident_stats  # noqa: PLC0415

            lines = run_incident_stats(args.incident_sizes, dynamodb, args.repeat, args.load_threads)
            log("\nincident summary and distribution (through the handlers; best of --repeat):")
            for line in lines:
                log(line)
    finally:
        dynamodb.stop()
        log(f"\nDynamoDB Local stopped; total {time.perf_counter() - began:.0f}s")
    if not args.skip_cold_starts and not args.only_people:  # a local stack of its own (DynamoDB Local, moto)
        from devtools.bench.coldstart import run_cold_starts  # noqa: PLC0415

        log("\n" + run_cold_starts(args.cold_runs))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
