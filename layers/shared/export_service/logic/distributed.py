"""Export jobs beyond the inline Map's 32 parts: the state machine of statemachine/export_job_distributed.asl.json.

Its Plan step writes the Map's items to S3 (``items.json``, a JSON array the Distributed Map reads with its
ItemReader) instead of returning them (a state's payload holds 256 KiB: about 2,000 items), in as many parts as
the job's rows need (about ``PART_ROWS`` each, at most ``MAX_PARTS``); its Map returns nothing (ResultPath null),
and Finish reads each part's rows from the job item, where every part worker records them (logic/job_progress.py),
and its key from its index. Everything else (the part workers, the stitching, the manifest) is the inline job's."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from export_service.dal.query import QueryPartition
from export_service.logic.balance import Prober, balanced_chunks
from export_service.logic.job_progress import part_attribute

MAX_PARTS = 10_000  # a Distributed Map runs up to 10,000 child workflows at once
PART_ROWS = 500_000  # about a minute of a part worker on Lambda (docs/benchmark.md), well within its 15


def part_key(prefix: str, index: int) -> str:
    return f"{prefix}/parts/{index:05d}"


def items_key(prefix: str) -> str:
    return f"{prefix}/items.json"


def distributed_chunks(
    parts: Sequence[QueryPartition], prober: Prober, part_rows: int | None = None
) -> list[list[QueryPartition]]:
    """As many balanced parts as the estimated rows need: about ``part_rows`` (PART_ROWS) each, at most MAX_PARTS."""
    sizes = prober.sizes(parts) if parts else []
    total = sum(size.items for size in sizes)
    most = min(MAX_PARTS, max(1, math.ceil(total / (part_rows or PART_ROWS))))

    class _Known:  # the sizes already probed, handed to the balancer as its prober
        @staticmethod
        def sizes(_parts: Sequence[QueryPartition]) -> list[Any]:
            return sizes

    return balanced_chunks(parts, _Known(), most)


def recorded_results(job: Mapping[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Each part's key and rows, as its worker recorded them on the job item (the Map returned nothing)."""
    total = int(job.get("partitions_total") or 0)
    missing = [index for index in range(total) if part_attribute(index) not in job]
    if not total or missing:
        raise RuntimeError(f"parts {missing[:10]} of {total} recorded no rows: they did not finish")
    return [
        {"index": index, "key": part_key(prefix, index), "rows": int(job[part_attribute(index)])}
        for index in range(total)
    ]
