"""Busy partitions are cut by sort-key time ranges and grouped into balanced parts: read one after the other, the
ranges return exactly the partition's items, in its order (none lost, none twice), however the items are spread."""

from __future__ import annotations

import bisect
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from export_service.dal.query import SK_END, QueryPartition
from export_service.dal.split import PartitionProber, cut
from export_service.logic.balance import balanced_chunks, group
from export_service.timefmt import format_instant

DAY = datetime(2026, 3, 1, tzinfo=UTC)


class FakeTable:
    """A DynamoDB Query over sorted sort keys per partition key: BETWEEN, Limit, direction, LastEvaluatedKey."""

    def __init__(self, items: dict[str, list[str]]) -> None:
        self.items = {pk: sorted(keys) for pk, keys in items.items()}
        self.queries = 0

    def query(self, **args: Any) -> dict[str, Any]:
        self.queries += 1
        values = args["ExpressionAttributeValues"]
        keys = self.items.get(values[":pk"]["S"], [])
        lo, hi = values[":lo"]["S"], values[":hi"]["S"]
        if "ExclusiveStartKey" in args:
            start = args["ExclusiveStartKey"]["sk"]["S"]
            lo = start + "\x00" if args.get("ScanIndexForward", True) else lo
            hi = hi if args.get("ScanIndexForward", True) else start
        selected = keys[bisect.bisect_left(keys, lo) : bisect.bisect_right(keys, hi)]
        if not args.get("ScanIndexForward", True):
            selected = selected[::-1]
            if "ExclusiveStartKey" in args:
                selected = [key for key in selected if key < args["ExclusiveStartKey"]["sk"]["S"]]
        limit = args.get("Limit", len(selected))
        page = selected[:limit]
        answer: dict[str, Any] = {"Items": [{"sk": {"S": key}} for key in page], "Count": len(page)}
        if len(selected) > limit:
            answer["LastEvaluatedKey"] = {"sk": {"S": page[-1]}}
        return answer

    def read(self, part: QueryPartition) -> list[str]:
        keys = self.items.get(part.pk, [])
        selected = keys[bisect.bisect_left(keys, part.sk_lo) : bisect.bisect_right(keys, part.sk_hi)]
        return selected if part.forward else selected[::-1]


def _keys(instants: list[datetime], prefix: str = "") -> list[str]:
    return [f"{prefix}{format_instant(at)}#{number:06d}" for number, at in enumerate(instants)]


def _part(day: datetime, days: int = 1, prefix: str = "", forward: bool = True) -> QueryPartition:
    return QueryPartition(
        index=None,
        pk_attr="pk",
        pk=f"T#t#D#{day:%Y-%m-%d}",
        sk_lo=prefix + format_instant(DAY),
        sk_hi=prefix + format_instant(DAY + timedelta(days=days)) + SK_END,
        forward=forward,
    )


SPREADS = {
    "uniform": lambda rng, n: [DAY + timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(n)],
    "one burst hour": lambda rng, n: [
        DAY + timedelta(hours=9, milliseconds=rng.randrange(3_600_000)) for _ in range(n)
    ],
    "two bursts": lambda rng, n: [
        DAY + timedelta(hours=rng.choice((1, 20)), milliseconds=rng.randrange(600_000)) for _ in range(n)
    ],
    "same millisecond": lambda rng, n: [DAY + timedelta(hours=3)] * n,
}


@pytest.mark.parametrize("spread", list(SPREADS))
@pytest.mark.parametrize("forward", [True, False])
@pytest.mark.parametrize("prefix", ["", "INC#"])
def test_a_busy_day_cut_reads_every_item_once_in_order(spread: str, forward: bool, prefix: str) -> None:
    rng = random.Random(f"{spread}{forward}{prefix}")
    part = _part(DAY, prefix=prefix, forward=forward)
    table = FakeTable({part.pk: _keys(SPREADS[spread](rng, 5_000), prefix)})
    size = PartitionProber(table, "t", probe_items=50, samples=8).sizes([part])[0]
    ranges = cut(size, 5_000 / 16)
    read = [key for piece in ranges for key in table.read(piece)]
    assert read == table.read(part)
    if spread == "uniform":
        assert 12 <= len(ranges) <= 20
        assert max(len(table.read(piece)) for piece in ranges) < 2 * 5_000 / 16


def test_a_quiet_partition_is_counted_exactly_with_one_query_and_never_cut() -> None:
    part = _part(DAY)
    table = FakeTable({part.pk: _keys([DAY + timedelta(minutes=m) for m in range(30)])})
    size = PartitionProber(table, "t", probe_items=50).sizes([part])[0]
    assert size.exact and size.items == 30 and table.queries == 1
    assert cut(size, 5) == [part]


def test_a_partition_whose_keys_are_not_time_ranges_is_never_cut() -> None:
    part = QueryPartition(index=None, pk_attr="pk", pk="T#t#SOURCES", sk_lo=" ", sk_hi="~")
    table = FakeTable({part.pk: [f"src-{n:05d}" for n in range(500)]})
    size = PartitionProber(table, "t", probe_items=50).sizes([part])[0]
    assert cut(size, 10) == [part]


@pytest.mark.parametrize("layout", ["all on one day", "spread over 30 days", "one busy day among quiet ones"])
def test_a_job_plan_is_balanced_and_reads_every_item_once_in_order(layout: str) -> None:
    rng = random.Random(layout)
    days = [DAY + timedelta(days=number) for number in range(30)]
    counts = {
        "all on one day": [6_000] + [0] * 29,
        "spread over 30 days": [200] * 30,
        "one busy day among quiet ones": [50] * 14 + [4_600] + [50] * 15,
    }[layout]
    items: dict[str, list[str]] = {}
    parts = []
    for day, count in zip(days, counts, strict=True):
        part = QueryPartition(
            index=None,
            pk_attr="pk",
            pk=f"T#t#D#{day:%Y-%m-%d}",
            sk_lo=format_instant(DAY),
            sk_hi=format_instant(DAY + timedelta(days=30)) + SK_END,
        )
        parts.append(part)
        items[part.pk] = _keys([day + timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(count)])
    table = FakeTable(items)
    chunks = balanced_chunks(parts, PartitionProber(table, "t", probe_items=50), 32)
    assert 1 <= len(chunks) <= 32
    read = [key for group_ in chunks for piece in group_ for key in table.read(piece)]
    assert read == [key for part in parts for key in table.read(part)]
    sizes = [sum(len(table.read(piece)) for piece in group_) for group_ in chunks]
    assert max(sizes) <= 2.2 * 6_000 / 32  # estimates, not counts: within about twice the even share


def test_groups_are_consecutive_cover_everything_and_keep_the_largest_small() -> None:
    weights = [1.0] * 10 + [100.0] + [1.0] * 10
    groups = group(weights, 4)
    assert [index for members in groups for index in members] == list(range(len(weights)))
    assert len(groups) <= 4 and max(sum(weights[i] for i in members) for members in groups) == 100.0
    assert group([], 3) == [range(0)]
    assert group([5.0, 5.0], 8) == [range(0, 1), range(1, 2)]


def test_a_202_estimate_probes_a_sample_of_a_long_window_and_extrapolates() -> None:
    from export_service.logic.balance import estimated_rows  # noqa: PLC0415

    days = [DAY + timedelta(days=number) for number in range(365)]
    parts = [_part(day) for day in days]
    rng = random.Random("year")
    items = {
        part.pk: _keys([DAY + timedelta(milliseconds=rng.randrange(86_400_000)) for _ in range(300)]) for part in parts
    }
    table = FakeTable(items)
    estimate, exact = estimated_rows(parts, PartitionProber(table, "t", probe_items=50))
    assert not exact and abs(estimate - 365 * 300) < 0.25 * 365 * 300
    assert table.queries <= 16 * 9  # 16 partitions of 365 probed, 9 small Queries each at most
    quiet = FakeTable({parts[0].pk: _keys([DAY] * 7), parts[1].pk: _keys([DAY] * 3)})
    assert estimated_rows(parts[:2], PartitionProber(quiet, "t", probe_items=50)) == (10, True)
