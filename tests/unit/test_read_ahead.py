"""Ordered read-ahead: pages come out in source order, errors surface in order, an early stop joins the threads."""

from __future__ import annotations

import threading
import time

import pytest

from export_service.dal.read_ahead import read_ahead

pytestmark = pytest.mark.unit


def _source(name: str, pages: int, delay: float = 0.0):
    def pages_of() -> list[str]:
        out = []
        for index in range(pages):
            time.sleep(delay)
            out.append(f"{name}{index}")
        return out

    return pages_of


@pytest.mark.parametrize("prefetch", [1, 2, 3, 8])
def test_pages_come_out_in_source_order_whatever_the_timing(prefetch):
    # Given sources where later ones finish first
    sources = [_source("a", 3, 0.02), _source("b", 2, 0.0), _source("c", 4, 0.01), _source("d", 0), _source("e", 1)]
    # Then the output is exactly the sources concatenated in order
    assert list(read_ahead(sources, prefetch)) == ["a0", "a1", "a2", "b0", "b1", "c0", "c1", "c2", "c3", "e0"]


def test_no_more_than_prefetch_sources_run_at_once():
    running, peak, lock = 0, 0, threading.Lock()

    def source():
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.02)
        with lock:
            running -= 1
        yield "page"

    assert len(list(read_ahead([source] * 8, 3))) == 8
    assert peak <= 3


def test_an_error_is_raised_at_its_sources_turn():
    def broken():
        yield "x0"
        raise RuntimeError("throttled")

    pages = read_ahead([_source("a", 2), broken, _source("c", 2)], 3)
    assert [next(pages), next(pages), next(pages)] == ["a0", "a1", "x0"]
    with pytest.raises(RuntimeError, match="throttled"):
        next(pages)


def test_stopping_early_stops_the_producers():
    produced = []

    def endless(name: str):
        def pages():
            for index in range(10_000):
                produced.append(name)
                yield f"{name}{index}"

        return pages

    before = threading.active_count()
    pages = read_ahead([endless("a"), endless("b"), endless("c")], 3)
    assert next(pages) == "a0"
    pages.close()  # the consumer gives up (e.g. the export is over the limit)
    assert threading.active_count() == before
    assert len(produced) < 100  # producers were stopped, not run to the end


def test_short_sources_ahead_are_read_while_the_consumer_is_still_on_an_earlier_one():
    # Given a first source the consumer is slow to take and three one-page sources after it, with two threads
    done = []

    def first():
        yield "a0"
        yield "a1"
        done.append("a")

    def short(name: str):
        def pages():
            yield f"{name}0"
            done.append(name)

        return pages

    pages = read_ahead([first, short("b"), short("c"), short("d"), short("e")], 2)
    assert next(pages) == "a0"
    deadline = time.monotonic() + 10  # a loaded machine may hold the threads back for a while
    while len(done) < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)
    # Then the threads have read a to the end and b, c and d (four sources started, one page of each waiting for
    # the consumer), and not e: it starts when the consumer is done with a
    assert sorted(done) == ["a", "b", "c", "d"]
    assert list(pages) == ["a1", "b0", "c0", "d0", "e0"]


def test_a_source_ahead_of_the_consumer_holds_at_most_one_page_besides_the_one_its_producer_holds():
    produced = []

    def first():
        yield "a0"
        yield "a1"

    def long():
        for index in range(10):
            produced.append(index)
            yield f"b{index}"

    pages = read_ahead([first, long], 2)
    assert next(pages) == "a0"
    deadline = time.monotonic() + 10  # the consumer dwells on a0 while b's producer runs ahead
    while len(produced) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)
    assert len(produced) == 2  # b0 queued, b1 held by its blocked producer: no more
    assert list(pages) == ["a1"] + [f"b{index}" for index in range(10)]
