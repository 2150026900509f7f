"""The cost of auditing an export (every export action is one audit record, written before the data leaves):

    .venv/bin/python -m devtools.bench.export_audit          # alone: its own DynamoDB Local, 1,000 and 10,000 records
    .venv/bin/python -m devtools.bench                       # also runs it after the synchronous section

Against DynamoDB Local, through the real handler (functions/audit_export/app.py): the same csv export, alternately
with the audit write and with it replaced by a no-op (A/B, best and median of ``repeat`` runs each), and the write
alone (``AuditStore.append`` as the handler calls it: the first of a tenant and day in a container also widens the
tenant's day bounds, two conditional UpdateItems; every later one is one PutItem). DynamoDB Local answers in about a
millisecond on loopback; DynamoDB answers a PutItem in single-digit milliseconds in the same region.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from unittest import mock

import boto3

from devtools.bench.audit import FUNCTION, configure_environment, export_event
from devtools.bench.common import log
from devtools.bench.loading import load_tenant
from devtools.dynamodb_local import DynamoDBLocal, free_port
from devtools.lambda_runtime import invoke
from devtools.provision import local_refs
from devtools.template import functions
from export_service.dal.audit_store import AuditStore
from export_service.logic.export_audit import ExportAction, export_action_record
from export_service.models.api_keys import Principal

SIZES = (1_000, 10_000)


def _ms(values: Sequence[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return f"median {statistics.median(values) * 1000:.2f} ms, p95 {p95 * 1000:.2f} ms"


def write_alone(runs: int = 200) -> tuple[list[float], list[float]]:
    """(first of a tenant and day in a fresh store, every later one) write times, in seconds."""
    table = local_refs()["AuditTable"]
    client = boto3.client("dynamodb")
    principal = Principal(tenant_id="bench-audit-writes", key_id="ak_bench")
    now = datetime.now(UTC)
    firsts: list[float] = []
    laters: list[float] = []
    for run in range(runs):
        store = AuditStore(client, table)  # a new container: the bounds are widened once
        for later in (False, True):
            record = export_action_record(
                principal, ExportAction.SYNC, dataset="audit", filter_={"from": "2026-01-01"}, records=run, now=now
            )
            began = time.perf_counter()
            store.append(principal.tenant_id, record)
            (laters if later else firsts).append(time.perf_counter() - began)
    return firsts, laters


def export_ab(spec: object, tenant: str, window: tuple[datetime, datetime], repeat: int) -> tuple[list[float], ...]:
    """The same export, alternately with the audit write and without it (the write replaced by a no-op); and the
    time the write took inside each audited export (timed where the handler calls it)."""
    event = export_event(tenant, "csv", window)
    invoke(spec, event)  # type: ignore[arg-type]  # warm-up: imports, clients, the bounds of the day
    audited: list[float] = []
    unaudited: list[float] = []
    inside: list[float] = []
    real = AuditStore.append

    def timed(store: AuditStore, *args: object) -> None:
        began = time.perf_counter()
        real(store, *args)  # type: ignore[arg-type]
        inside.append(time.perf_counter() - began)

    for _ in range(repeat):
        for replaced in (False, True):
            stand_in = (lambda *_args: None) if replaced else timed
            with mock.patch.object(AuditStore, "append", stand_in):
                began = time.perf_counter()
                response = invoke(spec, event)  # type: ignore[arg-type]
                elapsed = time.perf_counter() - began
            if response["statusCode"] != 200:
                raise RuntimeError(f"export answered {response['statusCode']}: {response['body'][:300]}")
            (unaudited if replaced else audited).append(elapsed)
    return audited, unaudited, inside


def run_export_audit(
    endpoint: str, sizes: Sequence[int] = SIZES, repeat: int = 9, threads: int = 2, *, fresh: bool = True
) -> list[str]:
    """``fresh``: a DynamoDB Local of its own (tables created here); else the synchronous section's (configured)."""
    spec = configure_environment(endpoint, 2) if fresh else functions(local_refs())[FUNCTION]
    from export_service.observability import logger  # noqa: PLC0415

    logger.setLevel("WARNING")  # one "export served" line per run otherwise
    window = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=30))
    lines = ["export auditing (one audit record per export action, written before the answer):"]
    firsts, laters = write_alone()
    lines.append(f"  the write alone, first of a tenant and day in a container: {_ms(firsts)}")
    lines.append(f"  the write alone, every later export:                     {_ms(laters)}")
    for size in sizes:
        tenant = f"bench-audit-{size}"
        load_tenant(local_refs()["AuditTable"], tenant, size, window, threads)
        audited, unaudited, inside = export_ab(spec, tenant, window, repeat)
        median_with, median_without = statistics.median(audited), statistics.median(unaudited)
        write = statistics.median(inside)
        lines.append(
            f"  csv export of {size:,} records: the write inside it {write * 1000:.2f} ms median "
            f"= {write / median_without:.2%} of the export ({median_without:.3f} s median without it); "
            f"A/B medians {median_with:.3f} s audited vs {median_without:.3f} s not "
            f"(best {min(audited):.3f} vs {min(unaudited):.3f} s; the difference is this machine's noise)"
        )
    return lines


def main() -> int:
    dynamodb = DynamoDBLocal(free_port())
    log("starting DynamoDB Local (in memory) ...")
    dynamodb.start()
    try:
        for line in run_export_audit(dynamodb.endpoint):
            log(line)
    finally:
        dynamodb.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
