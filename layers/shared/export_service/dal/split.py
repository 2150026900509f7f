"""Busy partitions split by sort-key ranges: how many items a plan's partitions hold, estimated from a few small
probes, and a busy partition cut into time ranges of about a given number of items each.

A time-partitioned Query's sort key is ``<prefix><instant><suffix>``: a fixed-width UTC instant with milliseconds
(``format_instant``), after an optional prefix (``INC#`` in an incident's index) and before a suffix that sorts
below ``$`` (``#<id>``, or nothing); its range is ``<prefix><start>`` to ``<prefix><end>$``. Cutting it at the
instants ``c1 < c2 < ...`` gives ``[lo, <prefix><c1 - 1 ms>$]``, ``[<prefix><c1>, <prefix><c2 - 1 ms>$]``, ...,
``[<prefix><cn>, hi]``: every item falls in exactly one range (an item at instant t is in the range whose cuts
bracket t), and the ranges, read one after the other, return the items in the partition's order. A partition whose
bounds are not of that shape is never cut.

Estimates come from probes of at most ``probe_items`` keys each (the sort key projected, no filter): one probe from
the start of the range, and when the partition holds more than that, its last key and probes at ``samples`` evenly
spaced instants, whose spans give the density of items between them. A partition of a busy day costs
``samples + 1`` small Queries, a quiet one one Query, whatever the items: the estimate's cost does not grow with
the export. The counts are of items read (a filter is applied after the read, and the read is the work).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from export_service.dal.query import SK_END, QueryPartition
from export_service.timefmt import format_instant

_INSTANT = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
_LOW = re.compile(rf"^(?P<prefix>.*?)(?P<at>{_INSTANT})$")
_HIGH = re.compile(rf"^(?P<prefix>.*?)(?P<at>{_INSTANT}){re.escape(SK_END)}$")
_IN_KEY = re.compile(_INSTANT)
MS = timedelta(milliseconds=1)


def _instant(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


@dataclass(frozen=True)
class Segment:
    start: datetime  # inclusive
    end: datetime  # exclusive
    items: float  # estimated


@dataclass(frozen=True)
class PartitionSize:
    """A partition's items: exact (it held no more than a probe) or estimated over its segments."""

    part: QueryPartition
    items: float
    exact: bool
    prefix: str | None = None  # the sort key's prefix when the partition can be cut by time
    segments: tuple[Segment, ...] = ()
    seen: int = 0  # distinct items the probes returned: the partition holds at least these

    def __post_init__(self) -> None:
        if self.exact and not self.seen:
            object.__setattr__(self, "seen", round(self.items))


def time_prefix(part: QueryPartition) -> str | None:
    """The sort-key prefix when the partition's range is ``<prefix><instant>`` .. ``<prefix><instant>$``."""
    low, high = _LOW.match(part.sk_lo), _HIGH.match(part.sk_hi)
    if low is None or high is None or low["prefix"] != high["prefix"]:
        return None
    return low["prefix"]


class PartitionProber:
    """Estimates a plan's partitions from small sort-key probes of ``table`` (threads: probes at once)."""

    def __init__(self, client: Any, table: str, probe_items: int = 100, samples: int = 8, threads: int = 8) -> None:
        self._client, self._table = client, table
        self.probe_items, self.samples, self.threads = probe_items, samples, threads

    def _query(self, part: QueryPartition, lo: str, limit: int, forward: bool = True) -> tuple[list[str], bool]:
        """Sort keys from ``lo`` to the partition's end (at most ``limit``), and whether the range was exhausted."""
        args: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "#pk = :pk AND #sk BETWEEN :lo AND :hi",
            "ExpressionAttributeNames": {"#pk": part.pk_attr, "#sk": part.sk_attr},
            "ExpressionAttributeValues": {":pk": {"S": part.pk}, ":lo": {"S": lo}, ":hi": {"S": part.sk_hi}},
            "ProjectionExpression": "#sk",
            "Limit": limit,
            "ScanIndexForward": forward,
        }
        if part.index:
            args["IndexName"] = part.index
        page = self._client.query(**args)
        keys = [item[part.sk_attr]["S"] for item in page.get("Items", ())]
        return keys, not page.get("LastEvaluatedKey")

    def sizes(self, parts: Sequence[QueryPartition]) -> list[PartitionSize]:
        """Every partition's size, in plan order (the probes of all partitions run on ``threads`` threads)."""
        if not parts:
            return []
        with ThreadPoolExecutor(max_workers=min(self.threads, len(parts))) as pool:
            return list(pool.map(self._size, parts))

    def _size(self, part: QueryPartition) -> PartitionSize:
        keys, exhausted = self._query(part, part.sk_lo, self.probe_items)
        prefix = time_prefix(part)
        if exhausted or prefix is None:
            return PartitionSize(part, float(len(keys)), exact=exhausted, prefix=prefix, seen=len(keys))
        last, _ = self._query(part, part.sk_lo, 1, forward=False)
        first_at, last_at = self._at(keys[0]), self._at(last[0]) if last else None
        if first_at is None or last_at is None or last_at <= first_at:
            return PartitionSize(part, float(len(keys)), exact=False, prefix=None, seen=len(keys))
        step = (last_at - first_at) / self.samples
        points = [first_at + step * number for number in range(self.samples)] + [last_at + MS]
        probes = [(keys, exhausted)] + [
            self._query(part, prefix + format_instant(point), self.probe_items) for point in points[1:-1]
        ]
        segments = tuple(
            self._segment(points[number], points[number + 1], *probes[number]) for number in range(self.samples)
        )
        seen = len({key for probe, _ in probes for key in probe} | set(last))
        return PartitionSize(
            part, sum(s.items for s in segments), exact=False, prefix=prefix, segments=segments, seen=seen
        )

    def _segment(self, start: datetime, end: datetime, keys: list[str], exhausted: bool) -> Segment:
        """Items in [start, end): counted when the probe reached ``end`` (or the partition's end), else the probe's
        density over the segment."""
        instants = [at for at in map(self._at, keys) if at is not None]
        inside = [at for at in instants if at < end]
        if exhausted or len(inside) < len(instants) or len(inside) < 2:
            return Segment(start, end, float(len(inside)))
        span = max((inside[-1] - inside[0]) / MS, 1.0)
        return Segment(start, end, max(float(len(inside)), len(inside) / span * ((end - start) / MS)))

    @staticmethod
    def _at(key: str) -> datetime | None:
        match = _IN_KEY.search(key)
        return _instant(match.group()) if match else None


def cut(size: PartitionSize, most_items: float) -> list[QueryPartition]:
    """The partition as consecutive time ranges of about ``most_items`` estimated items each, in its read order."""
    if size.exact or size.prefix is None or not size.segments or size.items <= most_items:
        return [size.part]
    pieces = max(1, round(size.items / most_items))
    cuts: list[datetime] = []
    done = 0.0
    for segment in size.segments:
        span = segment.end - segment.start
        while len(cuts) < pieces - 1 and segment.items > 0 and done + segment.items >= most_items * (len(cuts) + 1):
            fraction = (most_items * (len(cuts) + 1) - done) / segment.items
            at = segment.start + span * fraction
            at = at.replace(microsecond=at.microsecond // 1000 * 1000)  # sort keys hold milliseconds
            if (cuts and at <= cuts[-1]) or at <= size.segments[0].start:
                break  # a cut within one millisecond of the last: this range stays whole
            cuts.append(at)
        done += segment.items
    return _ranges(size.part, size.prefix, cuts)


def _ranges(part: QueryPartition, prefix: str, cuts: Sequence[datetime]) -> list[QueryPartition]:
    lows = [part.sk_lo] + [prefix + format_instant(at) for at in cuts]
    highs = [prefix + format_instant(at - MS) + SK_END for at in cuts] + [part.sk_hi]
    ranges = [part.model_copy(update={"sk_lo": lo, "sk_hi": hi}) for lo, hi in zip(lows, highs, strict=True)]
    return ranges if part.forward else ranges[::-1]
