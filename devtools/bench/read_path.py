"""CPU of reading audit records from DynamoDB Local, by read path: where botocore's response parsing goes.

    .venv/bin/python -m devtools.bench.read_path                         # 10,000 and 100,000 records, best of 3
    .venv/bin/python -m devtools.bench.read_path --sizes 10000 --repeat 5

For each size N, N generated audit records are loaded for a tenant of their own (``read-<N>``) into a fresh DynamoDB
Local; then the day partitions of the tenant's plan (``AuditStore.plan``, 30 days) are read, one Query after another
on one thread for every side (the same Queries: key condition and the export's projection, 1 MB pages):

- boto3: ``client.query`` in a loop, Items only counted (the bench's bare floor, devtools/bench/baselines.py);
- boto3 + item_to_record: the same loop converting every item, which is what the stores did before dal/fast_query.py;
- fast path: ``query_pages`` as the stores read now (botocore sends and retries, the items are decoded from the
  response's JSON), records produced;
- raw: the same Queries signed by botocore's SigV4 signer, sent with urllib3, parsed by ``json.loads`` (Items counted,
  not converted): what reading costs without botocore's client.

CPU is this process's (``time.process_time``: DynamoDB Local's JVM is another process), the best of ``--repeat`` runs
after a warm-up; wall time is of the same run. The load average (``os.getloadavg``) is printed before and after each
size: on a shared machine a busy neighbour shows there. Below the table, the raw bodies of one pass are decoded again
without any I/O: ``json.loads`` alone and the wire decoder (``record_from_wire``) alone, the two parts of the fast
path's own work.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import boto3

from devtools.bench.baselines import RawQuery, bare_partitions, bare_query_args, bare_read
from devtools.bench.common import local_aws_environment, log, render
from devtools.bench.loading import load_tenant
from devtools.dynamodb_local import DynamoDBLocal, free_port
from devtools.provision import create_tables, local_refs
from export_service.dal.audit_store import AuditStore, QueryPartition
from export_service.dal.fast_query import item_to_record, record_from_wire

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)


def _timed(read: Callable[[], int], repeat: int, expected: int) -> tuple[float, float]:
    """Best CPU seconds of ``repeat`` runs of ``read`` (after a warm-up) and the wall seconds of that run."""
    read()
    best: tuple[float, float] | None = None
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        items = read()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        if items != expected:
            raise RuntimeError(f"read {items:,} items, expected {expected:,}")
        if best is None or cpu < best[0]:
            best = (cpu, wall)
    assert best is not None
    return best


def _converted(client: Any, table: str, parts: Sequence[QueryPartition]) -> int:
    """boto3's Query loop converting every item with item_to_record: the stores' read before the fast path."""
    items = 0
    for part in parts:
        args = bare_query_args(table, part)
        while True:
            page = client.query(**args)
            items += len([item_to_record(item) for item in page["Items"]])
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            args["ExclusiveStartKey"] = last
    return items


def _fast(store: AuditStore, parts: Sequence[QueryPartition]) -> int:
    return sum(len(page) for part in parts for page in store.read_pages(part))


class _BodyRecorder(RawQuery):
    """RawQuery keeping every HTTP body it parsed, to time the decoding again without I/O."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self.bodies: list[bytes] = []
        send = self._http.request

        def request(*args: Any, **kwargs: Any) -> Any:
            response = send(*args, **kwargs)
            self.bodies.append(response.data)
            return response

        self._http = SimpleNamespace(request=request)  # type: ignore[assignment]


def _raw_bodies(endpoint: str, table: str, parts: Sequence[QueryPartition]) -> list[bytes]:
    """The HTTP bodies of one pass of raw Queries over ``parts``."""
    recorder = _BodyRecorder(endpoint)
    bare_read(recorder, table, parts)
    return recorder.bodies


def _decode_alone(bodies: Sequence[bytes], repeat: int) -> tuple[float, float, int]:
    """Best CPU seconds of json.loads over ``bodies``, and of record_from_wire over their items, and the items."""
    documents = [json.loads(body) for body in bodies]
    items = sum(len(document["Items"]) for document in documents)
    loads = decode = float("inf")
    for _ in range(repeat):
        began = time.process_time()
        for body in bodies:
            json.loads(body.decode("utf-8"))
        loads = min(loads, time.process_time() - began)
        began = time.process_time()
        for document in documents:
            for item in document["Items"]:
                record_from_wire(item)
        decode = min(decode, time.process_time() - began)
    return loads, decode, items


def measure(size: int, endpoint: str, table: str, repeat: int, days: int, threads: int) -> list[tuple[str, ...]]:
    tenant = f"read-{size}"
    window = (ANCHOR, ANCHOR + timedelta(days=days))
    log(f"  loading {size:,} records for {tenant} ...")
    seconds = load_tenant(table, tenant, size, window, threads)
    log(f"  loaded in {seconds:.1f}s; load average before reading: {_load()}")
    return measure_tenant(tenant, size, endpoint, table, window, repeat)


def measure_tenant(
    tenant: str, size: int, endpoint: str, table: str, window: tuple[datetime, datetime], repeat: int
) -> list[tuple[str, ...]]:
    """The read paths over ``tenant``'s ``size`` records (already loaded)."""
    client = boto3.client("dynamodb")
    store = AuditStore(client, table)
    parts = bare_partitions(store, tenant, window)
    raw = RawQuery(endpoint)
    sides: list[tuple[str, Callable[[], int]]] = [
        ("boto3 client.query (Items counted)", lambda: bare_read(client, table, parts)[1]),
        ("boto3 client.query + item_to_record", lambda: _converted(client, table, parts)),
        ("fast path: query_pages (records)", lambda: _fast(store, parts)),
        ("raw signed HTTP + json.loads (Items counted)", lambda: bare_read(raw, table, parts)[1]),
    ]
    same = [record for part in parts[:2] for page in store.read_pages(part) for record in page]
    if same != [item_to_record(item) for part in parts[:2] for item in _items(client, table, part)]:
        raise RuntimeError("the fast path's records differ from item_to_record's")
    rows: list[tuple[str, ...]] = []
    for name, read in sides:
        cpu, wall = _timed(read, repeat, size)
        rows.append((f"{size:,}", name, f"{cpu:.2f}", f"{cpu / size * 100_000:.2f}", f"{wall:.2f}", _load()))
    bodies = _raw_bodies(endpoint, table, parts)
    log(f"  {len(bodies)} Queries per pass over {len(parts)} partitions, {sum(map(len, bodies)) / 2**20:.1f} MiB")
    loads, decode, items = _decode_alone(bodies, repeat)
    if items != size:
        raise RuntimeError(f"raw bodies hold {items:,} items, expected {size:,}")
    for name, cpu in (("  of which json.loads alone (no I/O)", loads), ("  of which record_from_wire alone", decode)):
        rows.append((f"{size:,}", name, f"{cpu:.2f}", f"{cpu / size * 100_000:.2f}", "", _load()))
    log(f"  load average after reading: {_load()}")
    return rows


HEADER = ("records", "read path", "CPU s", "CPU s / 100k", "wall s", "load avg")


def report(rows: Sequence[tuple[str, ...]]) -> str:
    return (
        "CPU of reading N audit records (one thread, the same Queries for every side; best of --repeat):\n\n"
        + render(HEADER, rows)
    )


def run_read_path(
    sizes: Sequence[int], endpoint: str, table: str, window: tuple[datetime, datetime], repeat: int
) -> None:
    """The read-path section of ``make bench``: the sync part's tenants (``bench-<N>``), already loaded."""
    log(f"\nread paths (CPU of this process; load average {_load()}):")
    rows: list[tuple[str, ...]] = []
    for size in sizes:
        rows += measure_tenant(f"bench-{size}", size, endpoint, table, window, repeat)
    log("\n" + report(rows))


def _items(client: Any, table: str, part: QueryPartition) -> list[dict[str, Any]]:
    args, items = bare_query_args(table, part), []
    while True:
        page = client.query(**args)
        items.extend(page["Items"])
        if not page.get("LastEvaluatedKey"):
            return items
        args["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.bench.read_path", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,100000", help="records per measurement (10000,100000)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per side; the least CPU counts (3)")
    parser.add_argument("--days", type=int, default=30, help="day partitions the records spread over (30)")
    parser.add_argument("--load-threads", type=int, default=2, help="threads writing the records (2)")
    args = parser.parse_args(argv)
    sizes = [int(size) for size in args.sizes.split(",") if size.strip()]
    if not sizes or min(sizes) < 1 or args.repeat < 1 or args.days < 1 or args.load_threads < 1:
        parser.error("--sizes takes positive counts; --repeat, --days and --load-threads are at least 1")
    dynamodb = DynamoDBLocal(free_port())
    log(f"{os.cpu_count()} CPUs; load average at start: {_load()}")
    try:
        dynamodb.start()
        os.environ.update(local_aws_environment(dynamodb.endpoint))
        refs = local_refs()
        create_tables(boto3.client("dynamodb"), refs)
        rows: list[tuple[str, ...]] = []
        for size in sizes:
            rows += measure(size, dynamodb.endpoint, refs["AuditTable"], args.repeat, args.days, args.load_threads)
        log(report(rows))
    finally:
        dynamodb.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
