"""DynamoDB access for incidents and their children (one table). See docs/data-model.md.

Base table: pk = ``T#<tenant>#<CODE>#D#<created day>``, sk = ``<created_at>#<id>`` (CODE: INC, EVT, ROLE, IMP, RETRO).
ByUpdated: ``T#<tenant>#<CODE>#U#<updated day>`` / ``<updated_at>#<id>`` (created or changed since T).
ByIncident: ``T#<tenant>#I#<incident id>`` / ``<CODE>#<created_at>#<id>`` (one incident and its children).
Alerts: ``T#<tenant>#ALERT#<asset id>`` / ``<metric_time>#<violation_name>`` (one item per upload and violation).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from pydantic import BaseModel, Field

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
from export_service.models.incidents import DATASETS, Dataset
from export_service.timefmt import format_instant

_META_PK = "T#{tenant}#META"


class IncidentQuery(BaseModel):
    """Filters the store can serve. Incident attributes (severity ...) only exist on incident items."""

    severities: list[str] = Field(default_factory=list)
    priorities: list[str] = Field(default_factory=list)
    statuses: list[str] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    project_ids: list[int] = Field(default_factory=list)
    incident_id: str | None = None
    # the incident API's filters
    impacts: list[str] = Field(default_factory=list)
    connection_types: list[str] = Field(default_factory=list)
    connection_ids: list[str] = Field(default_factory=list)
    alert_policy_ids: list[str] = Field(default_factory=list)
    search: str | None = None  # lower-case text, matched inside search_text (policy and source names)


def _alert_pk(tenant: str, asset_id: str) -> str:
    return f"T#{tenant}#ALERT#{asset_id}"


def _code(dataset: Dataset) -> str:
    return DATASETS[dataset].code


def _partition_filters(query: IncidentQuery) -> dict[str, Any]:
    one_of: dict[str, list[str | int]] = {}
    for attribute, values in (
        ("severity", query.severities),
        ("priority", query.priorities),
        ("status", query.statuses),
        ("project_id", query.project_ids),
        ("impact", query.impacts),
        ("connection_type", query.connection_types),
        ("connection_id", query.connection_ids),
        ("alert_policy_id", query.alert_policy_ids),
    ):
        if values:
            one_of[attribute] = list(values)
    contains_any: dict[str, list[str]] = {"tags": list(query.tags)} if query.tags else {}
    if query.search:
        contains_any["search_text"] = [query.search]
    return {"one_of": one_of, "contains_any": contains_any}


class IncidentStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ---- planning and reading -------------------------------------------------------------------
    def plan(
        self,
        tenant: str,
        dataset: Dataset,
        start: datetime,
        end: datetime,
        query: IncidentQuery,
        descending: bool = False,
    ) -> list[QueryPartition]:
        """Queries that together return the dataset's rows created in [start, end] matching ``query``, in
        created_at order (newest first when ``descending``)."""
        code = _code(dataset)
        lo, hi = format_instant(start), format_instant(end) + SK_END
        filters = _partition_filters(query)
        if query.incident_id:
            return [
                QueryPartition(
                    index="ByIncident",
                    pk_attr="gsi_incident_pk",
                    pk=f"T#{tenant}#I#{query.incident_id}",
                    sk_attr="gsi_incident_sk",
                    sk_lo=f"{code}#{lo}",
                    sk_hi=f"{code}#{hi}",
                    forward=not descending,
                    **filters,
                )
            ]
        days = list(days_between(start.astimezone(UTC).date(), end.astimezone(UTC).date()))
        if descending:
            days.reverse()
        return [
            QueryPartition(
                index=None,
                pk_attr="pk",
                pk=f"T#{tenant}#{code}#D#{day.isoformat()}",
                sk_lo=lo,
                sk_hi=hi,
                forward=not descending,
                **filters,
            )
            for day in days
        ]

    def plan_changed(self, tenant: str, dataset: Dataset, start: datetime, end: datetime) -> list[QueryPartition]:
        """Queries of the ByUpdated index that together return the dataset's rows created or last changed in
        [start, end], in updated_at order (the nightly exports' read)."""
        lo, hi = format_instant(start), format_instant(end) + SK_END
        return [
            QueryPartition(
                index="ByUpdated",
                pk_attr="gsi_updated_pk",
                pk=f"T#{tenant}#{_code(dataset)}#U#{day.isoformat()}",
                sk_attr="gsi_updated_sk",
                sk_lo=lo,
                sk_hi=hi,
            )
            for day in days_between(start.astimezone(UTC).date(), end.astimezone(UTC).date())
        ]

    def read_pages(self, dataset: Dataset, part: QueryPartition) -> Iterator[list[dict[str, str]]]:
        return query_pages(self._client, query_args(self._table, part, DATASETS[dataset].columns))

    def read_plan(
        self, dataset: Dataset, parts: Sequence[QueryPartition], prefetch: int = 2
    ) -> Iterator[list[dict[str, str]]]:
        """Pages of every partition in plan order, up to ``prefetch`` partitions read ahead on threads."""
        return read_ahead([functools.partial(self.read_pages, dataset, part) for part in parts], prefetch)

    def count(self, part: QueryPartition, cap: int) -> int:
        return query_count(self._client, query_args(self._table, part), cap)

    def read_fields(
        self,
        parts: Sequence[QueryPartition],
        fields: Sequence[str],
        *,
        start_after: Mapping[str, str] | None = None,
        page_size: int | None = None,
        prefetch: int = 1,
    ) -> Iterator[list[dict[str, Any]]]:
        """Pages of ``fields`` of the items of every partition, in plan order. ``start_after`` (the ``pk`` and
        ``sk`` of an item of the first partition) resumes strictly after that item; ``page_size`` caps the items
        each Query evaluates, so a short page reads little more than it returns."""

        def pages(index: int, part: QueryPartition) -> Iterator[list[dict[str, Any]]]:
            args = query_args(self._table, part, fields)
            if page_size:
                # Limit caps the items a Query evaluates, before its FilterExpression: with a filter, a small
                # Limit would read the partition in tiny pages (one Query per few items), so it is kept at 1,000.
                args["Limit"] = max(page_size, 1000) if "FilterExpression" in args else page_size
            if index == 0 and start_after and start_after.get("pk") == part.pk:
                args["ExclusiveStartKey"] = {"pk": {"S": start_after["pk"]}, "sk": {"S": start_after["sk"]}}
            return query_pages(self._client, args)

        return read_ahead([functools.partial(pages, index, part) for index, part in enumerate(parts)], prefetch)

    def bounds(self, tenant: str, dataset: Dataset) -> tuple[date, date] | None:
        """UTC days of the dataset's earliest and latest created_at for the tenant (kept on write)."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": _META_PK.format(tenant=tenant)}, "sk": {"S": _code(dataset)}},
            ConsistentRead=True,
        ).get("Item")
        if not item or "first_day" not in item or "last_day" not in item:
            return None
        return date.fromisoformat(item["first_day"]["S"]), date.fromisoformat(item["last_day"]["S"])

    def get_incident(self, tenant: str, incident_id: str) -> dict[str, Any] | None:
        """The incident's row and stored extras, or None (also once it was deleted)."""
        response = self._client.query(
            TableName=self._table,
            IndexName="ByIncident",
            KeyConditionExpression="gsi_incident_pk = :pk AND begins_with(gsi_incident_sk, :code)",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#I#{incident_id}"}, ":code": {"S": "INC#"}},
        )
        items = response.get("Items", [])
        if not items:
            return None
        return item_to_record(items[0])

    # ---- alerts: pk = T#<tenant>#ALERT#<asset id>, sk = <metric_time>#<violation_name> ----------
    def find_alerts(self, tenant: str, source: str, metric_time: str) -> list[dict[str, Any]]:
        """The alerts of one upload (``metric_time``, as stored) of one asset, in violation name order."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :at)",
            "ExpressionAttributeValues": {":pk": {"S": _alert_pk(tenant, source)}, ":at": {"S": f"{metric_time}#"}},
            "ProjectionExpression": "#doc",
            "ExpressionAttributeNames": {"#doc": "document"},
        }
        return [json.loads(item["document"]) for page in query_pages(self._client, args) for item in page]

    def put_alerts(self, tenant: str, alerts: Iterable[Mapping[str, Any]]) -> int:
        """Write alerts (the API's objects plus ``asset_id``); the same asset, upload and violation overwrite."""
        batch: dict[str, dict[str, Any]] = {}
        written = 0
        for alert in alerts:
            sk = f"{alert['metric_time']}#{alert['violation_name']}"
            pk = _alert_pk(tenant, alert["asset_id"])
            item = {"pk": {"S": pk}, "sk": {"S": sk}, "tenant": {"S": tenant}, "document": {"S": json.dumps(alert)}}
            batch[pk + "|" + sk] = {"PutRequest": {"Item": item}}
            if len(batch) == 25:
                write_batch(self._client, self._table, list(batch.values()))
                written += len(batch)
                batch.clear()
        if batch:
            write_batch(self._client, self._table, list(batch.values()))
            written += len(batch)
        return written

    # ---- writing --------------------------------------------------------------------------------
    def put_rows(self, tenant: str, dataset: Dataset, rows: Iterable[tuple[dict[str, str], dict[str, Any]]]) -> int:
        """Write exported rows (with optional extra attributes); the same id written again overwrites.
        Day bounds are widened before a batch's items are written, so exports never miss written rows."""
        bounds_key = {"pk": {"S": _META_PK.format(tenant=tenant)}, "sk": {"S": _code(dataset)}}
        items = (self._to_item(tenant, dataset, row, extras) for row, extras in rows)
        return put_items_with_bounds(self._client, self._table, items, bounds_key)

    def delete_incident(self, tenant: str, incident_id: str) -> dict[str, str] | None:
        """Delete the incident item (its children stay); returns the row it had, or None if there was none."""
        incident = self.get_incident(tenant, incident_id)
        if incident is None:
            return None
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": incident["pk"]}, "sk": {"S": incident["sk"]}},
        )
        return {column: str(incident.get(column, "")) for column in DATASETS[Dataset.INCIDENTS].columns}

    @staticmethod
    def _to_item(tenant: str, dataset: Dataset, row: Mapping[str, str], extras: Mapping[str, Any]) -> dict[str, Any]:
        code = _code(dataset)
        created, updated, row_id = row["created_at"], row["updated_at"], row["id"]
        incident_id = row_id if dataset is Dataset.INCIDENTS else row["incident_id"]
        item: dict[str, Any] = {
            "pk": {"S": f"T#{tenant}#{code}#D#{created[:10]}"},
            "sk": {"S": f"{created}#{row_id}"},
            "gsi_updated_pk": {"S": f"T#{tenant}#{code}#U#{updated[:10]}"},
            "gsi_updated_sk": {"S": f"{updated}#{row_id}"},
            "gsi_incident_pk": {"S": f"T#{tenant}#I#{incident_id}"},
            "gsi_incident_sk": {"S": f"{code}#{created}#{row_id}"},
            "tenant": {"S": tenant},
        }
        for column, value in row.items():
            item[column] = {"S": value}
        for name, value in extras.items():
            if value is None:
                continue
            if isinstance(value, bool) or not isinstance(value, int | str | list):
                raise TypeError(f"unsupported extra attribute {name}={value!r}")
            if isinstance(value, int):
                item[name] = {"N": str(value)}
            elif isinstance(value, list):
                item[name] = {"L": [{"S": str(entry)} for entry in value]}
            else:
                item[name] = {"S": value}
        return item
