"""DynamoDB access for incidents and their children (one table). See docs/data-model.md.

Base table: pk = ``T#<tenant>#<CODE>#D#<created day>``, sk = ``<created_at>#<id>`` (CODE: INC, EVT, ROLE, IMP, RETRO).
ByUpdated: ``T#<tenant>#<CODE>#U#<updated day>`` / ``<updated_at>#<id>`` (created or changed since T).
ByIncident: ``T#<tenant>#I#<incident id>`` / ``<CODE>#<created_at>#<id>`` (one incident and its children).
Alerts: ``T#<tenant>#ALERT#<asset id>`` / ``<metric_time>#<violation_name>`` (one item per upload and violation).
Numbers: ``T#<tenant>#NUM`` / ``<integer>`` -> the incident id that holds the number (claimed once, never reused).
"""

from __future__ import annotations

import contextlib
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
from export_service.dal.split import PartitionProber
from export_service.models.incident_api import incident_number
from export_service.models.incidents import DATASETS, Dataset
from export_service.timefmt import format_instant

_META_PK = "T#{tenant}#META"
_NUMBER_PK = "T#{tenant}#NUM"
CLAIMS_PER_CALL = 100  # TransactWriteItems' limit


class NumberTakenError(Exception):
    """An incident number is unique in its tenant and never reused: another incident id holds (or held) it."""

    def __init__(self, tenant: str, number: str, incident_id: str, holder: str | None) -> None:
        held = f"incident '{holder}'" if holder else "another incident"
        super().__init__(
            f"incident number {number!r} of tenant '{tenant}' belongs to {held}; incident '{incident_id}' was not "
            "written (numbers are never reused, not even after a deletion)"
        )
        self.number, self.incident_id, self.holder = number, incident_id, holder


def _holder(item: Mapping[str, Any] | None) -> str | None:
    """The incident id of a number item DynamoDB returned with a failed condition (ALL_OLD), if it did."""
    value = (item or {}).get("incident_id", {}).get("S")
    return str(value) if value else None


def number_claims(tenant: str, rows: Sequence[Mapping[str, str]]) -> dict[int, tuple[str, str]]:
    """integer -> (incident id, number as written) for incident rows; ValueError for a number without an integer,
    NumberTakenError for one number given to two ids in the same rows."""
    claims: dict[int, tuple[str, str]] = {}
    for row in rows:
        integer = incident_number(row["number"])
        if integer is None:
            raise ValueError(
                f"incident '{row['id']}' has number {row['number']!r}: a number is digits, optionally after a prefix "
                "and a hyphen (INC-1311)"
            )
        held = claims.setdefault(integer, (row["id"], row["number"]))
        if held[0] != row["id"]:
            raise NumberTakenError(tenant, row["number"], row["id"], held[0])
    return claims


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

    def prober(self) -> PartitionProber:
        """Sizes the partitions of a plan (a job's parts balanced by items; busy days cut by time ranges)."""
        return PartitionProber(self._client, self._table)

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

    def incident_id_by_number(self, tenant: str, number: int) -> str | None:
        """The id of the tenant's incident with this number, or None (no such number, or its incident was deleted)."""
        item = self._client.get_item(
            TableName=self._table,
            Key={"pk": {"S": _NUMBER_PK.format(tenant=tenant)}, "sk": {"S": str(number)}},
            ConsistentRead=True,
        ).get("Item")
        if not item or "deleted_at" in item:
            return None
        return str(item["incident_id"]["S"])

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
        if dataset is not Dataset.INCIDENTS:
            items = (self._to_item(tenant, dataset, row, extras) for row, extras in rows)
            return put_items_with_bounds(self._client, self._table, items, bounds_key)
        # Incidents: each chunk's numbers are claimed before its rows are written, so a refused number writes nothing
        # of its chunk and an incident is never stored without its number.
        written = 0
        chunk: list[tuple[dict[str, str], dict[str, Any]]] = []
        for entry in rows:
            chunk.append(entry)
            if len(chunk) == CLAIMS_PER_CALL:
                written += self._put_incidents(tenant, chunk, bounds_key)
                chunk = []
        if chunk:
            written += self._put_incidents(tenant, chunk, bounds_key)
        return written

    def _put_incidents(
        self, tenant: str, rows: Sequence[tuple[dict[str, str], dict[str, Any]]], bounds_key: dict[str, Any]
    ) -> int:
        self.claim_numbers(tenant, [row for row, _ in rows])
        items = (self._to_item(tenant, Dataset.INCIDENTS, row, extras) for row, extras in rows)
        return put_items_with_bounds(self._client, self._table, items, bounds_key)

    def claim_numbers(self, tenant: str, rows: Sequence[Mapping[str, str]]) -> None:
        """Claim each row's number for its incident id (at most 100 rows, all or nothing: one conditional PutItem, or
        one TransactWriteItems for several). A number already held by another id, even a deleted incident's, raises
        NumberTakenError; the same id claiming its own number again (a rewrite, or a deleted incident written
        again) succeeds."""
        claims = number_claims(tenant, rows)
        ordered = list(claims.items())
        puts = [self._claim(tenant, integer, incident_id, number) for integer, (incident_id, number) in ordered]
        if len(puts) == 1:  # the common write of one incident: a plain conditional put costs half a transaction
            try:
                self._client.put_item(**puts[0])
            except self._client.exceptions.ConditionalCheckFailedException as refused:
                _integer, (incident_id, number) = ordered[0]
                raise NumberTakenError(tenant, number, incident_id, _holder(refused.response.get("Item"))) from None
            return
        if not puts:
            return
        try:
            self._client.transact_write_items(TransactItems=[{"Put": put} for put in puts])
        except self._client.exceptions.TransactionCanceledException as cancelled:
            reasons = cancelled.response.get("CancellationReasons") or []
            for (_integer, (incident_id, number)), reason in zip(ordered, reasons, strict=False):
                if reason.get("Code") == "ConditionalCheckFailed":
                    raise NumberTakenError(tenant, number, incident_id, _holder(reason.get("Item"))) from None
            raise

    def _claim(self, tenant: str, integer: int, incident_id: str, number: str) -> dict[str, Any]:
        return {
            "TableName": self._table,
            "Item": {
                "pk": {"S": _NUMBER_PK.format(tenant=tenant)},
                "sk": {"S": str(integer)},
                "tenant": {"S": tenant},
                "incident_id": {"S": incident_id},
                "number": {"S": number},
            },
            "ConditionExpression": "attribute_not_exists(pk) OR incident_id = :id",
            "ExpressionAttributeValues": {":id": {"S": incident_id}},
            "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
        }

    def delete_incident(self, tenant: str, incident_id: str) -> dict[str, str] | None:
        """Delete the incident item (its children stay); returns the row it had, or None if there was none."""
        incident = self.get_incident(tenant, incident_id)
        if incident is None:
            return None
        self._client.delete_item(
            TableName=self._table,
            Key={"pk": {"S": incident["pk"]}, "sk": {"S": incident["sk"]}},
        )
        self._retire_number(tenant, incident_id, str(incident.get("number", "")))
        return {column: str(incident.get(column, "")) for column in DATASETS[Dataset.INCIDENTS].columns}

    def _retire_number(self, tenant: str, incident_id: str, number: str) -> None:
        """A deleted incident's number no longer finds it, and stays held by its id (never given to another)."""
        integer = incident_number(number)
        if integer is None:
            return
        # The condition fails only for a number this id never claimed (written before numbers were claimed).
        with contextlib.suppress(self._client.exceptions.ConditionalCheckFailedException):
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": _NUMBER_PK.format(tenant=tenant)}, "sk": {"S": str(integer)}},
                UpdateExpression="SET deleted_at = :now",
                ConditionExpression="incident_id = :id",
                ExpressionAttributeValues={":now": {"S": format_instant(datetime.now(UTC))}, ":id": {"S": incident_id}},
            )

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
