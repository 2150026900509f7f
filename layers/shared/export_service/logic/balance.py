"""A job's parts balanced by the items they read, not by how many partitions they hold: busy partitions are cut
into time ranges (dal/split.py), then consecutive ranges are grouped into at most ``most`` parts whose largest is as
small as it can be. Order is kept: the parts, concatenated, read exactly what the plan reads, in its order."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from export_service.dal.query import QueryPartition
from export_service.dal.split import PartitionSize, cut


class Prober(Protocol):
    def sizes(self, parts: Sequence[QueryPartition]) -> list[PartitionSize]: ...


def group(weights: Sequence[float], most: int) -> list[range]:
    """Consecutive groups of at most ``most`` whose largest total is smallest (binary search on the capacity of a
    greedy fill); every item in exactly one group, in order."""
    if not weights:
        return [range(0)]
    most = max(1, min(most, len(weights)))

    def fill(capacity: float) -> list[range]:
        groups, start, total = [], 0, 0.0
        for index, weight in enumerate(weights):
            if index > start and total + weight > capacity:
                groups.append(range(start, index))
                start, total = index, 0.0
            total += weight
        groups.append(range(start, len(weights)))
        return groups

    low, high = max(weights), float(sum(weights))  # weights are positive: the sum is at least the largest
    for _ in range(60):  # to well within one item of the best capacity
        if high - low <= 0.5:
            break
        middle = (low + high) / 2
        if len(fill(middle)) <= most:
            high = middle
        else:
            low = middle
    return fill(high)


def balanced_chunks(parts: Sequence[QueryPartition], prober: Prober, most: int) -> list[list[QueryPartition]]:
    """At most ``most`` groups of consecutive query ranges reading about the same number of items each."""
    if not parts:
        return [[]]  # one empty part: the file still gets its header
    sizes = prober.sizes(parts)
    total = sum(size.items for size in sizes)
    most_items = max(total / most, 1.0)
    pieces: list[tuple[QueryPartition, float]] = []
    for size in sizes:
        ranges = cut(size, most_items)
        pieces += [(piece, size.items / len(ranges)) for piece in ranges]
    # an empty range still costs a Query: weigh it as a little work so that runs of them spread too
    weights = [max(weight, 1.0) for _, weight in pieces]
    return [[pieces[index][0] for index in members] for members in group(weights, most)]


def filtered(parts: Sequence[QueryPartition]) -> bool:
    """Whether the Queries filter their items after reading them (a probe's count is then not the rows')."""
    return any(part.equals or part.one_of or part.contains_any for part in parts)


ESTIMATE_SAMPLE = 16  # partitions probed for a 202's estimate: its cost does not grow with the window either


@dataclass(frozen=True)
class Estimate:
    rows: int  # estimated (extrapolated from the probed partitions)
    exact: bool  # every partition probed, and each quiet enough to be counted by its probe
    at_least: int  # items the probes saw: certainly there


def estimate(parts: Sequence[QueryPartition], prober: Prober, sample: int = ESTIMATE_SAMPLE) -> Estimate:
    """The rows of unfiltered Queries from the planner's probes (dal/split.py): a few small Queries whatever the
    size, no paging through a busy partition; at most ``sample`` partitions, evenly spread, are probed and the rest
    extrapolated."""
    if not parts:
        return Estimate(0, True, 0)
    chosen = [parts[round(i * (len(parts) - 1) / (sample - 1))] for i in range(sample)] if len(parts) > sample else []
    sizes = prober.sizes(chosen or parts)
    total = sum(size.items for size in sizes) * len(parts) / len(sizes)
    exact = not chosen and all(size.exact for size in sizes)
    return Estimate(round(total), exact, sum(size.seen for size in sizes))


def estimated_rows(parts: Sequence[QueryPartition], prober: Prober, sample: int = ESTIMATE_SAMPLE) -> tuple[int, bool]:
    """``estimate``'s rows, and whether they are exact."""
    found = estimate(parts, prober, sample)
    return found.rows, found.exact
