"""The synchronous audit export (GET /v1/audit/export through its real handler) against the bare read floor.

For each size the export in each format, best of ``--repeat``, rows checked; the bare and raw reads of the same
partitions; the RSS peak in the timed runs and the tracemalloc peak in a pass of its own; the cold import; and, with
``--profile``, a cProfile of one csv export of the largest size.
"""

from __future__ import annotations

import argparse
import cProfile
import csv
import io
import json
import os
import pstats
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import boto3

from devtools.bench.baselines import RawQuery, bare_partitions, bare_read, naive_export
from devtools.bench.common import (
    MIB,
    USER_AGENT,
    handler_event,
    load_average,
    local_aws_environment,
    log,
    render,
    timed_invoke,
    traced_peak,
)
from devtools.bench.loading import load_tenant
from devtools.bench.memory import PeakRss
from devtools.bench.read_path import run_read_path
from devtools.dynamodb_local import DynamoDBLocal
from devtools.lambda_runtime import invoke, load_handler
from devtools.provision import create_tables, local_refs
from devtools.template import FunctionSpec, functions
from export_service.api.deps import reset_dependencies
from export_service.dal.audit_store import AuditStore
from export_service.timefmt import format_instant

FUNCTION = "AuditExportFunction"
ROUTE = "/v1/audit/export"
# The synchronous path's caps, lifted for the run (defaults: 10,000 records, 5,000,000 bytes of body).
LIFTED_RECORD_LIMIT = 100_000_000
LIFTED_RESPONSE_BYTES = 1_000_000_000_000


@dataclass
class SizeResult:
    size: int
    bare_s: list[float] = field(default_factory=list)
    raw_s: list[float] = field(default_factory=list)
    export_s: dict[str, list[float]] = field(default_factory=dict)
    naive_s: dict[str, list[float]] = field(default_factory=dict)
    load: str = ""  # the load average after the size's timed runs
    rss_delta: dict[str, int] = field(default_factory=dict)
    traced_peak: dict[str, int] = field(default_factory=dict)
    body_bytes: dict[str, int] = field(default_factory=dict)


def configure_environment(endpoint: str, read_concurrency: int) -> FunctionSpec:
    """The audit export function's environment from template.yaml, pointed at DynamoDB Local, caps lifted, reading
    ``read_concurrency`` partitions at once (READ_PREFETCH)."""
    refs = local_refs()
    spec = functions(refs)[FUNCTION]
    os.environ.update(spec.environment)
    os.environ.update(
        local_aws_environment(endpoint)
        | {
            "SYNC_EXPORT_LIMIT": str(LIFTED_RECORD_LIMIT),
            "MAX_RESPONSE_BYTES": str(LIFTED_RESPONSE_BYTES),
            "READ_PREFETCH": str(read_concurrency),
        }
    )
    create_tables(boto3.client("dynamodb"), refs)
    reset_dependencies()
    return spec


def export_event(tenant: str, fmt: str, window: tuple[datetime, datetime]) -> dict[str, Any]:
    query = {"format": [fmt], "from": [format_instant(window[0])], "to": [format_instant(window[1])]}
    return handler_event("GET", ROUTE, tenant, "AUDIT_READ", query=query, headers=USER_AGENT)


def run_export(spec: FunctionSpec, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    return timed_invoke(spec, event, what="export")


def data_rows(fmt: str, body: str) -> int:
    if fmt == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body, newline=""))) - 1
    if fmt == "json":
        document = json.loads(body)
        if document.get("metadata", {}).get("totalRecords", len(document["records"])) != len(document["records"]):
            raise RuntimeError("JSON metadata.totalRecords disagrees with the records array")
        return len(document["records"])
    return sum(1 for line in body.split("\n") if line)


def check_rows(fmt: str, body: str, expected: int, what: str = "export") -> None:
    rows = data_rows(fmt, body)
    if rows != expected:
        raise RuntimeError(f"{fmt} {what} has {rows:,} data rows, expected {expected:,}")


def paired_median(sides: Sequence[float], baseline: Sequence[float]) -> float:
    """The median of the run-by-run ratios (each run's side over the same run's baseline, measured back to back): a
    ratio that does not rest on one quiet moment of either side."""
    return statistics.median(side / base for side, base in zip(sides, baseline, strict=True))


def results_table(results: Sequence[SizeResult], formats: Sequence[str], rss_label: str, threads: int) -> str:
    header = (
        "records",
        "format",
        "reads at once",
        "export s",
        "export rec/s",
        "raw read s",
        "export/raw (<=1.43)",
        "median of runs",
        "naive s",
        "naive/export (>=2)",
        "bare read s",
        "export/bare",
        rss_label,
        "tracemalloc MiB",
        "body MiB",
        "load avg",
    )
    rows: list[tuple[str, ...]] = []
    for result in results:
        bare = min(result.bare_s)
        raw = min(result.raw_s)
        for fmt in formats:
            export = min(result.export_s[fmt])
            naive = min(result.naive_s[fmt])
            rows.append(
                (
                    f"{result.size:,}",
                    fmt,
                    f"{threads}",
                    f"{export:.2f}",
                    f"{result.size / export:,.0f}",
                    f"{raw:.2f}",
                    f"{export / raw:.2f}",
                    f"{paired_median(result.export_s[fmt], result.raw_s):.2f}",
                    f"{naive:.2f}",
                    f"{naive / export:.2f}",
                    f"{bare:.2f}",
                    f"{export / bare:.2f}",
                    f"{result.rss_delta[fmt] / MIB:.1f}",
                    f"{result.traced_peak[fmt] / MIB:.1f}",
                    f"{result.body_bytes[fmt] / MIB:.1f}",
                    result.load,
                )
            )
    return render(header, rows)


def profile_export(spec: FunctionSpec, event: dict[str, Any], top: int = 25) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    response = invoke(spec, event)
    profiler.disable()
    if response.get("statusCode") != 200:
        raise RuntimeError(f"profiled export answered {response.get('statusCode')}")
    for order in ("tottime", "cumulative"):
        log(f"\n--- cProfile, top {top} by {order} ---")
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(order).print_stats(top)
        log(out.getvalue().strip())


def measure(
    spec: FunctionSpec,
    table_name: str,
    window: tuple[datetime, datetime],
    args: argparse.Namespace,
    rss: PeakRss,
    raw: RawQuery,
) -> Iterator[SizeResult]:
    """Every side of every size, interleaved run by run (bare, raw, then naive and export per format), each side
    reading ``args.read_concurrency`` partitions at once."""
    client = boto3.client("dynamodb")
    planner = AuditStore(client, table_name)
    threads = args.read_concurrency
    for size in args.sizes:
        tenant = f"bench-{size}"
        result = SizeResult(size=size)
        parts = bare_partitions(planner, tenant, window)
        events = {fmt: export_event(tenant, fmt, window) for fmt in args.formats}
        for run in range(1, args.repeat + 1):
            line = []
            for name, reader, times in (("bare", client, result.bare_s), ("raw", raw, result.raw_s)):
                seconds, items = bare_read(reader, table_name, parts, threads)
                if items != size:
                    raise RuntimeError(f"{name} read of {tenant} found {items:,} items, expected {size:,}")
                times.append(seconds)
                line.append(f"{name} {seconds:.2f}s")
            for fmt in args.formats:
                seconds, naive_body = naive_export(table_name, parts, fmt, threads)
                check_rows(fmt, naive_body, size, what="naive")
                del naive_body
                result.naive_s.setdefault(fmt, []).append(seconds)
                line.append(f"naive {fmt} {seconds:.2f}s")
                rss.reset()
                seconds, response = run_export(spec, events[fmt])
                result.rss_delta[fmt] = max(result.rss_delta.get(fmt, 0), rss.delta_bytes())
                result.export_s.setdefault(fmt, []).append(seconds)
                body = response["body"]
                result.body_bytes[fmt] = len(body.encode("utf-8"))
                check_rows(fmt, body, size)
                del response, body
                line.append(f"{fmt} {seconds:.2f}s")
            log(f"  {size:,} records, run {run}/{args.repeat}: " + ", ".join(line) + f"; load {load_average()}")
        result.load = load_average()
        for fmt in args.formats:
            result.traced_peak[fmt] = traced_peak(partial(run_export, spec, events[fmt]))
            log(f"  {size:,} records, {fmt}: tracemalloc peak {result.traced_peak[fmt] / MIB:.1f} MiB")
        yield result


def run_sync(
    args: argparse.Namespace, dynamodb: DynamoDBLocal, window: tuple[datetime, datetime], loaded: dict[str, int]
) -> None:
    """The synchronous export against the bare read floor."""
    spec = configure_environment(dynamodb.endpoint, args.read_concurrency)
    table_name = spec.environment["AUDIT_TABLE_NAME"]
    log(f"DynamoDB Local at {dynamodb.endpoint}; table {table_name} created from template.yaml")
    log(
        f"caps lifted for the run: SYNC_EXPORT_LIMIT={LIFTED_RECORD_LIMIT:,}, "
        f"MAX_RESPONSE_BYTES={LIFTED_RESPONSE_BYTES:,} (deployed defaults: 10,000 records, 5,000,000 bytes; "
        "above them a synchronous export is refused)"
    )
    log(
        f"sizes {', '.join(f'{size:,}' for size in args.sizes)}; formats {', '.join(args.formats)}; "
        f"best of {args.repeat}; window {window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d} ({args.days} day partitions); "
        f"every side reads {args.read_concurrency} partition(s) at once (the export: READ_PREFETCH)"
    )
    load_handler(spec)

    log(f"\nloading records ({args.load_threads} threads, each with its own boto3 client):")
    load_times: dict[int, float] = {}
    for size in args.sizes:
        load_times[size] = load_tenant(table_name, f"bench-{size}", size, window, args.load_threads)
        loaded[f"bench-{size}"] = size
        log(f"  bench-{size}: {size:,} records in {load_times[size]:.1f}s ({size / load_times[size]:,.0f} rec/s)")

    log("\nwarm-up:")
    smallest = min(args.sizes)
    day = (window[0], window[0] + timedelta(days=1) - timedelta(milliseconds=1))
    first, _ = run_export(spec, export_event(f"bench-{smallest}", "csv", day))
    again, _ = run_export(spec, export_event(f"bench-{smallest}", "csv", day))
    log(f"  first invocation (one day of bench-{smallest}, builds the boto3 client): {first * 1000:.0f} ms")
    log(f"  the same invocation warm: {again * 1000:.0f} ms")
    warm_client = boto3.client("dynamodb")
    warm_parts = bare_partitions(AuditStore(warm_client, table_name), f"bench-{smallest}", window)
    threads = args.read_concurrency
    bare_read(warm_client, table_name, warm_parts, threads)
    raw = RawQuery(dynamodb.endpoint)
    bare_read(raw, table_name, warm_parts, threads)
    for fmt in args.formats:
        naive_export(table_name, warm_parts, fmt, threads)
        run_export(spec, export_event(f"bench-{smallest}", fmt, window))
    log(f"  then one bare read, raw read, naive and real export per format of {smallest:,} records, unmeasured")

    rss = PeakRss()
    log(f"\nmeasuring (load average {load_average()}):")
    results = list(measure(spec, table_name, window, args, rss, raw))

    rss_label = "RSS peak Δ MiB" if rss.resettable else "max RSS Δ MiB"
    log(f"\nresults (best of {args.repeat} of each side, the sides interleaved run by run):\n")
    log(results_table(results, args.formats, rss_label, threads))
    log(
        f"\nreads at once: every side reads {threads} day partition(s) concurrently (the export: READ_PREFETCH "
        "read-ahead threads; the others: a thread pool over the partitions).\n"
        "raw read: the same Queries over plain HTTP (botocore's SigV4 signer, urllib3, json.loads, Items counted): "
        "the read limit without botocore's client.\n"
        "naive: boto3's Table.query paging (the resource deserialises every item) and csv.DictWriter (csv) or "
        "json.dump (json) into one body.\n"
        "bare read: boto3 client.query over the same day partitions, same key condition and projection, "
        "Items counted, not deserialised.\n"
        "median of runs: the median of each run's export time over the same run's raw read time."
    )
    log(
        "export: functions/audit_export/app.py handler, REST proxy event, status and data rows checked. "
        + (
            "RSS peak Δ: peak RSS above the RSS before the call (after gc, malloc_trim and clear_refs), "
            "max over the timed runs."
            if rss.resettable
            else "max RSS Δ: growth of ru_maxrss during the call (only what exceeds earlier peaks)."
        )
    )

    run_read_path(args.sizes, dynamodb.endpoint, table_name, window, args.repeat)

    if args.profile:
        largest = max(args.sizes)
        log(f"\nprofiling one csv export of {largest:,} records ...")
        profile_export(spec, export_event(f"bench-{largest}", "csv", window))
