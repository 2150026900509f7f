"""DynamoDB access for nightly exports: each tenant's setting and watermark, and the export requests (the listed
reports). One table, pk ``T#<tenant>``:

- sk ``CONFIG``: enabled, enabled_at, format (csv or parquet; absent: csv), watermark, last_night, last_created_at;
  while enabled it also carries
  ``nightly_enabled = "ENABLED"``, the key of the sparse ByEnabled index the nightly dispatcher reads;
- sk ``REQ#<created_at>#<source>``: one export request (report) per source and night, with ``ttl`` (30 days);
- sk ``CHAIN``: the head of the tenant's chain of nightly manifests (the last committed night's signed manifest).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from export_service.models.nightly import NightlyConfig, NightlyFormat
from export_service.timefmt import format_instant

_serializer, _deserializer = TypeSerializer(), TypeDeserializer()
_CONFIG = "CONFIG"
_CHAIN = "CHAIN"  # the nightly manifests' chain head (sk), see logic/nightly_chain.py
_ENABLED = "ENABLED"
REQUEST_PREFIX = "REQ#"
_AFTER_SOURCES = "~"  # sorts after every source name ("text/csv+..."), so "<created_at>#~" follows a whole night


def _pk(tenant: str) -> dict[str, str]:
    return {"S": f"T#{tenant}"}


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    return {name: _deserializer.deserialize(value) for name, value in item.items()}


class CommitRefusedError(Exception):
    """The night was not committed: already committed (a duplicate run) or the tenant disabled exports."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ExportRequestStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    # ---- the tenant's setting ---------------------------------------------------------------------
    def get_config(self, tenant: str) -> NightlyConfig | None:
        item = self._client.get_item(
            TableName=self._table, Key={"pk": _pk(tenant), "sk": {"S": _CONFIG}}, ConsistentRead=True
        ).get("Item")
        return _config(item) if item else None

    def enable(self, tenant: str, now: datetime, fmt: NightlyFormat = NightlyFormat.CSV) -> bool:
        """Turn nightly exports on, with files in ``fmt``; False when they already were. Enabling again while enabled
        changes nothing (set_format changes the format); re-enabling after a disable starts afresh from ``now``
        (documented: the first reports cover activity from when exports were enabled)."""
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": _pk(tenant),
                    "sk": {"S": _CONFIG},
                    "tenant": {"S": tenant},
                    "enabled": {"BOOL": True},
                    "enabled_at": {"S": format_instant(now)},
                    "format": {"S": NightlyFormat(fmt).value},
                    "nightly_enabled": {"S": _ENABLED},
                },
                ConditionExpression="attribute_not_exists(pk) OR enabled = :false",
                ExpressionAttributeValues={":false": {"BOOL": False}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False  # already enabled: keep its start and watermark
        return True

    def set_format(self, tenant: str, fmt: NightlyFormat) -> bool:
        """The file format of an enabled tenant's nights dispatched from now on (its start and watermark are kept: no
        night is skipped or repeated); False when nightly exports are off. A night already dispatched keeps the format
        its execution input names."""
        return self._update_config(
            tenant,
            UpdateExpression="SET #format = :format",
            ConditionExpression="enabled = :true",
            ExpressionAttributeNames={"#format": "format"},
            ExpressionAttributeValues={":format": {"S": NightlyFormat(fmt).value}, ":true": {"BOOL": True}},
        )

    def disable(self, tenant: str) -> bool:
        return self._update_config(
            tenant,
            UpdateExpression="SET enabled = :false REMOVE nightly_enabled",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":false": {"BOOL": False}},
        )

    def _update_config(self, tenant: str, **update: Any) -> bool:
        """One conditional update of the tenant's setting; False when its condition does not hold."""
        try:
            self._client.update_item(TableName=self._table, Key={"pk": _pk(tenant), "sk": {"S": _CONFIG}}, **update)
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def enabled_tenants(self) -> Iterator[NightlyConfig]:
        """Every tenant with nightly exports on (the sparse ByEnabled index), a page at a time."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": "ByEnabled",
            "KeyConditionExpression": "nightly_enabled = :on",
            "ExpressionAttributeValues": {":on": {"S": _ENABLED}},
        }
        while True:
            page = self._client.query(**args)
            for item in page.get("Items", ()):
                yield _config(item)
            if not page.get("LastEvaluatedKey"):
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # ---- committing a night -----------------------------------------------------------------------
    def commit(
        self,
        tenant: str,
        night: str,
        enabled_at: datetime,
        window_end: datetime,
        created_at: datetime,
        entries: Sequence[dict[str, Any]],
        ttl: int,
        chain: dict[str, Any] | None = None,
    ) -> None:
        """Publish a night's entries and move the watermark to ``window_end``, in one transaction. Refused
        (CommitRefusedError) when the night, or a later one, is already committed, or exports were disabled or
        re-enabled (``enabled_at`` changed) since the night was dispatched. ``chain``: the tenant's new chain head
        (the night's signed manifest and its ``sequence``), put in the same transaction on condition that the head
        is still the previous night's (``sequence`` - 1; none for the first)."""
        created = format_instant(created_at)
        writes: list[dict[str, Any]] = [
            {
                "Update": {
                    "TableName": self._table,
                    "Key": {"pk": _pk(tenant), "sk": {"S": _CONFIG}},
                    "UpdateExpression": "SET watermark = :end, last_night = :night, last_created_at = :created",
                    "ConditionExpression": "enabled = :true AND enabled_at = :enabled_at AND "
                    "(attribute_not_exists(last_night) OR "
                    "last_night < :night) AND (attribute_not_exists(last_created_at) OR last_created_at < :created)",
                    "ExpressionAttributeValues": {
                        ":end": {"S": format_instant(window_end)},
                        ":night": {"S": night},
                        ":created": {"S": created},
                        ":true": {"BOOL": True},
                        ":enabled_at": {"S": format_instant(enabled_at)},
                    },
                }
            }
        ]
        for entry in entries:
            item: dict[str, Any] = {
                name: _serializer.serialize(value) for name, value in entry.items() if value is not None
            }
            item.update(
                {
                    "pk": _pk(tenant),
                    "sk": {"S": f"{REQUEST_PREFIX}{created}#{entry['source']}"},
                    "ttl": {"N": str(ttl)},
                }
            )
            writes.append(
                {"Put": {"TableName": self._table, "Item": item, "ConditionExpression": "attribute_not_exists(pk)"}}
            )
        if chain is not None:
            writes.append(self._chain_put(tenant, chain))
        try:
            self._client.transact_write_items(TransactItems=writes)
        except self._client.exceptions.TransactionCanceledException:
            config = self.get_config(tenant)
            if config is None or not config.enabled:
                raise CommitRefusedError("disabled") from None
            if config.enabled_at != enabled_at:
                raise CommitRefusedError("re-enabled since dispatch") from None
            if config.last_night is not None and config.last_night >= night:
                raise CommitRefusedError("already committed") from None
            raise  # a conflicting write (another commit at the same time): the step is retried

    # ---- the nightly manifests' chain --------------------------------------------------------------
    def get_chain(self, tenant: str) -> dict[str, Any] | None:
        """The tenant's chain head: ``sequence``, ``night``, ``manifest_key`` and ``manifest`` (the last committed
        night's signed manifest file). Kept across disable and re-enable: the chain never restarts."""
        item = self._client.get_item(
            TableName=self._table, Key={"pk": _pk(tenant), "sk": {"S": _CHAIN}}, ConsistentRead=True
        ).get("Item")
        if not item:
            return None
        plain = _plain(item)
        plain["sequence"] = int(plain["sequence"])
        return plain

    def _chain_put(self, tenant: str, chain: dict[str, Any]) -> dict[str, Any]:
        sequence = int(chain["sequence"])
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                "pk": _pk(tenant),
                "sk": {"S": _CHAIN},
                "tenant": {"S": tenant},
                "sequence": {"N": str(sequence)},
                "night": {"S": str(chain["night"])},
                "manifest_key": {"S": str(chain["manifest_key"])},
                "manifest": {"S": str(chain["manifest"])},
            },
        }
        if sequence <= 1:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = "#seq = :previous"
            put["ExpressionAttributeNames"] = {"#seq": "sequence"}
            put["ExpressionAttributeValues"] = {":previous": {"N": str(sequence - 1)}}
        return {"Put": put}

    # ---- listing ----------------------------------------------------------------------------------
    def list_requests(self, tenant: str, newer_than: str | None, now: int, most: int) -> list[dict[str, Any]]:
        """Up to ``most`` entries created after ``newer_than`` (a format_instant text; None: all), oldest first,
        leaving out entries whose ``ttl`` has passed (DynamoDB deletes them within days, not on the second)."""
        lo = f"{REQUEST_PREFIX}{newer_than}#{_AFTER_SOURCES}" if newer_than else REQUEST_PREFIX
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
            "FilterExpression": "#ttl > :now",
            "ExpressionAttributeNames": {"#ttl": "ttl"},
            "ExpressionAttributeValues": {
                ":pk": _pk(tenant),
                ":lo": {"S": lo},
                ":hi": {"S": REQUEST_PREFIX + _AFTER_SOURCES},
                ":now": {"N": str(now)},
            },
            "Limit": most,
            # Strongly consistent: a night's entries are written in one transaction; an eventually consistent read
            # could see part of it (and a poller would then move past the rest).
            "ConsistentRead": True,
        }
        found: list[dict[str, Any]] = []
        while len(found) < most:
            page = self._client.query(**args)
            found.extend(_plain(item) for item in page.get("Items", ()))
            if not page.get("LastEvaluatedKey"):
                break
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        return found[:most]


def _config(item: dict[str, Any]) -> NightlyConfig:
    plain = _plain(item)
    return NightlyConfig.model_validate(
        {
            "tenant": plain["tenant"],
            "enabled": plain.get("enabled", False),
            "enabled_at": plain["enabled_at"],
            "watermark": plain.get("watermark"),
            "last_night": plain.get("last_night"),
            "last_created_at": plain.get("last_created_at"),
            "format": plain.get("format", NightlyFormat.CSV.value),
        }
    )
