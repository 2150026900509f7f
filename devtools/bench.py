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
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import ctypes
import ctypes.util
import gc
import io
import itertools
import json
import os
import pstats
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import boto3
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from devtools import generate
from devtools.dynamodb_local import DynamoDBLocal, free_port
from devtools.lambda_runtime import invoke, load_handler, rest_proxy_event
from devtools.provision import create_tables, local_refs
from devtools.template import ROOT, FunctionSpec, functions
from export_service.api.deps import reset_dependencies
from export_service.dal.audit_store import AuditStore, QueryPartition
from export_service.logic.audit_records import write_audit_records
from export_service.logic.timefmt import format_instant
from export_service.models.audit import AUDIT_COLUMNS, NewAuditRecord

FUNCTION = "AuditExportFunction"
ROUTE = "/v1/audit/export"
DEFAULT_SIZES = (10_000, 100_000)
DEFAULT_FORMATS = ("csv", "json")
DEFAULT_ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
LOAD_CHUNK = 500  # records a loading thread takes from the shared generator at a time (20 batch writes)
MIB = 1024 * 1024
# The synchronous path's caps, lifted for the run (defaults: 10,000 records, 5,000,000 bytes of body).
LIFTED_RECORD_LIMIT = 100_000_000
LIFTED_RESPONSE_BYTES = 1_000_000_000_000


@dataclass
class SizeResult:
    size: int
    bare_s: list[float] = field(default_factory=list)
    raw_s: list[float] = field(default_factory=list)
    export_s: dict[str, list[float]] = field(default_factory=dict)
    rss_delta: dict[str, int] = field(default_factory=dict)
    traced_peak: dict[str, int] = field(default_factory=dict)
    body_bytes: dict[str, int] = field(default_factory=dict)


def log(message: str) -> None:
    print(message, flush=True)


# ---- environment ---------------------------------------------------------------------------------------------------
def configure_environment(endpoint: str) -> FunctionSpec:
    """The audit export function's environment from template.yaml, pointed at DynamoDB Local, caps lifted."""
    refs = local_refs()
    spec = functions(refs)[FUNCTION]
    os.environ.update(spec.environment)
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
            "POWERTOOLS_LOG_LEVEL": "WARNING",
            "SYNC_EXPORT_LIMIT": str(LIFTED_RECORD_LIMIT),
            "MAX_RESPONSE_BYTES": str(LIFTED_RESPONSE_BYTES),
        }
    )
    create_tables(boto3.client("dynamodb"), refs)
    reset_dependencies()
    return spec


# ---- memory --------------------------------------------------------------------------------------------------------
def _status_kib(name: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    raise KeyError(name)


_LIBC_NAME = ctypes.util.find_library("c")


def _trim_heap() -> None:
    if _LIBC_NAME:
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(_LIBC_NAME).malloc_trim(0)


class PeakRss:
    """Peak RSS of this process above its RSS at ``reset``; Linux's clear_refs resets the peak, else ru_maxrss."""

    def __init__(self) -> None:
        self.resettable = self._try_reset()
        self._base = 0

    @staticmethod
    def _try_reset() -> bool:
        try:
            with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
                refs.write("5")
        except OSError:
            return False
        return True

    def reset(self) -> None:
        gc.collect()
        _trim_heap()  # hand freed memory back, so that a call that reuses it still shows in the peak
        if self.resettable:
            self._try_reset()
            self._base = _status_kib("VmRSS")
        else:  # ru_maxrss only grows: the delta shows only what goes beyond every earlier peak
            self._base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss

    def delta_bytes(self) -> int:
        peak = _status_kib("VmHWM") if self.resettable else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return max(0, peak - self._base) * 1024


# ---- loading -------------------------------------------------------------------------------------------------------
def load_tenant(table: str, tenant: str, count: int, window: tuple[datetime, datetime], threads: int) -> float:
    """Write ``count`` generated records for ``tenant``; threads take disjoint chunks of one generator."""
    records = generate.audit_records(tenant, count, *window)
    lock = threading.Lock()

    def next_chunk() -> list[NewAuditRecord]:
        with lock:
            return list(itertools.islice(records, LOAD_CHUNK))

    def worker(client: Any) -> int:
        store = AuditStore(client, table)
        written = 0
        while chunk := next_chunk():
            written += write_audit_records(store, tenant, chunk)
        return written

    clients = [boto3.client("dynamodb") for _ in range(threads)]  # boto3's default session is not thread-safe
    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        written = sum(pool.map(worker, clients))
    elapsed = time.perf_counter() - began
    if written != count:
        raise RuntimeError(f"{tenant}: wrote {written:,} records, expected {count:,}")
    return elapsed


# ---- the export through the handler --------------------------------------------------------------------------------
def export_event(tenant: str, fmt: str, window: tuple[datetime, datetime]) -> dict[str, Any]:
    query = {"format": [fmt], "from": [format_instant(window[0])], "to": [format_instant(window[1])]}
    authorizer = {"tenantId": tenant, "keyId": "ak_bench", "permissions": "AUDIT_READ", "principalId": "ak_bench"}
    headers = {"User-Agent": ["devtools.bench"]}
    return rest_proxy_event(
        method="GET", path=ROUTE, resource=ROUTE, query=query, headers=headers, authorizer=authorizer
    )


def run_export(spec: FunctionSpec, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    began = time.perf_counter()
    response = invoke(spec, event)
    elapsed = time.perf_counter() - began
    if response.get("statusCode") != 200:
        raise RuntimeError(f"export answered {response.get('statusCode')}: {str(response.get('body'))[:500]}")
    return elapsed, response


def data_rows(fmt: str, body: str) -> int:
    if fmt == "csv":
        return sum(1 for _ in csv.reader(io.StringIO(body, newline=""))) - 1
    if fmt == "json":
        document = json.loads(body)
        if document["metadata"]["totalRecords"] != len(document["records"]):
            raise RuntimeError("JSON metadata.totalRecords disagrees with the records array")
        return len(document["records"])
    return sum(1 for line in body.split("\n") if line)


def check_rows(fmt: str, body: str, expected: int) -> None:
    rows = data_rows(fmt, body)
    if rows != expected:
        raise RuntimeError(f"{fmt} export has {rows:,} data rows, expected {expected:,}")


# ---- the floor: bare Queries ---------------------------------------------------------------------------------------
def bare_query_args(table: str, part: QueryPartition) -> dict[str, Any]:
    """The same key condition and projection as the export's reads, written out here rather than borrowed."""
    names = {"#pk": part.pk_attr, "#sk": "sk"} | {f"#c{i}": column for i, column in enumerate(AUDIT_COLUMNS)}
    return {
        "TableName": table,
        "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": {":pk": {"S": part.pk}, ":lo": {"S": part.sk_lo}, ":hi": {"S": part.sk_hi}},
        "ProjectionExpression": ", ".join(f"#c{i}" for i in range(len(AUDIT_COLUMNS))),
    }


def bare_partitions(store: AuditStore, tenant: str, window: tuple[datetime, datetime]) -> list[QueryPartition]:
    """The day partitions the export reads: ``plan`` over the window, clamped to the tenant's days as it does."""
    bounds = store.bounds(tenant)
    if bounds is None:
        raise RuntimeError(f"{tenant} has no records")
    start = max(window[0], datetime.combine(bounds[0], dt_time.min, tzinfo=UTC))
    end = min(window[1], datetime.combine(bounds[1], dt_time.max, tzinfo=UTC))
    return store.plan(tenant, start, end, {})


class RawQuery:
    """DynamoDB Query over plain HTTP: signed by botocore's SigV4 signer, the answer parsed by ``json.loads`` only.

    A reference below the floor: what reading costs without botocore's response parser (items stay raw)."""

    def __init__(self, endpoint: str) -> None:
        session = boto3.session.Session()
        credentials = session.get_credentials()
        if credentials is None:
            raise RuntimeError("no AWS credentials in the environment")
        self._signer = SigV4Auth(credentials.get_frozen_credentials(), "dynamodb", session.region_name)
        self._url = endpoint.rstrip("/") + "/"
        self._http = urllib3.PoolManager()

    def query(self, **args: Any) -> dict[str, Any]:
        body = json.dumps(args)
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query"}
        request = AWSRequest(method="POST", url=self._url, data=body, headers=headers)
        self._signer.add_auth(request)
        response = self._http.request("POST", self._url, body=body, headers=dict(request.headers.items()))
        if response.status != 200:
            raise RuntimeError(f"raw Query answered {response.status}: {response.data[:300]!r}")
        return json.loads(response.data)


def bare_read(client: Any, table: str, parts: Sequence[QueryPartition]) -> tuple[float, int]:
    began = time.perf_counter()
    items = 0
    for part in parts:
        args = bare_query_args(table, part)
        while True:
            page = client.query(**args)
            items += len(page["Items"])
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            args["ExclusiveStartKey"] = last
    return time.perf_counter() - began, items


# ---- cold start ----------------------------------------------------------------------------------------------------
_IMPORT_SNIPPET = """
import importlib.util, sys, time
began = time.perf_counter()
sys.path.insert(0, {layer!r})
spec = importlib.util.spec_from_file_location("app", {path!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - began, len(sys.modules))
"""
_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)$")


def cold_import(spec: FunctionSpec, runs: int = 3) -> list[str]:
    """Import the handler module in fresh interpreters (as a Lambda cold start does); report times and big imports."""
    module_file = spec.handler.rpartition(".")[0]
    code = _IMPORT_SNIPPET.format(layer=str(ROOT / "layers" / "shared"), path=str(spec.code_dir / f"{module_file}.py"))
    times: list[float] = []
    modules = 0
    for _ in range(runs):
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
        seconds, count = done.stdout.split()
        times.append(float(seconds))
        modules = int(count)
    traced = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    shallow: list[tuple[int, str]] = []  # imports at most three levels below the handler module's own
    for line in traced.stderr.splitlines():
        match = _IMPORTTIME.match(line)
        if match and len(match.group(3)) <= 5:
            shallow.append((int(match.group(2)), match.group(4)))
    biggest = sorted(shallow, reverse=True)[:8]
    return [
        f"handler module import, fresh interpreter: best {min(times) * 1000:.0f} ms of {runs} "
        f"(first {times[0] * 1000:.0f} ms), {modules} modules in sys.modules",
        "largest imports (-X importtime, cumulative ms; nested ones are part of the ones above them):",
        *(f"  {micros / 1000:6.0f}  {name}" for micros, name in biggest),
    ]


# ---- reporting -----------------------------------------------------------------------------------------------------
def table(results: Sequence[SizeResult], formats: Sequence[str], rss_label: str) -> str:
    header = (
        "records",
        "format",
        "export s",
        "export rec/s",
        "bare read s",
        "bare rec/s",
        "ratio",
        "raw rec/s",
        rss_label,
        "tracemalloc peak MiB",
        "body MiB",
    )
    rows: list[tuple[str, ...]] = []
    for result in results:
        bare = min(result.bare_s)
        raw = min(result.raw_s)
        for fmt in formats:
            export = min(result.export_s[fmt])
            rows.append(
                (
                    f"{result.size:,}",
                    fmt,
                    f"{export:.2f}",
                    f"{result.size / export:,.0f}",
                    f"{bare:.2f}",
                    f"{result.size / bare:,.0f}",
                    f"{export / bare:.2f}",
                    f"{result.size / raw:,.0f}",
                    f"{result.rss_delta[fmt] / MIB:.1f}",
                    f"{result.traced_peak[fmt] / MIB:.1f}",
                    f"{result.body_bytes[fmt] / MIB:.1f}",
                )
            )
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


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


# ---- the run -------------------------------------------------------------------------------------------------------
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
    parser.add_argument("--profile", action="store_true", help="also cProfile one csv export of the largest size")
    args = parser.parse_args(argv)
    args.sizes = _csv_list(args.sizes, int)
    args.formats = _csv_list(args.formats, str)
    if not args.sizes or any(size < 1 for size in args.sizes):
        parser.error("--sizes takes positive record counts, e.g. 10000,100000")
    if not args.formats or set(args.formats) - {"csv", "json", "jsonl"}:
        parser.error("--formats takes csv, json and/or jsonl")
    if args.repeat < 1 or args.days < 1 or args.load_threads < 1:
        parser.error("--repeat, --days and --load-threads must be at least 1")
    return args


def measure(
    spec: FunctionSpec,
    table_name: str,
    window: tuple[datetime, datetime],
    sizes: Sequence[int],
    formats: Sequence[str],
    repeat: int,
    rss: PeakRss,
    raw: RawQuery,
) -> Iterator[SizeResult]:
    client = boto3.client("dynamodb")
    planner = AuditStore(client, table_name)
    for size in sizes:
        tenant = f"bench-{size}"
        result = SizeResult(size=size)
        parts = bare_partitions(planner, tenant, window)
        events = {fmt: export_event(tenant, fmt, window) for fmt in formats}
        for run in range(1, repeat + 1):
            seconds, items = bare_read(client, table_name, parts)
            if items != size:
                raise RuntimeError(f"bare read of {tenant} found {items:,} items, expected {size:,}")
            result.bare_s.append(seconds)
            line = [f"bare {seconds:.2f}s"]
            seconds, items = bare_read(raw, table_name, parts)
            if items != size:
                raise RuntimeError(f"raw read of {tenant} found {items:,} items, expected {size:,}")
            result.raw_s.append(seconds)
            line.append(f"raw {seconds:.2f}s")
            for fmt in formats:
                rss.reset()
                seconds, response = run_export(spec, events[fmt])
                result.rss_delta[fmt] = max(result.rss_delta.get(fmt, 0), rss.delta_bytes())
                result.export_s.setdefault(fmt, []).append(seconds)
                body = response["body"]
                result.body_bytes[fmt] = len(body.encode("utf-8"))
                check_rows(fmt, body, size)
                del response, body
                line.append(f"{fmt} {seconds:.2f}s")
            log(f"  {size:,} records, run {run}/{repeat}: " + ", ".join(line))
        for fmt in formats:
            gc.collect()
            tracemalloc.start()
            try:
                run_export(spec, events[fmt])
                result.traced_peak[fmt] = tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()
            log(f"  {size:,} records, {fmt}: tracemalloc peak {result.traced_peak[fmt] / MIB:.1f} MiB")
        yield result


def _terminate(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    start = DEFAULT_ANCHOR
    window = (start, start + timedelta(days=args.days))
    dynamodb = DynamoDBLocal(free_port())
    signal.signal(signal.SIGTERM, _terminate)  # so that the finally below stops DynamoDB Local on SIGTERM too
    try:
        log("starting DynamoDB Local (in memory) ...")
        dynamodb.start()
        spec = configure_environment(dynamodb.endpoint)
        table_name = spec.environment["AUDIT_TABLE_NAME"]
        log(f"DynamoDB Local at {dynamodb.endpoint}; table {table_name} created from template.yaml")
        log(
            f"caps lifted for the run: SYNC_EXPORT_LIMIT={LIFTED_RECORD_LIMIT:,}, "
            f"MAX_RESPONSE_BYTES={LIFTED_RESPONSE_BYTES:,} (deployed defaults: 10,000 records, 5,000,000 bytes; "
            "above them a synchronous export is refused)"
        )
        log(
            f"sizes {', '.join(f'{size:,}' for size in args.sizes)}; formats {', '.join(args.formats)}; "
            f"best of {args.repeat}; window {window[0]:%Y-%m-%d} to {window[1]:%Y-%m-%d} ({args.days} day partitions)"
        )

        log("\ncold start:")
        for line in cold_import(spec):
            log("  " + line)
        loaded = time.perf_counter()
        load_handler(spec)
        log(f"  handler module import in this process (boto3 already imported): {time.perf_counter() - loaded:.3f}s")

        log(f"\nloading records ({args.load_threads} threads, each with its own boto3 client):")
        load_times: dict[int, float] = {}
        for size in args.sizes:
            load_times[size] = load_tenant(table_name, f"bench-{size}", size, window, args.load_threads)
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
        bare_read(warm_client, table_name, warm_parts)
        raw = RawQuery(dynamodb.endpoint)
        bare_read(raw, table_name, warm_parts)
        for fmt in args.formats:
            run_export(spec, export_event(f"bench-{smallest}", fmt, window))
        log(f"  then one bare read, one raw read and one export per format of {smallest:,} records, unmeasured")

        rss = PeakRss()
        log("\nmeasuring:")
        results = list(measure(spec, table_name, window, args.sizes, args.formats, args.repeat, rss, raw))

        rss_label = "RSS peak Δ MiB" if rss.resettable else "max RSS Δ MiB"
        log(f"\nresults (best of {args.repeat}; ratio = export s / bare read s):\n")
        log(table(results, args.formats, rss_label))
        log(
            "\nbare read: boto3 client.query over the same day partitions, same key condition and projection, "
            "Items counted, not deserialised.\n"
            "raw: the same Queries over plain HTTP (botocore's SigV4 signer, urllib3, json.loads): the read without "
            "botocore's response parsing, for reference."
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

        if args.profile:
            largest = max(args.sizes)
            log(f"\nprofiling one csv export of {largest:,} records ...")
            profile_export(spec, export_event(f"bench-{largest}", "csv", window))
    finally:
        dynamodb.stop()
        log(f"\nDynamoDB Local stopped; total {time.perf_counter() - began:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
