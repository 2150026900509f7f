"""DynamoDB access for audit records. See docs/data-model.md for the key design.

Base table: pk = ``T#<tenant>#D#<yyyy-mm-dd>`` (one partition per tenant and UTC day), sk = ``<timestamp>#<id>``.
GSIs ByUser, ByAction, ByNamespace: pk = ``T#<tenant>#<U|A|N>#<value>#M#<yyyy-mm>``, same sk.
A time-range export is a list of Queries, one per bucket, each sorted by sk; together they are in time order.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

from boto3.dynamodb.types import TypeDeserializer
from pydantic import BaseModel

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
            for item in page.get("Items", ()):
                yield _item_to_record(item)
            last = page.get("LastEvaluatedKey")
            if not last:
                return
            args["ExclusiveStartKey"] = last

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

    def first_day(self, tenant: str) -> date | None:
        """The UTC day of the tenant's earliest record, kept on write so unbounded exports skip empty history."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": _META_SK}},
            ConsistentRead=True,
        ).get("Item")
        return date.fromisoformat(item["first_day"]["S"]) if item and "first_day" in item else None

    # ---- writing --------------------------------------------------------------------------------
    def put(self, tenant: str, records: Iterable[AuditRecord]) -> int:
        """Write sealed records (idempotent: the same record twice is one item). Returns how many were written."""
        written = 0
        earliest: str | None = None
        batch: list[dict[str, Any]] = []
        for record in records:
            batch.append({"PutRequest": {"Item": self._to_item(tenant, record)}})
            day = record.timestamp[:10]
            earliest = day if earliest is None or day < earliest else earliest
            if len(batch) == 25:
                self._write_batch(batch)
                written += len(batch)
                batch = []
        if batch:
            self._write_batch(batch)
            written += len(batch)
        if earliest is not None:
            self._lower_first_day(tenant, earliest)
        return written

    def _write_batch(self, batch: list[dict[str, Any]]) -> None:
        request: dict[str, Any] = {self._table: batch}
        while request:
            response = self._client.batch_write_item(RequestItems=request)
            request = response.get("UnprocessedItems") or {}

    def _lower_first_day(self, tenant: str, day: str) -> None:
        # ConditionalCheckFailed means an earlier day is already recorded.
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": _META_SK}},
                UpdateExpression="SET first_day = :d",
                ConditionExpression="attribute_not_exists(first_day) OR first_day > :d",
                ExpressionAttributeValues={":d": {"S": day}},
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
