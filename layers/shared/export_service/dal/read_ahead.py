"""Ordered read-ahead: run several page sources on threads, hand their pages out strictly in source order."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
_DONE = object()
_QUEUED_PAGES = 2  # per source in flight: bounds memory to prefetch x 2 pages


class _Failure:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(sources: Sequence[Callable[[], Iterable[T]]], prefetch: int) -> Iterator[T]:
    """Yield every item of ``sources[0]()``, then of ``sources[1]()``, ..., running up to ``prefetch`` at once.

    An error in a source is raised to the consumer at that source's turn; when the consumer stops early (or
    fails), the producers are told to stop and the threads are joined before this generator returns."""
    if prefetch <= 1 or len(sources) <= 1:
        for source in sources:
            yield from source()
        return
    stop = threading.Event()
    queues: list[queue.Queue[object]] = [queue.Queue(maxsize=_QUEUED_PAGES) for _ in sources]

    def put(target: queue.Queue[object], item: object) -> bool:
        while not stop.is_set():
            try:
                target.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False

    def produce(index: int) -> None:
        try:
            for item in sources[index]():
                if not put(queues[index], item):
                    return
            put(queues[index], _DONE)
        except BaseException as error:  # handed to the consumer, which raises it in order
            put(queues[index], _Failure(error))

    executor = ThreadPoolExecutor(max_workers=prefetch, thread_name_prefix="read-ahead")
    try:
        for index in range(min(prefetch, len(sources))):
            executor.submit(produce, index)
        for index in range(len(sources)):
            while True:
                item = queues[index].get()
                if item is _DONE:
                    break
                if isinstance(item, _Failure):
                    raise item.error
                yield item  # type: ignore[misc]
            if index + prefetch < len(sources):
                executor.submit(produce, index + prefetch)
    finally:
        stop.set()
        executor.shutdown(wait=True, cancel_futures=True)
