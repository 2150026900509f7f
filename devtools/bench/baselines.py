"""What the exports are measured against: the bare read floor (a boto3 Query loop over the same partitions, only
counting items) and, below it, the same Queries over plain HTTP parsed by ``json.loads``."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from datetime import time as dt_time
from typing import Any

import boto3
import urllib3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

from export_service.dal.audit_store import AuditStore, QueryPartition
from export_service.models.audit import AUDIT_COLUMNS


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


def bare_read(client: Any, table: str, parts: Sequence[QueryPartition]) -> tuple[float, int]:
    """The audit floor: seconds and items of the export's Queries, paginated and counted."""
    began = time.perf_counter()
    items = 0
    for part in parts:
        items += count_query(client, bare_query_args(table, part))
    return time.perf_counter() - began, items


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
