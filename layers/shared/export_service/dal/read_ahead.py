"""Ordered read-ahead: run several page sources on threads, hand their pages out strictly in source order."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_WINDOW = 2  # sources started ahead of the one being consumed, per thread: a thread done early starts the next
_QUEUED_PAGES = 1  # per started source. Pages held: at most prefetch x _WINDOW queued, plus the page each blocked
# producer holds: 3 x prefetch, as with two queued pages per source and one source per thread before


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(sources: Sequence[Callable[[], Iterable[T]]], prefetch: int) -> Iterator[T]:
    """Yield every item of ``sources[0]()``, then of ``sources[1]()``, ..., running up to ``prefetch`` at once.

    Up to ``prefetch * _WINDOW`` sources are started ahead, in order, on ``prefetch`` threads: a thread that has
    read a short source (a day of a few hundred records: one page) goes on to the next instead of waiting until the
    consumer reaches it; each started source holds at most ``_QUEUED_PAGES`` pages the consumer has not taken, so
    the pages in memory stay bounded whatever the sources' sizes. The sources start in order (the executor's queue
    is FIFO), so the one the consumer waits for is always running or done: no source can starve it.

    An error in a source is raised to the consumer at that source's turn; when the consumer stops early (or
    fails), the producers are told to stop and the threads are joined before this generator returns."""
    if prefetch <= 1 or len(sources) <= 1:
        for source in sources:
            yield from source()
        return
    stop = threading.Event()
    # Each source's queue is unbounded, but a page enters it only with one of the source's _QUEUED_PAGES slots,
    # given back when the consumer takes the page; the end marker needs none (a one-page source frees its thread).
    queues: list[queue.SimpleQueue[object]] = [queue.SimpleQueue() for _ in sources]
    slots = [threading.Semaphore(_QUEUED_PAGES) for _ in sources]

    def put_page(index: int, item: object) -> bool:
        while not stop.is_set():
            if slots[index].acquire(timeout=0.05):
                queues[index].put(item)
                return True
        return False

    def produce(index: int) -> None:
        try:
            for item in sources[index]():
                if not put_page(index, item):
                    return
            queues[index].put(_DONE)
        except BaseException as error:  # handed to the consumer, which raises it in order
            queues[index].put(_Failure(error))

    window = prefetch * _WINDOW
    executor = ThreadPoolExecutor(max_workers=prefetch, thread_name_prefix="read-ahead")
    try:
        for index in range(min(window, len(sources))):
            executor.submit(produce, index)
        for index in range(len(sources)):
            while True:
                item = queues[index].get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.error
                slots[index].release()
                yield item  # type: ignore[misc]
            if index + window < len(sources):
                executor.submit(produce, index + window)
    finally:
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)
