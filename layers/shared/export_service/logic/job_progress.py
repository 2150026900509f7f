"""Rows so far: a part worker records how many rows it has written, now and then and when it is done, so that a
job's status shows its progress in records while it runs (the count before its 202 may have stopped short).

Each part has its own attribute on the job item (``rows_p<index>``), set, never added to: a retried part starts
again from zero and overwrites its own figure, so rows are never counted twice."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any, Protocol

PREFIX = "rows_p"
EVERY_SECONDS = 2.0  # at most one write a part every this many seconds while it runs


class PartRowsStore(Protocol):
    def record_part_rows(self, tenant: str, job_id: str, index: int, rows: int) -> None: ...


def part_attribute(index: int) -> str:
    return f"{PREFIX}{index:05d}"


def records_so_far(job: Mapping[str, Any]) -> int:
    """The rows every part has recorded (the job's result when it succeeded)."""
    if job.get("state") == "succeeded" and isinstance(job.get("result"), Mapping):
        return int(job["result"]["rows"])
    return sum(int(value) for name, value in job.items() if name.startswith(PREFIX))


class PartProgress:
    """Called with a part's rows so far after each page; writes them at most every ``every`` seconds."""

    def __init__(self, jobs: Any, tenant: str, job_id: str, index: int, every: float = EVERY_SECONDS) -> None:
        self._jobs, self._tenant, self._job_id, self._index = jobs, tenant, job_id, index
        self._every = every
        self._last = time.monotonic()

    def __call__(self, rows: int) -> None:
        now = time.monotonic()
        if now - self._last >= self._every:
            self._last = now
            self._record(rows)

    def done(self, rows: int) -> None:
        self._record(rows)

    def _record(self, rows: int) -> None:
        record = getattr(self._jobs, "record_part_rows", None)
        if record is not None:  # a store without it (a test double) shows no rows so far
            record(self._tenant, self._job_id, self._index, rows)
