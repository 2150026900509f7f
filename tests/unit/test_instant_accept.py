"""The count before a 202 stops within its budget (then "at least N"); a job's parts record their rows so far."""

from __future__ import annotations

import time
from typing import Any

from export_service.dal.count_budget import count_budget
from export_service.logic.export_engine import ExportLimits, count_capped, too_large
from export_service.logic.job_progress import PartProgress, part_attribute, records_so_far


def _slow_count(seconds: float) -> Any:
    def count(part: int, cap: int) -> int:
        time.sleep(seconds)
        return min(part, cap)

    return count


def test_a_count_stops_between_partitions_once_its_budget_is_spent() -> None:
    with count_budget(0.05) as budget:
        total = count_capped(_slow_count(0.03), [10] * 100, 1_000_000)
    assert budget.cut
    assert 10 <= total < 1_000  # a lower bound: the partitions left uncounted are not guessed


def test_a_count_within_its_budget_is_complete() -> None:
    with count_budget(5.0) as budget:
        total = count_capped(_slow_count(0.0), [10] * 100, 1_000_000)
    assert not budget.cut and total == 1_000


def test_an_incomplete_count_is_at_least() -> None:
    limits = ExportLimits(max_records=50, max_body_bytes=10_000, count_cap=100_000)
    assert too_large("records", 80, limits, "x").message.startswith("80 records match")
    assert too_large("records", 80, limits, "x", complete=False).message.startswith("at least 80 records match")


class _Jobs:
    def __init__(self) -> None:
        self.item: dict[str, Any] = {"state": "processing"}
        self.writes = 0

    def record_part_rows(self, tenant: str, job_id: str, index: int, rows: int) -> None:
        self.item[part_attribute(index)] = rows
        self.writes += 1


def test_parts_record_rows_so_far_now_and_then_and_a_retry_overwrites_its_own() -> None:
    jobs = _Jobs()
    progress = PartProgress(jobs, "acme", "exp-1", 3, every=3600)
    for rows in range(1, 100):
        progress(rows)  # within the interval: not written
    assert jobs.writes == 0
    progress.done(100)
    PartProgress(jobs, "acme", "exp-1", 4, every=0).done(50)
    retried = PartProgress(jobs, "acme", "exp-1", 3, every=0)  # part 3 again, from zero
    retried(10)
    assert records_so_far(jobs.item) == 60
    retried.done(100)
    assert records_so_far(jobs.item) == 150
    assert records_so_far({"state": "succeeded", "result": {"rows": 7}, part_attribute(0): 3}) == 7


def test_a_count_up_to_its_floor_is_always_finished() -> None:
    with count_budget(0.0, floor=300) as budget:
        total = count_capped(_slow_count(0.001), [10] * 100, 1_000_000)
    assert budget.cut and total == 300  # the floor's partitions counted, then the spent budget stops it
