"""The local stack: DynamoDB Local, moto's server, and a local API gateway running the template's functions.

    python -m devtools.local_stack            # or: make run

Everything binds to 127.0.0.1. Tables, bucket and routes come from template.yaml. Ctrl-C stops it all.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from devtools import moto_fixes
from devtools.dynamodb_local import DynamoDBLocal, ExternalDynamoDB, wait_for_port
from devtools.gateway import LocalApiGateway, serve
from devtools.provision import create_buckets, create_keys, create_tables, local_refs
from devtools.sfn_local import create_state_machines, enable_state_machine_execution, run_lambda_tasks_in_process
from devtools.template import api, functions
from devtools.usage_plans import UsagePlanMeter, api_key_required, create_usage_plans
from export_service.dal.usage_keys import UsagePlanKeys
from export_service.models.nightly import NightlyFormat, nightly_format

HOST = "127.0.0.1"


@dataclass(frozen=True)
class DemoKey:
    key_id: str
    secret: str
    tenant: str
    permissions: tuple[str, ...]
    note: str

    @property
    def token(self) -> str:
        return f"{self.key_id}.{self.secret}"


ALL_PERMISSIONS = (
    "INCIDENTS_READ",
    "AUDIT_READ",
    "EXPORTS_READ",
    "EXPORTS_WRITE",
    # the data-observability catalog's
    "SOURCES_READ",
    "VALIDATORS_READ",
    "CATALOG_ASSETS_READ",
    "INCIDENTS_WRITE",
    "SQL_EXECUTION_WRITE",
)
# Local-only keys with published secrets: never create these in a deployed stack.
DEMO_KEYS = (
    DemoKey("ak_demo_acme", "demo-acme-secret-0001", "acme", ALL_PERMISSIONS, "tenant acme, every permission"),
    DemoKey("ak_demo_globex", "demo-globex-secret-0001", "globex", ALL_PERMISSIONS, "tenant globex, every permission"),
    DemoKey(
        "ak_demo_acme_incidents",
        "demo-acme-incidents-0001",
        "acme",
        ("INCIDENTS_READ",),
        "tenant acme, INCIDENTS_READ only (audit export answers 403)",
    ),
)


# Signs incident list cursors locally (a deployed stack generates its key in Secrets Manager). Published, like the
# demo keys: never use it outside the local stack.
DEV_CURSOR_SIGNING_KEY = "local-dev-cursor-signing-key-not-a-secret-0001"


def configure_environment(moto_url: str, dynamodb_endpoint: str, refs: dict[str, str]) -> None:
    """What the functions see: the template's environment, with AWS endpoints pointing at the local services."""
    os.environ.update(
        {
            "AWS_ACCESS_KEY_ID": "local",
            "AWS_SECRET_ACCESS_KEY": "local",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": moto_url,
            "AWS_ENDPOINT_URL_DYNAMODB": dynamodb_endpoint,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_DISABLED": "true",
        }
    )
    os.environ.setdefault("CURSOR_SIGNING_KEY", DEV_CURSOR_SIGNING_KEY)
    for spec in functions(refs).values():
        for name, value in spec.environment.items():
            os.environ.setdefault(name, value)


class LocalStack:
    def __init__(
        self,
        *,
        port: int,
        dynamodb_port: int,
        moto_port: int,
        log_dir: Path,
        dynamodb_endpoint: str = "",
        parameters: dict[str, str] | None = None,
    ) -> None:
        self.port = port
        self.url = f"http://{HOST}:{port}"
        self.dynamodb: DynamoDBLocal | ExternalDynamoDB = (
            ExternalDynamoDB(dynamodb_endpoint)
            if dynamodb_endpoint
            else DynamoDBLocal(dynamodb_port, log_path=log_dir / "dynamodb-local.log")
        )
        self.moto_port = moto_port
        self.moto_url = f"http://{HOST}:{moto_port}"
        self.refs = {**local_refs(), **(parameters or {})}  # template parameters: defaults, or as overridden
        self.usage_plan_id = ""
        self._moto: Any = None
        self._server: Any = None

    def _configure_environment(self) -> None:
        configure_environment(self.moto_url, self.dynamodb.endpoint, self.refs)

    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer  # noqa: PLC0415 - heavy import, only for the stack

        self.dynamodb.start()
        moto_fixes.apply()
        enable_state_machine_execution()
        run_lambda_tasks_in_process(functions(self.refs))
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.moto_port, verbose=False)
        self._moto.start()
        wait_for_port(self.moto_port)
        self._configure_environment()
        create_tables(boto3.client("dynamodb"), self.refs)
        create_buckets(boto3.client("s3"), self.refs)
        create_keys(boto3.client("kms"), self.refs)  # the manifest signing key, under its local id
        create_state_machines(boto3.client("stepfunctions"), self.refs)
        meter = None
        if api_key_required():  # API Gateway meters each request under the authorizer's usage identifier
            self.usage_plan_id = create_usage_plans(boto3.client("apigateway"), self.refs)
            meter = UsagePlanMeter(boto3.client("apigateway"))
        gateway = LocalApiGateway(api(), functions(self.refs), usage=meter)
        self._server = serve(gateway, HOST, self.port)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._moto is not None:
            self._moto.stop()
        self.dynamodb.stop()

    def create_demo_keys(self) -> None:
        from export_service.dal.api_key_store import ApiKeyStore  # noqa: PLC0415
        from export_service.logic.api_keys import mint_api_key  # noqa: PLC0415
        from export_service.models.api_keys import Permission  # noqa: PLC0415

        store = ApiKeyStore(boto3.client("dynamodb"), self.refs["ApiKeysTable"])
        usage = UsagePlanKeys(boto3.client("apigateway"), self.usage_plan_id) if self.usage_plan_id else None
        for demo in DEMO_KEYS:
            key, _ = mint_api_key(
                demo.tenant,
                [Permission(p) for p in demo.permissions],
                datetime.now(UTC),
                name=f"demo: {demo.note}",
                key_id=demo.key_id,
                secret=demo.secret,
            )
            if usage is not None:  # each demo tenant metered on its own, as devtools.keys --usage-plan does
                key = key.model_copy(update={"usage_key": usage.tenant_key(demo.tenant)})
            store.put(key)

    def enable_demo_nightly(self, since: datetime, fmt: str = "csv") -> list[str]:
        """Nightly exports on for the tenants with every-permission demo keys (initech stays off), with files in
        ``fmt`` (csv or parquet)."""
        from export_service.dal.export_request_store import ExportRequestStore  # noqa: PLC0415

        chosen = nightly_format(fmt, "--nightly-format")
        store = ExportRequestStore(boto3.client("dynamodb"), self.refs["ExportRequestsTable"])
        tenants = sorted({demo.tenant for demo in DEMO_KEYS if "EXPORTS_READ" in demo.permissions})
        for tenant in tenants:
            store.enable(tenant, since, chosen)
        return tenants

    def load_demo_data(self, scale: float, seed: int, anchor: datetime | None, days: int) -> list[str]:
        from devtools.generate import DEMO_TENANTS, audit_records, demo_window  # noqa: PLC0415
        from devtools.generate_incidents import DEMO_INCIDENTS, incident_bundles  # noqa: PLC0415
        from export_service.dal.audit_store import AuditStore  # noqa: PLC0415
        from export_service.dal.incident_store import IncidentStore  # noqa: PLC0415
        from export_service.logic.audit_records import write_audit_records  # noqa: PLC0415
        from export_service.logic.incident_records import write_incident_bundles  # noqa: PLC0415

        audit = AuditStore(boto3.client("dynamodb"), self.refs["AuditTable"])
        incidents = IncidentStore(boto3.client("dynamodb"), self.refs["IncidentsTable"])
        start, end = demo_window(anchor, days)
        lines = []
        for tenant, base in DEMO_TENANTS.items():
            count = write_audit_records(audit, tenant, audit_records(tenant, int(base * scale), start, end, seed))
            bundles = incident_bundles(tenant, int(DEMO_INCIDENTS[tenant] * scale), start, end, seed)
            rows = write_incident_bundles(incidents, tenant, bundles)
            children = ", ".join(f"{n:,} {name}" for name, n in rows.items() if name != "incidents")
            lines.append(
                f"{tenant}: {count:,} audit records, {rows['incidents']:,} incidents ({children}), "
                f"{start:%Y-%m-%d} to {end:%Y-%m-%d}"
            )
            lines.append(f"{tenant}: catalog: " + self.load_demo_catalog(tenant, start, end, seed))
        return lines

    def load_demo_catalog(self, tenant: str, start: datetime, end: datetime, seed: int) -> str:
        """The tenant's data-observability catalog (devtools/catalog_generator.py), assets as Parquet in S3."""
        from devtools.catalog_loader import load_catalog  # noqa: PLC0415

        dynamodb, s3 = boto3.client("dynamodb"), boto3.client("s3")
        table, bucket = self.refs["CatalogTable"], self.refs["CatalogBucket"]
        counts = load_catalog(dynamodb, s3, table, bucket, tenant, start, end, seed)
        return ", ".join(f"{count:,} {name}" for name, count in counts.items())


def usage(stack: LocalStack, window: tuple[datetime, datetime], nightly_files: str = "csv") -> str:
    key = DEMO_KEYS[0]
    base = f"{stack.url}/v1/audit/export"
    first, end = (f"{moment:%Y-%m-%d}" for moment in window)
    week = f"{window[1] - timedelta(days=7):%Y-%m-%d}"
    day = f"{window[1] - timedelta(days=1):%Y-%m-%d}"
    from devtools.generate import demo_users  # noqa: PLC0415

    demo_user = demo_users("acme")[0]
    pair = key.token.replace(".", ":", 1)
    lines = [
        "",
        f"Export service running at {stack.url}   (Ctrl-C to stop)",
        "",
        "Demo API keys (local only):",
        *(f"  {demo.token:45s} {demo.note}" for demo in DEMO_KEYS),
        "",
        f"Demo data: {first} to {end}. Try:",
        f"  curl -sS -H 'Authorization: Bearer {key.token}' '{base}?from={week}&to={end}' | head",
        f"  curl -sS -D - -H 'apikey: {key.token}' '{base}?format=json&from={day}&to={end}'",
        f"  curl -sS -H 'Authorization: {key.token.replace('.', ':', 1)}' "
        f"'{base}?format=jsonl&user={demo_user}&from={week}'",
        f"  curl -sS -OJ -H 'Authorization: Bearer {key.token}' "
        f"'{base}?action=runbook.execute&namespace=production&from={first}&to={end}'   # saves the CSV",
        f"  curl -sS -H 'Authorization: Bearer {DEMO_KEYS[2].token}' '{base}'   # 403: no AUDIT_READ",
        f"  curl -sS -H 'apikey: {key.token}' '{stack.url}/v1/export/incidents?severities=HIGH&statuses=OPEN"
        f"&from={first}' | head -3",
        f"  curl -sS -OJ -H 'apikey: {key.token}' '{stack.url}/v1/export/incident-events?format=jsonl&from={week}'",
        f"  curl -sS -G -H 'apikey: {key.token}' '{stack.url}/v1/export/retrospectives' --data-urlencode "
        f'\'filter={{"range":{{"start":"{first}T00:00:00Z"}}}}\' --data-urlencode '
        '\'sort={"field":"created_at","direction":"desc"}\' | head -3',
        f"  curl -sS -H 'Authorization: Bearer {key.token}' '{base}?from=yesterday'   # 400 naming 'from'",
        f"  curl -sS -D - -H 'apikey: {key.token}' '{stack.url}/v1/incidents?severities=HIGH&statuses=OPEN&limit=5'"
        "   # next page: &cursor=<X-Next-Cursor>",
        f"  curl -sS -H 'apikey: {key.token}' '{stack.url}/v1/incidents/distribution?timezone=Europe/Berlin"
        f"&from_time={week}T00:00:00Z'",
        f"  curl -sS -H 'apikey: {key.token}' '{stack.url}/v1/incidents/summary'",
        f"  curl -sS -OJ -H 'apikey: {key.token}' '{base}?file_type=pdf&event_type=incident&sub_type=resolved"
        f"&locale=de&timezone=Europe/Berlin&range_start={week}'   # saves a PDF report",
        f"  curl -sS -H 'apikey: {key.token}' '{base}?format=jsonl&event_type=runbook&locale=fr"
        f"&timezone=America/New_York&from={day}' | head -2   # adds localTime",
        "",
        "The data-observability catalog (docs/catalog.md), with the key:secret header form:",
        f"  curl -sS -H 'Authorization: {pair}' '{stack.url}/api/export/v1/sources' | head -3",
        f"  curl -sS -G -H 'Authorization: {pair}' '{stack.url}/api/export/v1/incident-groups'"
        ' --data-urlencode \'filter={"namespace":["production"]}\' | head -3',
        "",
        f"Nightly exports are on for acme and globex ({nightly_files} files, from a day before the demo data ends). "
        "Run a night now,",
        "then list its reports (links valid 300 s):",
        f"  .venv/bin/python -m devtools.nightly --dynamodb-endpoint {stack.dynamodb.endpoint} "
        f"--moto-endpoint {stack.moto_url} fire",
        f"  curl -sS -H 'apikey: {key.token}' '{stack.url}/v1/export-requests?newer_than={first}T00%3A00%3A00'",
        "Parquet nightly files for a tenant (from its next night; --nightly-format parquet starts the stack so):",
        f"  .venv/bin/python -m devtools.nightly --dynamodb-endpoint {stack.dynamodb.endpoint} "
        "enable --tenant acme --format parquet",
        "",
        f"DynamoDB Local: {stack.dynamodb.endpoint}   moto (S3 and the rest): {stack.moto_url}",
        f"More keys: .venv/bin/python -m devtools.keys --endpoint {stack.dynamodb.endpoint}"
        f" --apigateway-endpoint {stack.moto_url} --usage-plan {stack.usage_plan_id} create --tenant acme"
        " --permissions AUDIT_READ",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")), help="API port (3000)")
    parser.add_argument("--dynamodb-port", type=int, default=int(os.environ.get("DYNAMODB_PORT", "8000")))
    parser.add_argument("--dynamodb-endpoint", default="", help="use this running DynamoDB instead of starting one")
    parser.add_argument(
        "--parameter-overrides",
        nargs="+",
        default=[],
        metavar="NAME=VALUE",
        help="template parameters other than their defaults, as sam deploy takes them (e.g. TenantRateLimit=1000)",
    )
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "5000")))
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies the demo data (1 = 12,500 records)")
    parser.add_argument("--seed", type=int, default=None, help="demo data seed (default: the generator's)")
    parser.add_argument("--anchor", help="demo data ends at this UTC date (default: today)")
    parser.add_argument("--days", type=int, default=180, help="days of demo history")
    parser.add_argument("--no-demo-data", action="store_true", help="start empty (keys are still created)")
    parser.add_argument(
        "--nightly-format",
        choices=[fmt.value for fmt in NightlyFormat],
        default="csv",
        help="the demo tenants' nightly files: csv (default) or parquet",
    )
    parser.add_argument("--quiet", action="store_true", help="log only warnings from the functions and the gateway")
    args = parser.parse_args(argv)

    if args.quiet:
        os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(name)s: %(message)s")
    for noisy in ("botocore", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    log_dir = Path(tempfile.mkdtemp(prefix="export-service-local-"))
    stack = LocalStack(
        port=args.port,
        dynamodb_port=args.dynamodb_port,
        moto_port=args.moto_port,
        log_dir=log_dir,
        dynamodb_endpoint=args.dynamodb_endpoint,
        parameters=dict(item.split("=", 1) for item in args.parameter_overrides),
    )

    def _interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    # Explicit handlers: a stack started in the background (CI, scripts) may inherit an ignored SIGINT, and
    # SIGTERM should stop it as cleanly as Ctrl-C does, even in the middle of loading data.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    try:
        print("starting DynamoDB Local, moto and the local gateway ...", flush=True)
        stack.start()
        stack.create_demo_keys()
        from devtools.generate import DEFAULT_SEED, demo_window  # noqa: PLC0415

        anchor = datetime.fromisoformat(args.anchor).replace(tzinfo=UTC) if args.anchor else None
        window = demo_window(anchor, args.days)
        if not args.no_demo_data:
            began = time.monotonic()
            for line in stack.load_demo_data(args.scale, args.seed or DEFAULT_SEED, anchor, args.days):
                print("  " + line, flush=True)
            print(f"  demo data loaded in {time.monotonic() - began:.1f}s", flush=True)
        stack.enable_demo_nightly(window[1] - timedelta(days=1), args.nightly_format)
        print(usage(stack, window, args.nightly_format), flush=True)
        print("local stack ready", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping ...", flush=True)
        stack.stop()
        print("stopped", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
