"""The authorizer's read of an API key: one GetItem, the item as a plain record (no pydantic model: the authorizer
runs before every request, and its cold start is its users' latency). dal/api_key_store.py manages keys."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyRecord:
    key_id: str
    tenant_id: str
    secret_hash: str
    permissions: frozenset[str]
    revoked: bool
    usage_key: str = ""


class KeyRecords:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, key_id: str) -> KeyRecord | None:
        item = self._client.get_item(TableName=self._table, Key={"key_id": {"S": key_id}}).get("Item")
        if not item:
            return None
        return KeyRecord(
            key_id=item["key_id"]["S"],
            tenant_id=item["tenant_id"]["S"],
            secret_hash=item["secret_hash"]["S"],
            permissions=frozenset(item.get("permissions", {}).get("SS", [])),
            revoked="revoked_at" in item,
            usage_key=item.get("usage_key", {}).get("S", ""),
        )
