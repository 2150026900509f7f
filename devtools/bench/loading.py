"""Loading generated audit records into DynamoDB Local, a tenant of its own per size, from several threads."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from devtools import generate
from devtools.bench.common import dynamodb_clients, load_in_chunks, log
from export_service.dal.audit_store import AuditStore
from export_service.logic.audit_records import write_audit_records
from export_service.models.audit import NewAuditRecord

LOAD_CHUNK = 500  # records a loading thread takes from the shared generator at a time (20 batch writes)
LOAD_PROGRESS_SECONDS = 30.0


def load_tenant(table: str, tenant: str, count: int, window: tuple[datetime, datetime], threads: int) -> float:
    """Write ``count`` generated records for ``tenant``; threads take disjoint chunks of one generator.

    A progress line every LOAD_PROGRESS_SECONDS: a million records take minutes."""
    records = generate.audit_records(tenant, count, *window)
    lock = threading.Lock()
    began = reported = time.perf_counter()
    total_written = 0

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

    def writer(client: Any) -> Callable[[list[NewAuditRecord]], int]:
        store = AuditStore(client, table)
        return lambda chunk: write_audit_records(store, tenant, chunk)

    clients = dynamodb_clients(threads)
    began = reported = time.perf_counter()
    written = load_in_chunks(records, LOAD_CHUNK, clients, writer, done)
    elapsed = time.perf_counter() - began
    if written != count:
        raise RuntimeError(f"{tenant}: wrote {written:,} records, expected {count:,}")
    return elapsed


def ensure_loaded(
    loaded: dict[str, int], table: str, tenant: str, size: int, window: tuple[datetime, datetime], threads: int
) -> None:
    """Load ``tenant`` unless this run already did (``loaded``: tenant -> records loaded in this run)."""
    if loaded.get(tenant) == size:
        log(f"  {tenant}: {size:,} records, already loaded in this run")
        return
    if tenant in loaded:
        raise RuntimeError(f"{tenant} already holds {loaded[tenant]:,} records, not {size:,}")
    log(f"  loading {size:,} records for {tenant} ({threads} threads) ...")
    seconds = load_tenant(table, tenant, size, window, threads)
    loaded[tenant] = size
    log(f"  {tenant}: {size:,} records loaded in {seconds:.1f}s ({size / seconds:,.0f} rec/s)")
