"""DynamoDB access for the data-observability catalog (``CatalogTable``). See docs/data-model.md.

| items | pk | sk |
|---|---|---|
| sources | ``T#<tenant>#SRC`` | ``<source id>`` |
| validators | ``T#<tenant>#VAL`` | ``<validator id>`` |
| catalog assets | ``T#<tenant>#ASSET`` | ``<asset id>`` |
| incident groups | ``T#<tenant>#IG`` | ``G#<group id>`` |
| their incidents | ``T#<tenant>#IG`` | ``G#<group id>#I#<start_time>#<incident id>`` |
| activities | ``T#<tenant>#ACT#D#<day>`` | ``<timestamp>#<activity id>`` |
| activity day bounds | ``T#<tenant>#META`` | ``ACT`` |

Incidents are also found by id through the index ByEntity (``entity_pk = T#<tenant>#INC#<incident id>``).

A group's item is followed by its incidents in key order, so one Query of ``T#<tenant>#IG`` streams every group with
its incidents and the counts are folded from them as the pages arrive (never stored).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

from export_service.dal.fast_query import item_to_record
from export_service.dal.query import (
    SK_END,
    QueryPartition,
    days_between,
    put_items_with_bounds,
    query_args,
    query_count,
    query_pages,
    write_batch,
)
from export_service.dal.read_ahead import read_ahead
from export_service.models.catalog import (
    Activity,
    CatalogAsset,
    CatalogIncident,
    IncidentGroup,
    Source,
    Validator,
)
from export_service.timefmt import format_instant

SOURCES, VALIDATORS, ASSETS, GROUPS = "SRC", "VAL", "ASSET", "IG"
ENTITY_INDEX = "ByEntity"
ACTIVITY_FIELDS = (
    "id",
    "timestamp",
    "activity_type",
    "action",
    "resource_type",
    "entity_name",
    "entity_id",
    "actor_type",
    "actor",
    "namespace",
    "description",
)


def partition(tenant: str, kind: str) -> str:
    return f"T#{tenant}#{kind}"


def _text(value: Any) -> dict[str, Any]:
    if isinstance(value, datetime):
        return {"S": format_instant(value)}
    return {"S": str(value)}


def _item(pk: str, sk: str, fields: dict[str, Any]) -> dict[str, Any]:
    """A typed item: strings (date-times as ISO 8601 UTC), tag lists as lists of strings; None and "" left out."""
    item: dict[str, Any] = {"pk": {"S": pk}, "sk": {"S": sk}}
    for name, value in fields.items():
        if value is None or value == "":
            continue
        if isinstance(value, tuple | list):
            item[name] = {"L": [{"S": str(entry)} for entry in value]}
        elif isinstance(value, int) and not isinstance(value, bool):
            item[name] = {"N": str(value)}
        else:
            item[name] = _text(value)
    return item


def _model_fields(model: Any) -> dict[str, Any]:
    return {name: getattr(model, name) for name in type(model).model_fields}


def _strings(values: Iterable[str]) -> dict[str, Any] | None:
    distinct = sorted({value for value in values if value})
    return {"SS": distinct} if distinct else None


def activity_item(tenant: str, activity: Activity) -> dict[str, Any]:
    stamp = format_instant(activity.timestamp)
    fields = _model_fields(activity)
    fields["resource_type"] = activity.resource_type.value
    fields["action"] = activity.action
    item = _item(f"T#{tenant}#ACT#D#{stamp[:10]}", f"{stamp}#{activity.id}", fields)
    # the filters `source` and `validator` match an id or the name the resource had at the event
    for attribute, values in (
        ("source_keys", (activity.source_id, activity.source_name)),
        ("validator_keys", (activity.validator_id, activity.validator_name)),
    ):
        keys = _strings(values)
        if keys:
            item[attribute] = keys
    return item


class CatalogStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ---- the small lists: one partition each --------------------------------------------------------
    def list_partition(self, tenant: str, kind: str) -> QueryPartition:
        return QueryPartition(index=None, pk_attr="pk", pk=partition(tenant, kind), sk_lo=" ", sk_hi="~")

    def read_items(self, tenant: str, kind: str) -> Iterator[list[dict[str, Any]]]:
        """Every item of a tenant's partition of ``kind`` in key order, a page at a time."""
        return query_pages(self._client, query_args(self._table, self.list_partition(tenant, kind)))

    def read_all(self, tenant: str, kind: str) -> list[dict[str, Any]]:
        return [item for page in self.read_items(tenant, kind) for item in page]

    def get(self, tenant: str, kind: str, item_id: str) -> dict[str, Any] | None:
        response = self._client.get_item(
            TableName=self._table, Key={"pk": {"S": partition(tenant, kind)}, "sk": {"S": item_id}}
        )
        item = response.get("Item")
        return item_to_record(item) if item else None

    def get_incident(self, tenant: str, incident_id: str) -> dict[str, Any] | None:
        """An incident by id (index ByEntity), or None."""
        response = self._client.query(
            TableName=self._table,
            IndexName=ENTITY_INDEX,
            KeyConditionExpression="entity_pk = :pk",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#INC#{incident_id}"}},
        )
        items = response.get("Items", [])
        return item_to_record(items[0]) if items else None

    # ---- activities: day partitions ------------------------------------------------------------------
    def plan_activities(
        self,
        tenant: str,
        start: datetime,
        end: datetime,
        *,
        one_of: dict[str, list[str | int]],
        contains_any: dict[str, list[str]],
        descending: bool,
    ) -> list[QueryPartition]:
        """One Query per UTC day of [start, end], filtered server-side (``resource_type IN (...)`` scopes the rows
        to the key's permissions), in time order (newest first when ``descending``)."""
        lo, hi = format_instant(start), format_instant(end) + SK_END
        days = list(days_between(start.astimezone(UTC).date(), end.astimezone(UTC).date()))
        if descending:
            days.reverse()
        return [
            QueryPartition(
                index=None,
                pk_attr="pk",
                pk=f"T#{tenant}#ACT#D#{day.isoformat()}",
                sk_lo=lo,
                sk_hi=hi,
                forward=not descending,
                one_of=one_of,
                contains_any=contains_any,
            )
            for day in days
        ]

    def read_activities(self, parts: Sequence[QueryPartition], prefetch: int = 2) -> Iterator[list[dict[str, Any]]]:
        def pages(part: QueryPartition) -> Iterator[list[dict[str, Any]]]:
            return query_pages(self._client, query_args(self._table, part, ACTIVITY_FIELDS))

        return read_ahead([functools.partial(pages, part) for part in parts], prefetch)

    def count(self, part: QueryPartition, cap: int) -> int:
        return query_count(self._client, query_args(self._table, part), cap)

    def activity_bounds(self, tenant: str) -> tuple[date, date] | None:
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": partition(tenant, "META")}, "sk": {"S": "ACT"}},
            ConsistentRead=True,
        ).get("Item")
        if not item or "first_day" not in item or "last_day" not in item:
            return None
        return date.fromisoformat(item["first_day"]["S"]), date.fromisoformat(item["last_day"]["S"])

    # ---- writing (the generator and importers) -------------------------------------------------------
    def _put(self, items: Iterable[dict[str, Any]]) -> int:
        batch: list[dict[str, Any]] = []
        written = 0
        for item in items:
            batch.append({"PutRequest": {"Item": item}})
            if len(batch) == 25:
                write_batch(self._client, self._table, batch)
                written, batch = written + len(batch), []
        if batch:
            write_batch(self._client, self._table, batch)
            written += len(batch)
        return written

    def put_sources(self, tenant: str, sources: Iterable[Source]) -> int:
        return self._put(_item(partition(tenant, SOURCES), s.id, _model_fields(s)) for s in sources)

    def put_validators(self, tenant: str, validators: Iterable[Validator]) -> int:
        return self._put(_item(partition(tenant, VALIDATORS), v.id, _model_fields(v)) for v in validators)

    def put_assets(self, tenant: str, assets: Iterable[tuple[CatalogAsset, str]]) -> int:
        """Assets with the S3 key of their Parquet file."""

        def item(asset: CatalogAsset, key: str) -> dict[str, Any]:
            fields = _model_fields(asset)
            fields["columns"] = json.dumps([column.model_dump() for column in asset.columns])
            fields["key"] = key
            return _item(partition(tenant, ASSETS), asset.id, fields)

        return self._put(item(asset, key) for asset, key in assets)

    def put_groups(self, tenant: str, groups: Iterable[tuple[IncidentGroup, Sequence[CatalogIncident]]]) -> int:
        def items() -> Iterator[dict[str, Any]]:
            pk = partition(tenant, GROUPS)
            for group, incidents in groups:
                yield _item(pk, f"G#{group.id}", _model_fields(group))
                for incident in incidents:
                    sk = f"G#{group.id}#I#{format_instant(incident.start_time)}#{incident.id}"
                    fields = {**_model_fields(incident), "entity_pk": f"T#{tenant}#INC#{incident.id}"}
                    yield _item(pk, sk, fields)

        return self._put(items())

    def put_activities(self, tenant: str, activities: Iterable[Activity]) -> int:
        bounds_key = {"pk": {"S": partition(tenant, "META")}, "sk": {"S": "ACT"}}
        return put_items_with_bounds(
            self._client, self._table, (activity_item(tenant, a) for a in activities), bounds_key
        )
