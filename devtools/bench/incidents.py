"""The incident summary and distribution against DynamoDB Local; a section of devtools.bench.

For each size N (``--incident-sizes``, default 100,000) N incidents are written for a tenant of its own
(``stats-<N>``), spread over 90 days, and in this one process:

- GET /v1/incidents/summary through its real handler (REST proxy event, authorizer context), for the last 45 days:
  the period and the previous one together read all N incidents; best of ``--repeat``;
- GET /v1/incidents/distribution through its handler, over the 90 days in Europe/Berlin;
- the floor: a bare boto3 Query loop over the same day partitions with the same projection, only counting Items;
- the summary's memory: the tracemalloc peak of one call (a separate pass; tracing slows it down).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import boto3

from devtools.bench.baselines import count_query
from devtools.bench.common import (
    MIB,
    dynamodb_clients,
    handler_event,
    load_in_chunks,
    local_aws_environment,
    log,
    timed_invoke,
    traced_peak,
)
from devtools.dynamodb_local import DynamoDBLocal
from devtools.provision import local_refs
from devtools.template import FunctionSpec, functions, table_create_args
from export_service.api.deps import reset_dependencies
from export_service.dal.incident_store import IncidentQuery, IncidentStore
from export_service.logic.incident_records import export_row, incident_extras
from export_service.models.incidents import Dataset, Incident
from export_service.timefmt import format_instant

ANCHOR = datetime(2026, 1, 1, tzinfo=UTC)
DAYS = 90
_TAGS = ("T1", "T2", "PROD", "staging", "pii", "billing", "customer-facing")


def _environment(endpoint: str) -> dict[str, FunctionSpec]:
    refs = local_refs()
    specs = functions(refs)
    os.environ.update(specs["IncidentSummaryFunction"].environment)
    os.environ.update(local_aws_environment(endpoint))
    client = boto3.client("dynamodb")
    name = refs["IncidentsTable"]
    if name not in client.list_tables()["TableNames"]:
        client.create_table(**table_create_args("IncidentsTable", name))
    reset_dependencies()
    return specs


def _incidents(tenant: str, count: int, seed: int) -> Iterator[Incident]:
    """Incidents with the incident API's fields; times in ms over the window, 70% resolved within 0-72 hours."""
    rng = random.Random(f"{seed}:{tenant}")
    span = DAYS * 86_400_000
    for index in range(count):
        created = ANCHOR + timedelta(milliseconds=int((index + rng.random()) * span / count))
        resolved = created + timedelta(milliseconds=rng.randint(60_000, 72 * 3_600_000)) if rng.random() < 0.7 else None
        yield Incident(
            id=f"{tenant}-{index:07d}",
            account_id="bench",
            organization_id="bench",
            created_at=created,
            updated_at=resolved or created,
            number=f"INC-{index}",
            name=f"bench incident {index}",
            severity=rng.choice(("LOW", "MEDIUM", "HIGH", "")),
            resolved_at=resolved,
            status="CLOSED" if resolved else "OPEN",
            impact=rng.choice(("LOW", "MEDIUM", "HIGH")),
            project_id=rng.choice((0, 7, 24)),
            tags=rng.sample(_TAGS, rng.randint(0, 3)),
            asset_id=f"asset{rng.randrange(50)}",
            alert_policy_name="Orders freshness",
            source_name="SNOWFLAKE.SALES_DB.PUBLIC.ORDERS",
            history=[{"timestamp": format_instant(created), "state": "NEW", "alert_refs": []}],
        )


def _load(table: str, tenant: str, count: int, threads: int) -> float:
    began = time.perf_counter()

    def writer(client: Any) -> Callable[[list[Incident]], int]:
        store = IncidentStore(client, table)

        def write(batch: list[Incident]) -> int:
            rows = [(export_row(Dataset.INCIDENTS, i), incident_extras(i)) for i in batch]
            store.put_rows(tenant, Dataset.INCIDENTS, rows)
            return len(batch)

        return write

    load_in_chunks(_incidents(tenant, count, 7), 1000, dynamodb_clients(threads), writer)
    return time.perf_counter() - began


def _event(resource: str, tenant: str, query: dict[str, str]) -> dict[str, Any]:
    return handler_event("GET", resource, tenant, "INCIDENTS_READ", query={n: [v] for n, v in query.items()})


def _call(spec: FunctionSpec, event: dict[str, Any]) -> tuple[float, dict[str, Any]]:
    elapsed, response = timed_invoke(spec, event)
    return elapsed, json.loads(response["body"])


def _bare_read(table: str, tenant: str) -> tuple[float, int]:
    """The same day partitions and projection as the summary's reads, counted only."""
    store = IncidentStore(boto3.client("dynamodb"), table)
    parts = store.plan(tenant, Dataset.INCIDENTS, ANCHOR, ANCHOR + timedelta(days=DAYS), IncidentQuery())
    client = boto3.client("dynamodb")
    began = time.perf_counter()
    items = 0
    for part in parts:
        args: dict[str, Any] = {
            "TableName": table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": part.pk}},
            "ProjectionExpression": "created_at, #s, tags, resolved_at",
            "ExpressionAttributeNames": {"#s": "status"},
        }
        items += count_query(client, args)
    return time.perf_counter() - began, items


def run_incident_stats(sizes: Sequence[int], dynamodb: DynamoDBLocal, repeat: int, threads: int) -> list[str]:
    """Load, measure, and return the report's lines."""
    specs = _environment(dynamodb.endpoint)
    table = specs["IncidentSummaryFunction"].environment["INCIDENTS_TABLE_NAME"]
    end = ANCHOR + timedelta(days=DAYS) - timedelta(milliseconds=1)
    summary_query = {"from_time": format_instant(end - timedelta(days=45)), "to_time": format_instant(end)}
    lines = [
        "| incidents | summary (2 periods) | incidents/s | distribution (Europe/Berlin) | bare read | summary / bare "
        "| summary tracemalloc peak |",
        "|---|---|---|---|---|---|---|",
    ]
    for size in sizes:
        tenant = f"stats-{size}"
        log(f"\nincident statistics: loading {size:,} incidents ...")
        log(f"  loaded in {_load(table, tenant, size, threads):.1f}s")
        summary_event = _event("/v1/incidents/summary", tenant, summary_query)
        distribution_event = _event("/v1/incidents/distribution", tenant, {"timezone": "Europe/Berlin"})
        _call(specs["IncidentSummaryFunction"], summary_event)  # warm-up
        summary_s, body = min(
            (_call(specs["IncidentSummaryFunction"], summary_event) for _ in range(repeat)), key=lambda r: r[0]
        )
        distribution_s, days = min(
            (_call(specs["IncidentDistributionFunction"], distribution_event) for _ in range(repeat)),
            key=lambda r: r[0],
        )
        bare_s, items = min((_bare_read(table, tenant) for _ in range(repeat)), key=lambda r: r[0])
        counted = (
            body["total"]
            + _call(
                specs["IncidentSummaryFunction"],
                _event(
                    "/v1/incidents/summary",
                    tenant,
                    {"from_time": body["previous_from_time"], "to_time": body["previous_to_time"]},
                ),
            )[1]["total"]
        )
        distributed = sum(sum(day["counts"].values()) for day in days["incidents"])
        if not counted == distributed == items == size:
            raise RuntimeError(f"counted {counted:,} / {distributed:,} / {items:,} incidents, loaded {size:,}")
        peak = traced_peak(partial(_call, specs["IncidentSummaryFunction"], summary_event), collect=False)
        log(f"  summary: {json.dumps({k: body[k] for k in list(body)[:5]})}")
        lines.append(
            f"| {size:,} | {summary_s:.2f} s | {size / summary_s:,.0f} | {distribution_s:.2f} s | {bare_s:.2f} s "
            f"| {summary_s / bare_s:.2f} | {peak / MIB:.1f} MiB |"
        )
    return lines
