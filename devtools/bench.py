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
  context with EXPORTS_WRITE), the job item polled until it succeeds; wall time from the POST to "succeeded", the
  time split (POST, plan, the Map of parts, finish) from the state machine's task invocations, timed as they run;
- the file: GET /v1/exports/{jobId} through its handler, downloaded through the presigned link, rows, bytes and
  SHA-256 checked against the job's;
- a partition worker's memory: the largest part of the job's plan exported again by the part function's handler in
  a fresh interpreter (as a Lambda container runs it; a part is idempotent), once for its peak RSS and once under
  tracemalloc;
- the floor: the bare boto3 Query loop over the same records, as above.

Loading runs at about 2,000 records a second into DynamoDB Local: a million records take 8 to 9 minutes.

People's exports (issue #7; devtools/bench_people.py): the PDF report and localized csv/json at 5,000 records,
after the synchronous part, or alone:

    .venv/bin/python -m devtools.bench --only-people                          # make bench ARGS=--only-people
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import csv
import ctypes
import ctypes.util
import gc
import hashlib
import io
import itertools
import json
import logging
import os
import pstats
import re
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import warnings
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from typing import Any

import boto3
import requests
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from devtools import generate
from devtools.bench_people import run_people
from devtools.dynamodb_local import DynamoDBLocal, free_port, wait_for_port
from devtools.lambda_runtime import invoke, load_handler, rest_proxy_event
from devtools.provision import create_buckets, create_tables, local_refs
from devtools.sfn_local import create_state_machines, enable_state_machine_execution, run_lambda_tasks_in_process
from devtools.template import ROOT, FunctionSpec, functions, load_template, resources
from export_service.api.deps import reset_dependencies
from export_service.dal.audit_store import AuditStore, QueryPartition
from export_service.dal.job_store import JobStore
from export_service.dal.s3_files import PART_SIZE
from export_service.logic.audit_records import write_audit_records
from export_service.logic.export_jobs import MAX_CHUNKS
from export_service.models.audit import AUDIT_COLUMNS, NewAuditRecord
from export_service.timefmt import format_instant

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
# The asynchronous export job.
DEFAULT_JOB_SIZES = (100_000, 1_000_000)
JOB_WARMUP_SIZE = 1_000  # a small job first, unmeasured: handler imports, clients, moto's first requests
START_FUNCTION = "StartExportFunction"
GET_FUNCTION = "GetExportFunction"
PLAN_FUNCTION = "ExportPlanFunction"
PART_FUNCTION = "ExportPartFunction"
FINISH_FUNCTION = "ExportFinishFunction"
STATE_MACHINE = "ExportStateMachine"
JOBS_ROUTE = "/v1/exports"
JOB_ROUTE = "/v1/exports/{jobId}"
HOST = "127.0.0.1"
POLL_SECONDS = 0.25
LOAD_PROGRESS_SECONDS = 30.0


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
    """Write ``count`` generated records for ``tenant``; threads take disjoint chunks of one generator.

    A progress line every LOAD_PROGRESS_SECONDS: a million records take minutes."""
    records = generate.audit_records(tenant, count, *window)
    lock = threading.Lock()
    began = reported = time.perf_counter()
    total_written = 0

    def next_chunk() -> list[NewAuditRecord]:
        with lock:
            return list(itertools.islice(records, LOAD_CHUNK))

    def done(written: int) -> None:
        nonlocal total_written, reported
        with lock:
            total_written += written
            now = time.perf_counter()
            if now - reported < LOAD_PROGRESS_SECONDS:
                return
            reported, total = now, total_written
        rate = total / (now - began)
        left = (count - total) / rate if rate else 0.0
        log(f"    {tenant}: {total:,} of {count:,} records, {rate:,.0f} rec/s, about {left:.0f}s to go")

    def worker(client: Any) -> int:
        store = AuditStore(client, table)
        written = 0
        while chunk := next_chunk():
            wrote = write_audit_records(store, tenant, chunk)
            written += wrote
            done(wrote)
        return written

    clients = [boto3.client("dynamodb") for _ in range(threads)]  # boto3's default session is not thread-safe
    began = reported = time.perf_counter()
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
    return _render(header, rows)


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


# ---- the asynchronous export job -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class TaskCall:
    """One Lambda task of the state machine, as moto's interpreter invoked it (in-process), timed."""

    function: str
    job_id: str
    began: float
    ended: float
    payload: dict[str, Any] | None  # what the task returned, when it did not fail
    error: str | None

    @property
    def seconds(self) -> float:
        return self.ended - self.began


class TaskTimer:
    """Times the state machine's tasks: wraps the in-process Lambda invoke that devtools.sfn_local installs in moto."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._calls: list[TaskCall] = []

    def install(self) -> None:
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import (  # noqa: PLC0415
            lambda_eval_utils,
        )

        inner = lambda_eval_utils._invoke_lambda_function

        def timed(parameters: dict[str, Any], region: str, state_credentials: Any) -> dict[str, Any]:
            began = time.perf_counter()
            response = inner(parameters, region, state_credentials)
            ended = time.perf_counter()
            raw = parameters.get("Payload")
            sent = json.loads(raw) if isinstance(raw, bytes | str) else raw or {}
            body = response.get("Payload")
            error = None
            if response.get("FunctionError"):
                error = f"{body.get('errorType')}: {body.get('errorMessage')}" if isinstance(body, dict) else str(body)
            call = TaskCall(
                function=str(parameters["FunctionName"]).rsplit(":", 1)[-1],
                job_id=str(sent.get("job_id", "")),
                began=began,
                ended=ended,
                payload=body if error is None and isinstance(body, dict) else None,
                error=error,
            )
            with self._lock:
                self._calls.append(call)
            return dict(response)

        lambda_eval_utils._invoke_lambda_function = timed  # type: ignore[assignment]

    def calls(self, job_id: str) -> list[TaskCall]:
        with self._lock:
            return [call for call in self._calls if call.job_id == job_id]


class JobStack:
    """moto's server in this process next to DynamoDB Local, started as devtools/local_stack.py starts it: S3, and Step
    Functions interpreting the template's state machine with its Lambda tasks invoked in-process (and timed)."""

    def __init__(self, dynamodb_endpoint: str) -> None:
        self.refs = local_refs()
        self.functions = functions(self.refs)
        self.timer = TaskTimer()
        self.moto_port = free_port()
        self.moto_url = f"http://{HOST}:{self.moto_port}"
        self.dynamodb_endpoint = dynamodb_endpoint
        self._moto: Any = None

    def start(self) -> None:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy import, only for the job part

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request to moto
        warnings.filterwarnings("ignore", message="No application metrics to publish")  # Powertools, metrics off
        enable_state_machine_execution()
        run_lambda_tasks_in_process(self.functions)
        self.timer.install()
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        self._moto.start()
        wait_for_port(self.moto_port)
        self._configure_environment()
        dynamodb = boto3.client("dynamodb")
        if not dynamodb.list_tables()["TableNames"]:  # the synchronous part, when it ran, created them already
            create_tables(dynamodb, self.refs)
        create_buckets(boto3.client("s3"), self.refs)
        create_state_machines(boto3.client("stepfunctions"), self.refs)

    def _configure_environment(self) -> None:
        """The functions' environment from template.yaml (STATE_MACHINE_ARN, the bucket, the template's sync cap)."""
        for spec in self.functions.values():
            os.environ.update(spec.environment)
        os.environ.pop("MAX_RESPONSE_BYTES", None)  # lifted by the synchronous part
        os.environ.update(
            {
                "AWS_ACCESS_KEY_ID": "local",
                "AWS_SECRET_ACCESS_KEY": "local",
                "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": self.moto_url,
                "AWS_ENDPOINT_URL_DYNAMODB": self.dynamodb_endpoint,
                "POWERTOOLS_TRACE_DISABLED": "true",
                "POWERTOOLS_METRICS_DISABLED": "true",
                "POWERTOOLS_LOG_LEVEL": "WARNING",
            }
        )
        reset_dependencies()

    def execution_arn(self, job_id: str) -> str:
        """Executions are named after their job (start_job)."""
        return self.refs[STATE_MACHINE].replace(":stateMachine:", ":execution:") + f":{job_id}"

    def stop(self) -> None:
        if self._moto is not None:
            self._moto.stop()
            self._moto = None


def map_concurrency() -> int | None:
    """The Map state's MaxConcurrency in the template's state machine."""
    for machine in resources(load_template(), "AWS::Serverless::StateMachine").values():
        definition = json.loads((ROOT / machine["Properties"]["DefinitionUri"]).read_text())
        for state in definition["States"].values():
            if state.get("Type") == "Map":
                return int(state.get("MaxConcurrency", 0))
    return None


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
    authorizer = {"tenantId": tenant, "keyId": "ak_bench", "permissions": permission, "principalId": "ak_bench"}
    headers = {"User-Agent": ["devtools.bench"]}
    if body is not None:
        headers["Content-Type"] = ["application/json"]
    return rest_proxy_event(
        method=method,
        path=path,
        resource=resource,
        path_parameters=path_parameters,
        headers=headers,
        body=body,
        authorizer=authorizer,
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
    event = jobs_event("POST", JOBS_ROUTE, JOBS_ROUTE, result.tenant, "EXPORTS_WRITE", body=json.dumps(body))
    result.began = time.perf_counter()
    response = invoke(stack.functions[START_FUNCTION], event)
    result.posted = time.perf_counter()
    if response.get("statusCode") != 202:
        raise RuntimeError(
            f"POST {JOBS_ROUTE} answered {response.get('statusCode')}: {str(response.get('body'))[:500]}"
        )
    result.job_id = json.loads(response["body"])["metadata"]["jobId"]
    done = wait_for_job(stack, result.tenant, result.job_id, result.began, timeout)
    result.wall_s = done - result.began
    result.tasks = stack.timer.calls(result.job_id)
    path = f"{JOBS_ROUTE}/{result.job_id}"
    event = jobs_event("GET", path, JOB_ROUTE, result.tenant, "EXPORTS_READ", path_parameters={"jobId": result.job_id})
    response = invoke(stack.functions[GET_FUNCTION], event)
    if response.get("statusCode") != 200:
        raise RuntimeError(f"GET {path} answered {response.get('statusCode')}: {str(response.get('body'))[:500]}")
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


_PART_WORKER = """
import gc, json, sys, time, tracemalloc
from pathlib import Path

from devtools.lambda_runtime import LocalLambdaContext, load_handler
from devtools.template import FunctionSpec
from export_service.api.deps import get_dependencies


def kib(name):
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(name + ":"):
                return int(line.split()[1])
    return 0


args = json.loads(sys.argv[1])
spec = FunctionSpec(args["function"], Path(args["code_dir"]), args["handler"], {}, args["timeout"])
handler = load_handler(spec)
get_dependencies().jobs()  # the clients, as a warm container holds them
gc.collect()
before = kib("VmRSS")
if args["traced"]:
    tracemalloc.start()
began = time.perf_counter()
result = handler(args["event"], LocalLambdaContext(function_name=spec.logical_id, timeout_s=spec.timeout))
seconds = time.perf_counter() - began
peak = tracemalloc.get_traced_memory()[1] if args["traced"] else 0
print(json.dumps({"result": result, "seconds": seconds, "traced_peak": peak, "rss_before_kib": before,
                  "rss_peak_kib": kib("VmHWM")}))
"""


def run_part_worker(spec: FunctionSpec, event: dict[str, Any], traced: bool) -> dict[str, Any]:
    """The part function's handler on one Map item, in a fresh interpreter with this process's environment."""
    arguments = {
        "function": spec.logical_id,
        "code_dir": str(spec.code_dir),
        "handler": spec.handler,
        "timeout": spec.timeout,
        "event": event,
        "traced": traced,
    }
    done = subprocess.run(
        [sys.executable, "-c", _PART_WORKER, json.dumps(arguments)], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"part worker exited with {done.returncode}: {done.stderr[-2000:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def measure_worker(stack: JobStack, result: JobResult) -> WorkerRun:
    """Export the job's largest part again (idempotent: same key, same bytes), untraced and then under tracemalloc."""
    plans, parts = result.succeeded(PLAN_FUNCTION), result.succeeded(PART_FUNCTION)
    if not plans or not parts or plans[-1].payload is None:
        raise RuntimeError(f"job {result.job_id}: no successful plan and parts were timed")
    largest = max(parts, key=lambda call: int(call.payload["rows"]) if call.payload else 0)
    assert largest.payload is not None
    index = int(largest.payload["index"])
    event = plans[-1].payload["chunks"][index]  # the Map item, as the state machine passed it
    spec = stack.functions[PART_FUNCTION]
    plain = run_part_worker(spec, event, traced=False)
    traced = run_part_worker(spec, event, traced=True)
    for run in (plain, traced):
        again = run["result"]
        if (again["rows"], again["bytes"]) != (largest.payload["rows"], largest.payload["bytes"]):
            result.problems.append(
                f"part {index} again: {again['rows']:,} rows, {again['bytes']:,} bytes; in the job "
                f"{largest.payload['rows']:,} rows, {largest.payload['bytes']:,} bytes"
            )
    return WorkerRun(
        index=index,
        rows=int(largest.payload["rows"]),
        seconds=float(plain["seconds"]),
        rss_before=int(plain["rss_before_kib"]) * 1024,
        rss_peak=int(plain["rss_peak_kib"]) * 1024,
        traced_peak=int(traced["traced_peak"]),
    )


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


def ensure_loaded(
    loaded: dict[str, int], table: str, tenant: str, size: int, window: tuple[datetime, datetime], threads: int
) -> None:
    if loaded.get(tenant) == size:
        log(f"  {tenant}: {size:,} records, already loaded in this run")
        return
    if tenant in loaded:
        raise RuntimeError(f"{tenant} already holds {loaded[tenant]:,} records, not {size:,}")
    log(f"  loading {size:,} records for {tenant} ({threads} threads) ...")
    seconds = load_tenant(table, tenant, size, window, threads)
    loaded[tenant] = size
    log(f"  {tenant}: {size:,} records loaded in {seconds:.1f}s ({size / seconds:,.0f} rec/s)")


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
        for size in args.job_sizes:
            log(f"\n{size:,} records:")
            result = JobResult(size=size, tenant=f"job-{size}")
            results.append(result)
            ensure_loaded(loaded, table_name, result.tenant, size, window, args.load_threads)
            result.bare_s, items = bare_read(client, table_name, bare_partitions(planner, result.tenant, window))
            log(f"  bare read: {result.bare_s:.2f}s ({size / result.bare_s:,.0f} rec/s)")
            if items != size:
                result.problems.append(f"bare read found {items:,} items, expected {size:,}")
            try:
                log("  POST /v1/exports ...")
                status = run_job(stack, result, window, args.job_timeout)
                log(
                    f"  job {result.job_id} succeeded: {result.wall_s:.1f}s from the POST "
                    f"({size / result.wall_s:,.0f} rec/s); the POST answered 202 in {result.post_s:.2f}s"
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
            except Exception as error:  # report and go on: the other sizes' figures are still worth having
                result.problems.append(f"{type(error).__name__}: {error}")
                log(f"  FAILED: {type(error).__name__}: {error}")
            for problem in result.problems:
                log(f"  PROBLEM: {problem}")
    finally:
        stack.stop()
        log("moto stopped")
    log("\n" + job_report(results))
    return results


def _render(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]
    lines = ["  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in (header, *rows)]
    lines.insert(1, "  ".join("-" * width for width in widths))
    return "\n".join(lines)


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
    split_rows: list[tuple[str, ...]] = []
    for result in results:
        split = job_split(result)
        if split is None:
            continue
        worker = result.worker
        split_rows.append(
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
    lines = [
        "export job results (one run each; ratio = job wall s / bare read s):",
        "",
        _render(header, rows),
        "",
        "job wall: POST /v1/exports (start_export handler) to the job item's state 'succeeded', polled every "
        f"{POLL_SECONDS}s. bare read: boto3 client.query over the same day partitions, one thread, Items counted.",
        "worker: the job's largest part exported again by the part function's handler in a fresh interpreter (as a "
        "Lambda container runs it); tracemalloc peak of the call (clients already built), and the process's peak RSS "
        "(VmHWM, imports included: what Lambda reports as Max Memory Used).",
        "",
        "where the time went (from the state machine's task invocations, timed in-process):",
        "",
        _render(split_header, split_rows) if split_rows else "(no successful job)",
        "",
        "POST: until the 202. to plan + plan + parts + finish + other = job wall. to plan: the POST's start to the "
        "plan task's start. parts: the first part's start to the last part's end, the Map's parts sharing this "
        "process's GIL (moto runs them on threads). other: the Map's start and end, state transitions, the poll's "
        "latency. worker alone: the largest part, nothing else running.",
    ]
    return "\n".join(lines)


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
    parser.add_argument(
        "--job-sizes",
        default=",".join(map(str, DEFAULT_JOB_SIZES)),
        help="records per asynchronous export job (100000,1000000); empty for none",
    )
    parser.add_argument("--skip-sync", action="store_true", help="run only the job part")
    parser.add_argument(
        "--incident-sizes",
        default="100000",
        help="incidents for the summary and distribution benchmark (100000); empty for none",
    )
    parser.add_argument("--people-size", type=int, default=5000, help="records of the PDF/locale section (5000)")
    parser.add_argument("--only-people", action="store_true", help="run only the PDF and localized exports section")
    parser.add_argument("--job-timeout", type=float, default=3600.0, help="seconds a job may take (3600)")
    args = parser.parse_args(argv)
    args.sizes = _csv_list(args.sizes, int)
    args.formats = _csv_list(args.formats, str)
    args.job_sizes = _csv_list(args.job_sizes, int)
    args.incident_sizes = _csv_list(args.incident_sizes, int)
    if args.only_people:  # the PDF/locale section alone
        args.skip_sync, args.job_sizes, args.incident_sizes = True, [], []
        return args
    if not args.skip_sync and (not args.sizes or any(size < 1 for size in args.sizes)):
        parser.error("--sizes takes positive record counts, e.g. 10000,100000")
    if not args.skip_sync and (not args.formats or set(args.formats) - {"csv", "json", "jsonl"}):
        parser.error("--formats takes csv, json and/or jsonl")
    if any(size < 1 for size in args.job_sizes):
        parser.error("--job-sizes takes positive record counts, e.g. 100000,1000000")
    if args.skip_sync and not args.job_sizes and not args.incident_sizes:
        parser.error("--skip-sync leaves nothing to run without --job-sizes or --incident-sizes")
    if args.repeat < 1 or args.days < 1 or args.load_threads < 1 or args.job_timeout <= 0:
        parser.error("--repeat, --days and --load-threads must be at least 1, --job-timeout positive")
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


def run_sync(
    args: argparse.Namespace, dynamodb: DynamoDBLocal, window: tuple[datetime, datetime], loaded: dict[str, int]
) -> None:
    """The synchronous export against the bare read floor."""
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
    imported = time.perf_counter()
    load_handler(spec)
    log(f"  handler module import in this process (boto3 already imported): {time.perf_counter() - imported:.3f}s")

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


def run_people_section(
    args: argparse.Namespace, dynamodb: DynamoDBLocal, window: tuple[datetime, datetime], loaded: dict[str, int]
) -> None:
    """The PDF report and localized csv/json at --people-size records (devtools/bench_people.py)."""
    spec = functions(local_refs())[FUNCTION] if loaded else configure_environment(dynamodb.endpoint)
    tenant, size = f"people-{args.people_size}", args.people_size
    if tenant not in loaded:
        seconds = load_tenant(spec.environment["AUDIT_TABLE_NAME"], tenant, size, window, args.load_threads)
        loaded[tenant] = size
        log(f"\nloaded {tenant}: {size:,} records in {seconds:.1f}s")
    run_people(spec, tenant, size, window, args.repeat, data_rows, log)


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
        if args.only_people or not args.skip_sync:
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
            from devtools.bench_incidents import run_incident_stats  # noqa: PLC0415

            lines = run_incident_stats(args.incident_sizes, dynamodb, args.repeat, args.load_threads)
            log("\nincident summary and distribution (through the handlers; best of --repeat):")
            for line in lines:
                log(line)
    finally:
        dynamodb.stop()
        log(f"\nDynamoDB Local stopped; total {time.perf_counter() - began:.0f}s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
