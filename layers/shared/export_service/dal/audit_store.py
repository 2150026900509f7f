"""DynamoDB access for audit records. See docs/data-model.md for the key design.

Base table: pk = ``T#<tenant>#D#<yyyy-mm-dd>`` (one partition per tenant and UTC day), sk = ``<timestamp>#<id>``.
GSIs ByUser, ByAction, ByNamespace: pk = ``T#<tenant>#<U|A|N>#<value>#M#<yyyy-mm>``, same sk.
A time-range export is a list of Queries, one per bucket, each sorted by sk; together they are in time order.
"""

from __future__ import annotations

import contextlib
import functools
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel

from export_service.dal.read_ahead import read_ahead
from export_service.logic.timefmt import format_instant
from export_service.models.audit import AUDIT_COLUMNS, AuditRecord

# Filter name -> (index, pk attribute, pk tag). The first filter present picks the index: most selective first.
_INDEXES: tuple[tuple[str, str, str, str], ...] = (
    ("user", "ByUser", "gsi_user_pk", "U"),
    ("action", "ByAction", "gsi_action_pk", "A"),
    ("namespace", "ByNamespace", "gsi_namespace_pk", "N"),
)
_META_SK = "META"
_SK_END = "$"  # sorts after '#', so "<ts>$" is above every "<ts>#<id>"
_deserializer = TypeDeserializer()


class QueryPartition(BaseModel):
    """One independent Query of an export plan; small and serialisable (a Step Functions payload later)."""

    index: str | None
    pk_attr: str
    pk: str
    sk_lo: str
    sk_hi: str
    filters: dict[str, str] = {}


def day_pk(tenant: str, day: date) -> str:
    return f"T#{tenant}#D#{day.isoformat()}"


def index_pk(tenant: str, tag: str, value: str, month: str) -> str:
    return f"T#{tenant}#{tag}#{value}#M#{month}"


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        if day == end:  # never step past date.max
            return
        day += timedelta(days=1)


def _months(start: date, end: date) -> Iterator[str]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def _item_to_record(item: Mapping[str, Any]) -> dict[str, str]:
    # Every exported attribute is a string: read the "S" directly, which is several times faster than
    # TypeDeserializer on the hot path, and fall back to it for anything else.
    return {key: (value["S"] if "S" in value else _deserializer.deserialize(value)) for key, value in item.items()}


class AuditStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ---- planning -------------------------------------------------------------------------------
    def plan(self, tenant: str, start: datetime, end: datetime, filters: Mapping[str, str]) -> list[QueryPartition]:
        """Queries that together return exactly the tenant's records in [start, end] matching ``filters``."""
        sk_lo = format_instant(start)
        sk_hi = format_instant(end) + _SK_END
        for name, index, pk_attr, tag in _INDEXES:
            if filters.get(name):
                rest = {key: value for key, value in filters.items() if key != name and value}
                return [
                    QueryPartition(
                        index=index,
                        pk_attr=pk_attr,
                        pk=index_pk(tenant, tag, filters[name], month),
                        sk_lo=sk_lo,
                        sk_hi=sk_hi,
                        filters=rest,
                    )
                    for month in _months(start.astimezone(UTC).date(), end.astimezone(UTC).date())
                ]
        rest = {key: value for key, value in filters.items() if value}
        return [
            QueryPartition(index=None, pk_attr="pk", pk=day_pk(tenant, day), sk_lo=sk_lo, sk_hi=sk_hi, filters=rest)
            for day in _days(start.astimezone(UTC).date(), end.astimezone(UTC).date())
        ]

    # ---- reading --------------------------------------------------------------------------------
    def _query_args(self, part: QueryPartition) -> dict[str, Any]:
        names = {"#pk": part.pk_attr, "#sk": "sk"}
        values: dict[str, Any] = {":pk": {"S": part.pk}, ":lo": {"S": part.sk_lo}, ":hi": {"S": part.sk_hi}}
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
        }
        if part.index:
            args["IndexName"] = part.index
        conditions = []
        for position, (field, value) in enumerate(sorted(part.filters.items())):
            names[f"#f{position}"] = field
            values[f":f{position}"] = {"S": value}
            conditions.append(f"#f{position} = :f{position}")
        if conditions:
            args["FilterExpression"] = " AND ".join(conditions)
        args["ExpressionAttributeNames"] = names
        args["ExpressionAttributeValues"] = values
        return args

    def read(self, part: QueryPartition, page_size: int | None = None) -> Iterator[dict[str, str]]:
        """The partition's records in sk order, one page in memory at a time."""
        for page in self.read_pages(part, page_size):
            yield from page

    def read_pages(self, part: QueryPartition, page_size: int | None = None) -> Iterator[list[dict[str, str]]]:
        """The partition's records in sk order, a Query page (up to 1 MB) at a time."""
        args = self._query_args(part)
        projection = []
        for position, column in enumerate(AUDIT_COLUMNS):
            args["ExpressionAttributeNames"][f"#c{position}"] = column
            projection.append(f"#c{position}")
        args["ProjectionExpression"] = ", ".join(projection)
        if page_size:
            args["Limit"] = page_size
        while True:
            page = self._client.query(**args)
            yield [_item_to_record(item) for item in page.get("Items", ())]
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            args["ExclusiveStartKey"] = last

    def read_plan(self, parts: Sequence[QueryPartition], prefetch: int = 2) -> Iterator[list[dict[str, str]]]:
        """Pages of every partition, in plan order, reading up to ``prefetch`` partitions ahead on threads.

        The caller formats one page while the next ones are fetched; memory stays bounded by the prefetch depth
        times two queued pages per partition."""
        return read_ahead([functools.partial(self.read_pages, part) for part in parts], prefetch)

    def count(self, part: QueryPartition, cap: int) -> int:
        """Matching records, counted server-side (Select=COUNT), stopping once ``cap`` is reached."""
        args = self._query_args(part)
        args["Select"] = "COUNT"
        total = 0
        while total < cap:
            page = self._client.query(**args)
            total += page["Count"]
            last = page.get("LastEvaluatedKey")
            if not last:
                break
            args["ExclusiveStartKey"] = last
        return total

    def bounds(self, tenant: str) -> tuple[date, date] | None:
        """UTC days of the tenant's earliest and latest records (kept on write), or None when it has none.

        Plans are clamped to these days, so an unbounded or very wide request never walks empty days."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": _META_SK}},
            ConsistentRead=True,
        ).get("Item")
        if not item or "first_day" not in item or "last_day" not in item:
            return None
        return date.fromisoformat(item["first_day"]["S"]), date.fromisoformat(item["last_day"]["S"])

    # ---- writing --------------------------------------------------------------------------------
    def put(self, tenant: str, records: Iterable[AuditRecord]) -> int:
        """Write sealed records; idempotent: a record written twice (even in one call) is one item.

        The tenant's day bounds are widened before the items of a batch are written, so a concurrent export that
        clamps to them can never miss a written record. Returns how many distinct items were sent."""
        written = 0
        known: tuple[str, str] | None = None
        batch: dict[tuple[str, str], dict[str, Any]] = {}

        def flush() -> None:
            nonlocal written, known
            days = [key[0][-10:] for key in batch]
            lo, hi = min(days), max(days)
            if known is None or lo < known[0] or hi > known[1]:
                known = (lo, hi) if known is None else (min(lo, known[0]), max(hi, known[1]))
                self._widen_bounds(tenant, *known)
            self._write_batch(list(batch.values()))
            written += len(batch)
            batch.clear()

        for record in records:
            item = self._to_item(tenant, record)
            # BatchWriteItem rejects two puts of one key in a request: the later copy wins, as a second put would.
            batch[(item["pk"]["S"], item["sk"]["S"])] = {"PutRequest": {"Item": item}}
            if len(batch) == 25:
                flush()
        if batch:
            flush()
        return written

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self._table: batch}
        attempt = 0
        while request:
            if attempt:
                time.sleep(min(2.0, 0.05 * 2**attempt))  # unprocessed items: back off before retrying them
            response = self._client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}
            attempt += 1

    def _widen_bounds(self, tenant: str, earliest: str, latest: str) -> None:
        key = {"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": _META_SK}}
        for attribute, value, comparison in (("first_day", earliest, ">"), ("last_day", latest, "<")):
            # ConditionalCheckFailed means a wider bound is already recorded.
            with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
                self._client.update_item(
                    TableName=self._table,
                    Key=key,
                    UpdateExpression=f"SET {attribute} = :d",
                    ConditionExpression=f"attribute_not_exists({attribute}) OR {attribute} {comparison} :d",
                    ExpressionAttributeValues={":d": {"S": value}},
                )

    @staticmethod
    def _to_item(tenant: str, record: AuditRecord) -> dict[str, Any]:
        data = record.model_dump()
        sk = f"{record.timestamp}#{record.id}"
        month = record.timestamp[:7]
        item: dict[str, Any] = {
            "pk": {"S": day_pk(tenant, date.fromisoformat(record.timestamp[:10]))},
            "sk": {"S": sk},
            "tenant": {"S": tenant},
        }
        for name, _index, pk_attr, tag in _INDEXES:
            item[pk_attr] = {"S": index_pk(tenant, tag, data[name], month)} if data[name] else None
        item = {key: value for key, value in item.items() if value is not None}
        for column in AUDIT_COLUMNS:
            item[column] = {"S": data[column]}
        return item
