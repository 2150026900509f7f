"""A partition worker's memory: the job's largest part exported again by the part function's handler in a fresh
interpreter (as a Lambda container runs it; a part is idempotent), once for its peak RSS, once under tracemalloc."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from devtools.bench.job_results import PART_FUNCTION, PLAN_FUNCTION, JobResult, WorkerRun
from devtools.bench.job_stack import JobStack
from devtools.template import ROOT, FunctionSpec

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
