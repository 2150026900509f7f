"""DynamoDB access for audit records. See docs/data-model.md for the key design.

Base table: pk = ``T#<tenant>#D#<yyyy-mm-dd>`` (one partition per tenant and UTC day), sk = ``<timestamp>#<id>``.
GSIs ByUser, ByAction, ByNamespace: pk = ``T#<tenant>#<U|A|N>#<value>#M#<yyyy-mm>``, same sk.
The audit-event filters (event type, sub type, system source, auditee, metadata keys) are FilterExpressions on them:
each metadata key is also stored as its own attribute ``md_<key>`` so it can be compared.
A time-range export is a list of Queries, one per bucket, each sorted by sk; together they are in time order.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from export_service.dal.query import (
    SK_END,
    QueryPartition,
    days_between,
    months_between,
    put_items_with_bounds,
    query_args,
    query_count,
    query_pages,
    widen_day_bounds,
)
from export_service.dal.read_ahead import read_ahead
from export_service.dal.split import PartitionProber
from export_service.models.audit import AUDIT_COLUMNS, AuditRecord
from export_service.timefmt import format_instant

# Filter name -> (index, pk attribute, pk tag). The first filter present picks the index: most selective first.
_INDEXES: tuple[tuple[str, str, str, str], ...] = (
    ("user", "ByUser", "gsi_user_pk", "U"),
    ("action", "ByAction", "gsi_action_pk", "A"),
    ("namespace", "ByNamespace", "gsi_namespace_pk", "N"),
)
_META_SK = "META"
METADATA_PREFIX = "md_"  # md_<key>: one attribute per metadata key, for FilterExpressions


def day_pk(tenant: str, day: date) -> str:
    return f"T#{tenant}#D#{day.isoformat()}"


def index_pk(tenant: str, tag: str, value: str, month: str) -> str:
    return f"T#{tenant}#{tag}#{value}#M#{month}"


class AuditStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name
        self._widened: dict[str, str] = {}  # tenant -> the day append() last widened the bounds to

    # ---- planning -------------------------------------------------------------------------------
    def plan(
        self,
        tenant: str,
        start: datetime,
        end: datetime,
        filters: Mapping[str, str],
        any_of: Mapping[str, Sequence[str]] | None = None,
        metadata: Mapping[str, str] | None = None,
    ) -> list[QueryPartition]:
        """Queries that together return exactly the tenant's records in [start, end] matching ``filters`` (field =
        value), ``any_of`` (field IN values) and ``metadata`` (metadata key = value)."""
        sk_lo = format_instant(start)
        sk_hi = format_instant(end) + SK_END
        one_of: dict[str, list[str | int]] = {field: list(values) for field, values in (any_of or {}).items() if values}
        meta = {METADATA_PREFIX + key: value for key, value in (metadata or {}).items()}
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
                        equals=rest | meta,
                        one_of=one_of,
                    )
                    for month in months_between(start.astimezone(UTC).date(), end.astimezone(UTC).date())
                ]
        rest = {key: value for key, value in filters.items() if value}
        return [
            QueryPartition(
                index=None,
                pk_attr="pk",
                pk=day_pk(tenant, day),
                sk_lo=sk_lo,
                sk_hi=sk_hi,
                equals=rest | meta,
                one_of=one_of,
            )
            for day in days_between(start.astimezone(UTC).date(), end.astimezone(UTC).date())
        ]

    # ---- reading --------------------------------------------------------------------------------
    def read(self, part: QueryPartition, page_size: int | None = None) -> Iterator[dict[str, str]]:
        """The partition's records in sk order, one page in memory at a time."""
        for page in self.read_pages(part, page_size):
            yield from page

    def read_pages(self, part: QueryPartition, page_size: int | None = None) -> Iterator[list[dict[str, str]]]:
        """The partition's records in sk order, a Query page (up to 1 MB) at a time."""
        args = query_args(self._table, part, AUDIT_COLUMNS)
        if page_size:
            args["Limit"] = page_size
        return query_pages(self._client, args)

    def read_plan(self, parts: Sequence[QueryPartition], prefetch: int = 2) -> Iterator[list[dict[str, str]]]:
        """Pages of every partition, in plan order, reading up to ``prefetch`` partitions ahead on threads.

        The caller formats one page while the next ones are fetched; memory stays bounded: at most three pages per
        read-ahead thread (dal/read_ahead.py)."""
        return read_ahead([functools.partial(self.read_pages, part) for part in parts], prefetch)

    def count(self, part: QueryPartition, cap: int) -> int:
        """Matching records, counted server-side, stopping once ``cap`` is reached."""
        return query_count(self._client, query_args(self._table, part), cap)

    def prober(self) -> PartitionProber:
        """Sizes the partitions of a plan (a job's parts balanced by items; busy days cut by time ranges)."""
        return PartitionProber(self._client, self._table)

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
        """Write sealed records; idempotent: a record written twice (even in one call) is one item. The tenant's
        day bounds are widened first, so a concurrent export that clamps to them never misses a written record."""
        bounds_key = {"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": _META_SK}}
        items = (self._to_item(tenant, record) for record in records)
        return put_items_with_bounds(self._client, self._table, items, bounds_key)

    def append(self, tenant: str, record: AuditRecord) -> None:
        """Write one sealed record with a single PutItem (the service's own export actions, on the request path).
        The day bounds are widened first, once per tenant and day for this store (they only ever widen)."""
        day = record.timestamp[:10]
        if self._widened.get(tenant) != day:
            bounds_key = {"pk": {"S": f"T#{tenant}#META"}, "sk": {"S": _META_SK}}
            widen_day_bounds(self._client, self._table, bounds_key, day, day)
            self._widened[tenant] = day
        self._client.put_item(TableName=self._table, Item=self._to_item(tenant, record))

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
        for key, value in (json.loads(record.metadata) if record.metadata else {}).items():
            item[METADATA_PREFIX + key] = {"S": str(value)}
        return item
