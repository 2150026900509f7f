"""DynamoDB access for export jobs (pk ``T#<tenant>``, sk ``JOB#<jobId>``; jobIds sort by creation time)."""

from __future__ import annotations

from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer, _deserializer = TypeSerializer(), TypeDeserializer()


def _key(tenant: str, job_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"T#{tenant}"}, "sk": {"S": f"JOB#{job_id}"}}


class JobStore:
    def __init__(self, client: Any, table_name: str) -> None:
        self._client = client
        self._table = table_name

    def create(self, tenant: str, job_id: str, job: dict[str, Any], ttl: int) -> None:
        """Create the job once; creating it again (a retried request with the same id) changes nothing."""
        item = {**_key(tenant, job_id), "ttl": {"N": str(ttl)}}
        item.update({name: _serializer.serialize(value) for name, value in job.items() if value is not None})
        try:
            self._client.put_item(TableName=self._table, Item=item, ConditionExpression="attribute_not_exists(pk)")
        except self._client.exceptions.ConditionalCheckFailedException:
            return

    def get(self, tenant: str, job_id: str) -> dict[str, Any] | None:
        item = self._client.get_item(TableName=self._table, Key=_key(tenant, job_id), ConsistentRead=True).get("Item")
        return {name: _deserializer.deserialize(value) for name, value in item.items()} if item else None

    def update(self, tenant: str, job_id: str, fields: dict[str, Any]) -> None:
        self._client.update_item(TableName=self._table, Key=_key(tenant, job_id), **_set(fields))

    def update_if_state(self, tenant: str, job_id: str, state: str, fields: dict[str, Any]) -> bool:
        """Update an existing job only while it is in ``state``; False when it is not (or does not exist)."""
        update = _set(fields)
        update["ExpressionAttributeNames"]["#state"] = "state"
        update["ExpressionAttributeValues"][":expected"] = {"S": state}
        try:
            self._client.update_item(
                TableName=self._table,
                Key=_key(tenant, job_id),
                ConditionExpression="attribute_exists(pk) AND #state = :expected",
                **update,
            )
        except self._client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def mark_partition_done(self, tenant: str, job_id: str, index: int) -> None:
        """Idempotent progress: a number set of finished partitions (a retried worker adds nothing)."""
        self._client.update_item(
            TableName=self._table,
            Key=_key(tenant, job_id),
            UpdateExpression="ADD partitions_done :i",
            ExpressionAttributeValues={":i": {"NS": [str(index)]}},
        )

    def record_part_rows(self, tenant: str, job_id: str, index: int, rows: int) -> None:
        """A part's rows so far (set, not added: a retried part overwrites its own figure; logic/job_progress.py)."""
        self._client.update_item(
            TableName=self._table,
            Key=_key(tenant, job_id),
            UpdateExpression="SET #rows = :rows",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeNames={"#rows": f"rows_p{index:05d}"},
            ExpressionAttributeValues={":rows": {"N": str(rows)}},
        )

    def list(self, tenant: str, limit: int = 50) -> list[dict[str, Any]]:
        """The tenant's jobs, newest first."""
        response = self._client.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :job)",
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}"}, ":job": {"S": "JOB#"}},
            ScanIndexForward=False,
            Limit=limit,
        )
        return [{n: _deserializer.deserialize(v) for n, v in item.items()} for item in response.get("Items", [])]


def _set(fields: dict[str, Any]) -> dict[str, Any]:
    """``SET`` of ``fields`` with placeholder names and values (any attribute name, reserved words included)."""
    names, values, sets = {}, {}, []
    for number, (name, value) in enumerate(fields.items()):
        names[f"#n{number}"] = name
        values[f":v{number}"] = _serializer.serialize(value)
        sets.append(f"#n{number} = :v{number}")
    return {
        "UpdateExpression": "SET " + ", ".join(sets),
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
