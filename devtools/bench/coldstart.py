"""Cold starts, per function: a fresh interpreter imports the handler and answers one representative request
against the local stack, against the function's floor, interleaved.

    .venv/bin/python -m devtools.bench.coldstart                       # every function, median of 5
    .venv/bin/python -m devtools.bench.coldstart --runs 3 --functions AuthorizerFunction,AuditExportFunction

- cold: a fresh ``python`` with the function's environment from template.yaml (pointed at the local stack, with
  Lambda's own variables: function name, a trace header) times, from its first line, the import of the handler
  module and one call of the handler with the function's representative request (devtools/bench/cold_requests.py;
  job workers: the payloads of a job the stack ran), status checked;
- floor: a fresh ``python`` with the same environment times ``import boto3``, creating the clients that request used
  (read from the cold process's live botocore clients) and, for the functions behind the API's routes, importing
  Powertools' REST resolver (not for the authorizer, which routes nothing): what any function making the same AWS
  calls behind API Gateway must load;
- reference: the smallest function of the API's kind (devtools/bench/cold_reference.py), measured like the others:
  the floor plus what the required stack adds (pydantic and a validated query model, Logger, Metrics, one GetItem
  answered). "cold/reference" is then what the service's own code adds to a cold start.

Each run measures every function's floor then its cold start, function after function; the median of ``--runs`` of
each is reported, with the ratio (goal: cold / floor <= 1.15 for the authorizer and every API function) and the
load average. Python's own start-up (about 20 ms) is in neither.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from devtools.bench.common import load_average, log, render
from devtools.local_stack import DEV_CURSOR_SIGNING_KEY
from devtools.template import ROOT, FunctionSpec, api

_COLD = r"""
import time
began = time.perf_counter()
import importlib.util, json, sys
args = json.loads(sys.argv[1])
sys.path.insert(0, args["layer"])
spec = importlib.util.spec_from_file_location("app", args["path"])
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
imported = time.perf_counter()


class Context:
    function_name = args["name"]
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:" + args["name"]
    memory_limit_in_mb = 1024
    aws_request_id = "cold-start"
    log_group_name = "/aws/lambda/" + args["name"]
    log_stream_name = "cold"

    def get_remaining_time_in_millis(self):
        return 29000


result = getattr(module, args["attr"])(args["event"], Context())
done = time.perf_counter()
import gc
from botocore.client import BaseClient
services = sorted({o.meta.service_model.service_name for o in gc.get_objects() if isinstance(o, BaseClient)})
status = result.get("statusCode") if isinstance(result, dict) else None
print(json.dumps({"import": imported - began, "total": done - began, "status": status, "services": services}))
"""

_FLOOR = r"""
import time
began = time.perf_counter()
import json, sys
args = json.loads(sys.argv[1])
import boto3
clients = [boto3.client(service) for service in args["services"]]
if args["api"]:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
print(json.dumps({"total": time.perf_counter() - began}))
"""


def _run(code: str, arguments: dict[str, Any], environment: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(arguments)], capture_output=True, text=True, env=environment, cwd=ROOT
    )
    if done.returncode != 0:
        raise RuntimeError(f"exited with {done.returncode}: {done.stderr[-1500:]}")
    answer: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return answer


def child_environment(spec: FunctionSpec, dynamodb_endpoint: str, moto_url: str) -> dict[str, str]:
    """The function's template environment, pointed at the local stack, with what Lambda itself sets."""
    keep = {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "VIRTUAL_ENV"}
    environment = {name: value for name, value in os.environ.items() if name in keep}
    environment.update(spec.environment)
    environment.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
            "AWS_LAMBDA_FUNCTION_NAME": spec.logical_id,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1024",
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_CONTEXT_MISSING": "IGNORE_ERROR",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "POWERTOOLS_LOG_LEVEL": "ERROR",
            # deployed: a Secrets Manager secret read once per container; locally the stack's development key
            "CURSOR_SIGNING_KEY": DEV_CURSOR_SIGNING_KEY,
            "PYTHONDONTWRITEBYTECODE": "1",  # the layer ships compiled bytecode: read it, never write it
        }
    )
    return environment


def api_functions() -> set[str]:
    spec = api()
    fronted = {route.function for route in spec.routes}
    return fronted | {spec.authorizer_function} if spec.authorizer_function else fronted


def routed_functions() -> set[str]:
    """The functions behind the API's routes: the ones whose floor imports Powertools' REST resolver (the authorizer
    answers API Gateway's authorizer event and routes nothing)."""
    return {route.function for route in api().routes} | {REFERENCE}


def measure(
    specs: dict[str, FunctionSpec],
    events: dict[str, dict[str, Any]],
    dynamodb_endpoint: str,
    moto_url: str,
    runs: int,
) -> list[tuple[str, ...]]:
    """Every function's floor and cold start, interleaved run by run; table rows of the medians."""
    fronted = api_functions()
    routed = routed_functions()
    cold: dict[str, list[dict[str, Any]]] = {name: [] for name in events}
    floor: dict[str, list[float]] = {name: [] for name in events}
    services: dict[str, list[str]] = {}
    for run in range(1, runs + 1):
        for name, event in events.items():
            spec = specs[name]
            environment = child_environment(spec, dynamodb_endpoint, moto_url)
            module_file, _, attr = spec.handler.rpartition(".")
            arguments = {
                "layer": str(ROOT / "layers" / "shared"),
                "path": str(spec.code_dir / f"{module_file}.py"),
                "attr": attr,
                "name": name,
                "event": event,
            }
            if name not in services:  # a first cold run tells which clients the request uses (not the tracer's)
                services[name] = [s for s in _run(_COLD, arguments, environment)["services"] if s != "xray"]
            floor_arguments = {"services": services[name], "api": name in routed}
            floor[name].append(_run(_FLOOR, floor_arguments, environment)["total"])
            cold[name].append(_run(_COLD, arguments, environment))
        log(f"  run {run}/{runs} done; load average {load_average()}")
    rows: list[tuple[str, ...]] = []
    reference = statistics.median(run["total"] for run in cold[REFERENCE]) if REFERENCE in cold else None
    for name in events:
        total = statistics.median(run["total"] for run in cold[name])
        imported = statistics.median(run["import"] for run in cold[name])
        base = statistics.median(floor[name])
        statuses = sorted({str(run["status"]) for run in cold[name]})
        kind = "authorizer" if "Authorizer" in name else "API" if name in fronted else "worker"
        kind = "reference" if name == REFERENCE else kind
        goal = "" if kind == "worker" else ("yes" if total / base <= 1.15 else "NO")
        rows.append(
            (
                name,
                kind,
                f"{imported * 1000:.0f}",
                f"{total * 1000:.0f}",
                f"{base * 1000:.0f}",
                f"{total / base:.2f}",
                goal,
                f"{total / reference:.2f}" if reference else "-",
                ",".join(services[name]) or "-",
                "/".join(statuses),
            )
        )
    return rows


HEADER = (
    "function",
    "kind",
    "import ms",
    "cold ms",
    "floor ms",
    "cold/floor",
    "<= 1.15",
    "cold/reference",
    "clients",
    "status",
)
# The smallest function of the API's kind (devtools/bench/cold_reference.py), measured beside the others: what the
# required stack (Powertools' validating resolver, pydantic, Logger and Metrics, one read) costs above the floor.
REFERENCE = "(reference)"


def reference_spec(specs: dict[str, FunctionSpec]) -> FunctionSpec:
    """The reference function, in the audit export's environment (its tables, Powertools and tracing settings)."""
    audit = specs["AuditExportFunction"]
    return FunctionSpec(REFERENCE, ROOT / "devtools" / "bench", "cold_reference.handler", audit.environment, 30)


def world_and_payloads(stack: Any, anchor: datetime, days: int) -> tuple[Any, dict[str, dict[str, Any]]]:
    """What the requests name, from the stack's demo data; and the job workers' payloads, from a job run now."""
    from devtools.bench.cold_requests import REQUESTS, World  # noqa: PLC0415
    from devtools.catalog_generator import catalog_world  # noqa: PLC0415
    from devtools.generate import DEFAULT_SEED, demo_window  # noqa: PLC0415
    from devtools.lambda_runtime import invoke  # noqa: PLC0415
    from devtools.template import functions  # noqa: PLC0415

    specs = functions(stack.refs)
    start, end = demo_window(anchor, days)
    day = end - timedelta(days=1)
    catalog = catalog_world("acme", start, end, DEFAULT_SEED)
    probe = World(day, "", "", "", "", "")
    listed = invoke(specs["ListIncidentsFunction"], REQUESTS["ListIncidentsFunction"](probe))
    page = json.loads(listed["body"])
    if listed.get("statusCode") != 200:
        raise RuntimeError(f"the incident list answered {listed.get('statusCode')}: {listed['body'][:300]}")
    incident_id = str((page["data"] if isinstance(page, dict) else page)[0]["id"])
    started = invoke(specs["StartExportFunction"], REQUESTS["StartExportFunction"](probe))
    job_id = json.loads(started["body"])["metadata"]["jobId"]
    incident = catalog.groups[0][1][0]
    asset = catalog.assets[0]
    world = World(day, incident_id, job_id, incident.id, asset.id, asset.credential_id)
    plan = invoke(specs["ExportPlanFunction"], {"job_id": job_id, "tenant": "acme"})
    results = [invoke(specs["ExportPartFunction"], item) for item in plan["chunks"]]
    payloads = {
        "ExportPlanFunction": {"job_id": job_id, "tenant": "acme"},
        "ExportPartFunction": plan["chunks"][0],
        "ExportFinishFunction": {"job_id": job_id, "tenant": "acme", "results": results},
    }
    return world, payloads


def run_cold_starts(runs: int, only: Sequence[str] = ()) -> str:
    """Start a local stack with a little demo data, measure, stop it; the table as text."""
    from devtools.bench.cold_requests import REQUESTS, reference_event  # noqa: PLC0415
    from devtools.dynamodb_local import free_port  # noqa: PLC0415
    from devtools.generate import DEFAULT_SEED  # noqa: PLC0415
    from devtools.local_stack import LocalStack  # noqa: PLC0415
    from devtools.template import functions  # noqa: PLC0415

    anchor, days = datetime(2026, 3, 1, tzinfo=UTC), 30
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request to moto
    for lifted in ("SYNC_EXPORT_LIMIT", "MAX_RESPONSE_BYTES", "READ_PREFETCH"):  # the sync section's, if it ran
        os.environ.pop(lifted, None)
    warnings.filterwarnings("ignore", message="No application metrics to publish")
    stack = LocalStack(
        port=free_port(),
        dynamodb_port=free_port(),
        moto_port=free_port(),
        log_dir=Path(tempfile.mkdtemp(prefix="coldstart-")),
    )
    log(f"\ncold starts: starting a local stack (DynamoDB Local, moto, demo data); load average {load_average()}")
    try:
        stack.start()
        from export_service.api.deps import reset_dependencies  # noqa: PLC0415

        reset_dependencies()  # clients of an earlier section pointed at its own DynamoDB Local, now stopped
        stack.create_demo_keys()
        stack.load_demo_data(0.05, DEFAULT_SEED, anchor, days)
        world, payloads = world_and_payloads(stack, anchor, days)
        events = {name: request(world) for name, request in REQUESTS.items()} | payloads
        if only:
            events = {name: event for name, event in events.items() if name in only}
        events = {REFERENCE: reference_event()} | events
        specs = functions(stack.refs)
        specs[REFERENCE] = reference_spec(specs)
        log(f"  {len(events)} functions, {runs} runs each, floor and cold start interleaved")
        rows = measure(specs, events, stack.dynamodb.endpoint, stack.moto_url, runs)
    finally:
        stack.stop()
    return (
        f"cold starts (median of {runs} fresh interpreters each; load average {load_average()}):\n\n"
        + render(HEADER, rows)
        + "\n\nimport: the handler module; cold: import + one representative request against the local stack; floor: "
        "import boto3 + the clients that request used (+ Powertools' REST resolver behind a route); reference: "
        "the smallest function of the API's kind (devtools/bench/cold_reference.py: the validating resolver, a "
        "pydantic query model, Logger, Metrics, one GetItem)."
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench.coldstart", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=5, help="fresh interpreters per function and side (5)")
    parser.add_argument("--functions", default="", help="only these functions (logical ids, comma-separated)")
    args = parser.parse_args(argv)
    only = [name.strip() for name in args.functions.split(",") if name.strip()]
    log(run_cold_starts(args.runs, only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
