"""The export jobs a tenant runs at once: one item per tenant in the export jobs table (pk ``T#<tenant>``, sk
``SLOTS``) holding the running jobs' ids as a string set. A job takes its slot with one conditional update before
its execution starts and gives it back when it ends; both are idempotent (a set holds an id once)."""

from __future__ import annotations

from typing import Any

SLOTS_SK = "SLOTS"


def _key(tenant: str) -> dict[str, Any]:
    return {"pk": {"S": f"T#{tenant}"}, "sk": {"S": SLOTS_SK}}


class JobSlots:
    def __init__(self, client: Any, table_name: str, maximum: int) -> None:
        self._client = client
        self._table = table_name
        self.maximum = maximum

    def claim(self, tenant: str, job_id: str) -> bool:
        """Take a slot for ``job_id``; False when the tenant already runs ``maximum`` jobs (a job that holds one
        already keeps it)."""
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(tenant),
                UpdateExpression="ADD running :job",
                ConditionExpression="attribute_not_exists(running) OR size(running) < :most OR contains(running, :id)",
                ExpressionAttributeValues={
                    ":job": {"SS": [job_id]},
                    ":id": {"S": job_id},
                    ":most": {"N": str(self.maximum)},
                },
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def release(self, tenant: str, job_id: str) -> None:
        """Give the slot back (nothing happens when the job holds none)."""
        self._client.update_item(
            TableName=self._table,
            Key=_key(tenant),
            UpdateExpression="DELETE running :job",
            ExpressionAttributeValues={":job": {"SS": [job_id]}},
        )

    def running(self, tenant: str) -> set[str]:
        item = self._client.get_item(TableName=self._table, Key=_key(tenant), ConsistentRead=True).get("Item") or {}
        return set(item.get("running", {}).get("SS", []))
