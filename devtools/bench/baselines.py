"""What the exports are measured against: the bare read floor (a boto3 Query loop over the same partitions, only
counting items), the same Queries over plain HTTP parsed by ``json.loads`` (the raw read limit), and the naive
exporter (boto3's ``Table.query`` + ``csv.DictWriter``). Each reads ``threads`` partitions at once, so that a side
is compared with one that reads with the same concurrency."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from datetime import time as dt_time
from typing import Any, TypeVar

import boto3
import urllib3
from boto3.dynamodb.conditions import Key
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from export_service.dal.audit_store import AuditStore, QueryPartition
from export_service.models.audit import AUDIT_COLUMNS

T = TypeVar("T")


def count_query(client: Any, args: dict[str, Any]) -> int:
    """Page through one Query (``client``: boto3's or a RawQuery); the number of items, not deserialised."""
    items = 0
    while True:
        page = client.query(**args)
        items += len(page["Items"])
        last = page.get("LastEvaluatedKey")
        if not last:
            return items
        args["ExclusiveStartKey"] = last


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
        self._http = urllib3.PoolManager(maxsize=16)  # a connection per reading thread

    def query(self, **args: Any) -> dict[str, Any]:
        body = json.dumps(args)
        headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.Query"}
        request = AWSRequest(method="POST", url=self._url, data=body, headers=headers)
        self._signer.add_auth(request)
        response = self._http.request("POST", self._url, body=body, headers=dict(request.headers.items()))
        if response.status != 200:
            raise RuntimeError(f"raw Query answered {response.status}: {response.data[:300]!r}")
        return json.loads(response.data)


def read_concurrently(
    read_one: Callable[[QueryPartition], T], parts: Sequence[QueryPartition], threads: int
) -> list[T]:
    """``read_one`` of every partition, in plan order, ``threads`` partitions at once (1: one after the other)."""
    if threads <= 1:
        return [read_one(part) for part in parts]
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(read_one, parts))


def bare_read(client: Any, table: str, parts: Sequence[QueryPartition], threads: int = 1) -> tuple[float, int]:
    """The audit floor: seconds and items of the export's Queries, paginated and counted, ``threads`` partitions
    at once (``client``: boto3's, thread-safe, or a RawQuery)."""
    began = time.perf_counter()
    items = sum(read_concurrently(lambda part: count_query(client, bare_query_args(table, part)), parts, threads))
    return time.perf_counter() - began, items


_tables = threading.local()  # a boto3 resource per thread (resources are not thread-safe), made once


def _table(name: str) -> Any:
    tables: dict[str, Any] = _tables.__dict__.setdefault("by_name", {})
    if name not in tables:
        tables[name] = boto3.resource("dynamodb").Table(name)
    return tables[name]


def naive_export(table_name: str, parts: Sequence[QueryPartition], fmt: str, threads: int = 1) -> tuple[float, str]:
    """The naive exporter: boto3's ``Table.query`` paging (the resource's deserialiser) and ``csv.DictWriter`` (csv)
    or ``json.dumps`` of the records (json/jsonl), the Queries of ``threads`` partitions at once. Seconds and body."""
    began = time.perf_counter()

    def read_one(part: QueryPartition) -> list[dict[str, Any]]:
        table = _table(table_name)
        args: dict[str, Any] = {
            "KeyConditionExpression": Key(part.pk_attr).eq(part.pk) & Key("sk").between(part.sk_lo, part.sk_hi),
            "ProjectionExpression": ", ".join(f"#c{i}" for i in range(len(AUDIT_COLUMNS))),
            "ExpressionAttributeNames": {f"#c{i}": column for i, column in enumerate(AUDIT_COLUMNS)},
        }
        items: list[dict[str, Any]] = []
        while True:
            page = table.query(**args)
            items.extend(page["Items"])
            if "LastEvaluatedKey" not in page:
                return items
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    out = io.StringIO()
    records = [item for items in read_concurrently(read_one, parts, threads) for item in items]
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=AUDIT_COLUMNS, lineterminator="\r\n")
        writer.writeheader()
        writer.writerows(records)
    elif fmt == "json":
        json.dump({"apiVersion": "v1", "kind": "AuditExport", "records": records}, out, default=str)
    else:
        out.writelines(json.dumps(record, default=str) + "\n" for record in records)
    return time.perf_counter() - began, out.getvalue()
