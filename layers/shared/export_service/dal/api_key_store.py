"""DynamoDB access for API keys (pk ``key_id``). Only the hash of a secret is ever stored."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from export_service.models.api_keys import ApiKey, Permission


class ApiKeyStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def get(self, key_id: str) -> ApiKey | None:
        item = self._client.get_item(TableName=self._table, Key={"key_id": {"S": key_id}}).get("Item")
        return self._from_item(item) if item else None

    def put(self, key: ApiKey) -> None:
        item: dict[str, Any] = {
            "key_id": {"S": key.key_id},
            "tenant_id": {"S": key.tenant_id},
            "secret_hash": {"S": key.secret_hash},
            "permissions": {"SS": sorted(p.value for p in key.permissions)} if key.permissions else None,
            "name": {"S": key.name},
            "created_at": {"S": key.created_at},
            "revoked_at": {"S": key.revoked_at} if key.revoked_at else None,
            "usage_key": {"S": key.usage_key} if key.usage_key else None,
        }
        self._client.put_item(TableName=self._table, Item={k: v for k, v in item.items() if v is not None})

    def set_usage_key(self, key_id: str, usage_key: str) -> None:
        """Meter an existing key under ``usage_key`` (an API Gateway API key's value in the usage plan)."""
        self._client.update_item(
            TableName=self._table,
            Key={"key_id": {"S": key_id}},
            UpdateExpression="SET usage_key = :u",
            ConditionExpression="attribute_exists(key_id)",
            ExpressionAttributeValues={":u": {"S": usage_key}},
        )

    def revoke(self, key_id: str, when: str) -> bool:
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"key_id": {"S": key_id}},
                UpdateExpression="SET revoked_at = :t",
                ConditionExpression="attribute_exists(key_id)",
                ExpressionAttributeValues={":t": {"S": when}},
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def scan(self) -> Iterator[ApiKey]:
        """Every key (the admin tool's listing; the table holds one small item per key)."""
        args: dict[str, Any] = {"TableName": self._table}
        while True:
            page = self._client.scan(**args)
            for item in page.get("Items", ()):
                yield self._from_item(item)
            if "LastEvaluatedKey" not in page:
                return
            args["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    @staticmethod
    def _from_item(item: dict[str, Any]) -> ApiKey:
        return ApiKey(
            key_id=item["key_id"]["S"],
            tenant_id=item["tenant_id"]["S"],
            secret_hash=item["secret_hash"]["S"],
            permissions=frozenset(Permission(p) for p in item.get("permissions", {}).get("SS", [])),
            name=item.get("name", {}).get("S", ""),
            created_at=item["created_at"]["S"],
            revoked_at=item.get("revoked_at", {}).get("S"),
            usage_key=item.get("usage_key", {}).get("S", ""),
        )
