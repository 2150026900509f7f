"""What every time-partitioned store shares: serialisable Query partitions, paging, counting, day and month walks."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from pydantic import BaseModel

from export_service.dal.count_budget import current_budget
from export_service.dal.fast_query import query_page
from export_service.observability import phase

SK_END = "$"  # sorts after '#', so "<ts>$" is above every "<ts>#<id>"


class QueryPartition(BaseModel):
    """One independent Query of an export plan; small and serialisable (a Step Functions payload later)."""

    index: str | None
    pk_attr: str
    pk: str
    sk_attr: str = "sk"
    sk_lo: str
    sk_hi: str
    forward: bool = True
    equals: dict[str, str] = {}  # attribute = value
    one_of: dict[str, list[str | int]] = {}  # attribute IN (values)
    contains_any: dict[str, list[str]] = {}  # contains(attribute, v1) OR contains(attribute, v2) ...


def query_args(table: str, part: QueryPartition, projection: Sequence[str] | None = None) -> dict[str, Any]:
    names: dict[str, str] = {"#pk": part.pk_attr, "#sk": part.sk_attr}
    values: dict[str, Any] = {":pk": {"S": part.pk}, ":lo": {"S": part.sk_lo}, ":hi": {"S": part.sk_hi}}
    args: dict[str, Any] = {"TableName": table, "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi"}
    if part.index:
        args["IndexName"] = part.index
    if not part.forward:
        args["ScanIndexForward"] = False
    conditions = []
    position = 0
    for field, value in sorted(part.equals.items()):
        names[f"#f{position}"] = field
        values[f":f{position}"] = {"S": value}
        conditions.append(f"#f{position} = :f{position}")
        position += 1
    for field, options in sorted(part.one_of.items()):
        names[f"#f{position}"] = field
        placeholders = []
        for number, option in enumerate(options):
            values[f":f{position}_{number}"] = {"N": str(option)} if isinstance(option, int) else {"S": option}
            placeholders.append(f":f{position}_{number}")
        conditions.append(f"#f{position} IN ({', '.join(placeholders)})")
        position += 1
    for field, words in sorted(part.contains_any.items()):
        names[f"#f{position}"] = field
        alternatives = []
        for number, option in enumerate(words):
            values[f":f{position}_{number}"] = {"S": option}
            alternatives.append(f"contains(#f{position}, :f{position}_{number})")
        conditions.append("(" + " OR ".join(alternatives) + ")")
        position += 1
    if conditions:
        args["FilterExpression"] = " AND ".join(conditions)
    if projection:
        placeholders = []
        for number, column in enumerate(projection):
            names[f"#c{number}"] = column
            placeholders.append(f"#c{number}")
        args["ProjectionExpression"] = ", ".join(placeholders)
    args["ExpressionAttributeNames"] = names
    args["ExpressionAttributeValues"] = values
    return args


def query_pages(client: Any, args: dict[str, Any]) -> Iterator[list[dict[str, Any]]]:
    """Every page of a Query (up to 1 MB each), converted (``item_to_record``), in key order.

    The items of a botocore client's successful responses are decoded from the response's JSON, not walked through
    botocore's parser (dal/fast_query.py); paging, retries and errors are the client's."""
    args = dict(args)
    while True:
        with phase("read"):  # the Query and the decoding of its items
            records, page = query_page(client, args)
        yield records
        last = page.get("LastEvaluatedKey")
        if not last:
            return
        args["ExclusiveStartKey"] = last


def query_count(client: Any, args: dict[str, Any], cap: int) -> int:
    """Matching items, counted server-side (Select=COUNT), stopping once ``cap`` is reached, or between pages once the
    count budget (dal/count_budget.py) in force is spent."""
    args = {**args, "Select": "COUNT"}
    total = 0
    budget = current_budget()
    while total < cap and not (budget is not None and budget.spent()):
        page = client.query(**args)
        total += page["Count"]
        if budget is not None:
            budget.add(page["Count"])
        last = page.get("LastEvaluatedKey")
        if not last:
            break
        args["ExclusiveStartKey"] = last
    return total


def days_between(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        if day == end:  # never step past date.max
            return
        day += timedelta(days=1)


def months_between(start: date, end: date) -> Iterator[str]:
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        yield f"{year:04d}-{month:02d}"
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)


def write_batch(client: Any, table: str, requests: list[dict[str, Any]]) -> None:
    """One BatchWriteItem (<= 25 requests), retrying unprocessed items with backoff."""
    pending: dict[str, Any] = {table: requests}
    attempt = 0
    while pending:
        if attempt:
            time.sleep(min(2.0, 0.05 * 2**attempt))
        response = client.batch_write_item(RequestItems=pending)
        pending = response.get("UnprocessedItems") or {}
        attempt += 1


def widen_day_bounds(client: Any, table: str, key: dict[str, Any], earliest: str, latest: str) -> None:
    """Lower ``first_day`` / raise ``last_day`` of a bookkeeping item (conditional, so concurrent writers agree)."""
    for attribute, value, comparison in (("first_day", earliest, ">"), ("last_day", latest, "<")):
        try:
            client.update_item(
                TableName=table,
                Key=key,
                UpdateExpression=f"SET {attribute} = :d",
                ConditionExpression=f"attribute_not_exists({attribute}) OR {attribute} {comparison} :d",
                ExpressionAttributeValues={":d": {"S": value}},
            )
        except client.exceptions.ConditionalCheckFailedException:
            continue  # a wider bound is already recorded


def put_items_with_bounds(client: Any, table: str, items: Iterable[dict[str, Any]], bounds_key: dict[str, Any]) -> int:
    """Write items in batches of 25 (the same key twice in one call is one item: the later copy wins, as a second
    put would). Before each batch, the day bounds at ``bounds_key`` are widened to cover the batch's days (the
    last 10 characters of each ``pk``), so an export that clamps to them never misses a written item.
    Returns how many distinct items were sent."""
    written = 0
    known: tuple[str, str] | None = None
    batch: dict[tuple[str, str], dict[str, Any]] = {}

    def flush() -> None:
        nonlocal written, known
        days = [pk[-10:] for pk, _ in batch]
        lo, hi = min(days), max(days)
        if known is None or lo < known[0] or hi > known[1]:
            known = (lo, hi) if known is None else (min(lo, known[0]), max(hi, known[1]))
            widen_day_bounds(client, table, bounds_key, *known)
        write_batch(client, table, list(batch.values()))
        written += len(batch)
        batch.clear()

    for item in items:
        batch[(item["pk"]["S"], item["sk"]["S"])] = {"PutRequest": {"Item": item}}
        if len(batch) == 25:
            flush()
    if batch:
        flush()
    return written
