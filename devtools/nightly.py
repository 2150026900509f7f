"""Nightly exports: turn them on or off for a tenant, see their state, and fire the nightly event now.

    python -m devtools.nightly enable --tenant acme [--since 2026-06-01T00:00:00Z] [--format csv|parquet]
    python -m devtools.nightly disable --tenant acme
    python -m devtools.nightly status
    python -m devtools.nightly fire [--time 2026-06-02T02:30:00Z]     # local stack only

``enable --format parquet`` makes each source's nightly file a Parquet file (default csv); on a tenant that is already
on it changes the format of the nights dispatched from then on, keeping its start and watermark.

``fire`` sends the schedule's event (events/nightly_schedule.json, with ``time`` set to now or ``--time``) to the
dispatcher function, exactly as EventBridge Scheduler would, then waits for the night's executions on the local
stack's state machine and prints what each tenant got. Firing the same night again starts nothing new.

Defaults point at the local stack (DynamoDB Local on 127.0.0.1:8000, moto on 127.0.0.1:5000). For a deployed
stack, enable/disable/status take ``--table <ExportRequestsTableName output> --dynamodb-endpoint ""`` (your AWS
credentials and region); the schedule fires on its own there.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3

from devtools.provision import local_refs
from devtools.template import functions
from export_service.dal.export_request_store import ExportRequestStore
from export_service.errors import ExportServiceError
from export_service.logic.nightly import execution_name, night_of
from export_service.models.nightly import NightlyFormat, nightly_format
from export_service.timefmt import format_instant, parse_instant, utc_now

EVENT_PATH = Path(__file__).resolve().parent.parent / "events" / "nightly_schedule.json"


def schedule_event(moment: datetime) -> dict[str, Any]:
    """The schedule's event for ``moment`` (a fresh delivery id each time: a duplicate delivery differs in id)."""
    event: dict[str, Any] = json.loads(EVENT_PATH.read_text())
    event["time"] = format_instant(moment).replace(".000Z", "Z")
    event["id"] = str(uuid.uuid4())
    return event


def _local_environment(args: argparse.Namespace) -> dict[str, str]:
    from devtools.local_stack import configure_environment  # noqa: PLC0415

    refs = local_refs()
    configure_environment(args.moto_endpoint, args.dynamodb_endpoint, refs)
    return refs


def _store(args: argparse.Namespace) -> ExportRequestStore:
    kwargs: dict[str, Any] = {}
    if args.dynamodb_endpoint:
        kwargs = {
            "endpoint_url": args.dynamodb_endpoint,
            "region_name": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        }
        os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    return ExportRequestStore(boto3.client("dynamodb", **kwargs), args.table)


def fire(moment: datetime, args: argparse.Namespace, wait_seconds: float = 600.0) -> list[dict[str, Any]]:
    """Deliver the schedule's event for ``moment`` to the dispatcher and wait for the executions it names."""
    from devtools.lambda_runtime import invoke  # noqa: PLC0415

    refs = _local_environment(args)
    result = invoke(functions(refs)["NightlyDispatchFunction"], schedule_event(moment))
    sfn = boto3.client("stepfunctions")
    machine = refs["ExportStateMachine"]
    night = night_of(moment)
    deadline = time.monotonic() + wait_seconds
    outcomes = []
    for tenant in result["tenants"]:
        name = execution_name(tenant["tenant"], night)
        arn = machine.replace(":stateMachine:", ":execution:") + f":{name}"
        status = "not started"
        output: Any = None
        while True:
            try:
                described = sfn.describe_execution(executionArn=arn)
            except sfn.exceptions.ExecutionDoesNotExist:
                break
            status = described["status"]
            if status != "RUNNING" or time.monotonic() > deadline:
                output = json.loads(described.get("output") or "null")
                break
            time.sleep(0.2)
        outcomes.append({**tenant, "execution": name, "status": status, "output": output})
    return outcomes


def _enable(store: ExportRequestStore, tenant: str, since: datetime, fmt: NightlyFormat | None) -> str:
    """Turn a tenant's nightly exports on (csv unless ``fmt``), or change the format of a tenant already on."""
    if store.enable(tenant, since, fmt or NightlyFormat.CSV):
        chosen = fmt or NightlyFormat.CSV
        return f"nightly exports on for {tenant} (first window from {format_instant(since)}; {chosen.value} files)"
    config = store.get_config(tenant)
    started = format_instant(config.enabled_at) if config else "?"
    already = f"nightly exports were already on for {tenant} (since {started})"
    if config is None or fmt is None or fmt is config.format:
        return f"{already}; nothing changed"
    if not store.set_format(tenant, fmt):  # turned off in between
        return f"{tenant} was turned off meanwhile; nothing changed"
    return f"{already}; {fmt.value} files from the next night on (were {config.format.value}), same window"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dynamodb-endpoint", default="http://127.0.0.1:8000", help='"" for AWS')
    parser.add_argument("--moto-endpoint", default="http://127.0.0.1:5000", help="fire: the local stack's moto")
    parser.add_argument("--table", default="ExportRequestsTable")
    sub = parser.add_subparsers(dest="command", required=True)
    enable = sub.add_parser("enable", help="turn nightly exports on for a tenant")
    enable.add_argument("--tenant", required=True)
    enable.add_argument("--since", help="ISO 8601: the first night covers from here (default: now)")
    enable.add_argument(
        "--format",
        metavar="{csv,parquet}",
        help="the nightly files' format: csv (default when turning on) or parquet (typed columns); given for a tenant "
        "that is already on, it changes the format from the next night",
    )
    disable = sub.add_parser("disable", help="turn nightly exports off for a tenant")
    disable.add_argument("--tenant", required=True)
    sub.add_parser("status", help="every tenant with nightly exports on, and its watermark")
    fire_cmd = sub.add_parser("fire", help="deliver the nightly schedule's event now (local stack)")
    fire_cmd.add_argument("--time", help="ISO 8601 schedule time (default: now); its UTC date names the night")
    args = parser.parse_args(argv)

    if args.command == "enable":
        try:
            fmt = nightly_format(args.format, "--format") if args.format is not None else None
            since = parse_instant(args.since, "--since") if args.since else utc_now()
        except ExportServiceError as error:
            parser.error(error.message)
        print(_enable(_store(args), args.tenant, since, fmt))
    elif args.command == "disable":
        found = _store(args).disable(args.tenant)
        print(f"nightly exports off for {args.tenant}" if found else f"{args.tenant} never had nightly exports")
    elif args.command == "status":
        for config in _store(args).enabled_tenants():
            print(json.dumps(config.model_dump(mode="json")))
    else:
        moment = parse_instant(args.time, "--time") if args.time else utc_now()
        for outcome in fire(moment, args):
            print(json.dumps(outcome))
    return 0


if __name__ == "__main__":
    sys.exit(main())
