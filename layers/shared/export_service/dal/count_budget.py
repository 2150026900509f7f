"""A time budget for counting: a count made before answering (a 202, a 400 naming how many records match) stops once
its budget is spent, so the answer never waits on a count of millions. ``query_count`` checks it between pages."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class CountBudget:
    """Until when a count may go on, once it has counted ``floor`` matches (a count up to the synchronous limit is
    always finished: it is a few small pages); ``cut`` tells that it stopped before it was done (a lower bound)."""

    def __init__(self, seconds: float, floor: int = 0) -> None:
        self.deadline = time.monotonic() + seconds
        self.floor = floor
        self.counted = 0
        self.cut = False

    def add(self, matches: int) -> None:
        self.counted += matches

    def spent(self) -> bool:
        if not self.cut and self.counted >= self.floor and time.monotonic() >= self.deadline:
            self.cut = True
        return self.cut


_current: ContextVar[CountBudget | None] = ContextVar("count_budget", default=None)


def current_budget() -> CountBudget | None:
    return _current.get()


@contextmanager
def count_budget(seconds: float, floor: int = 0) -> Iterator[CountBudget]:
    """Counts made inside (on this thread) stop once ``seconds`` are spent and ``floor`` matches counted."""
    budget = CountBudget(seconds, floor)
    token = _current.set(budget)
    try:
        yield budget
    finally:
        _current.reset(token)
