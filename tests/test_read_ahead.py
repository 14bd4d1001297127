"""A generator run ahead in a thread (``data/read_ahead.py``): the same items in the same
order, the generator's exception raised at its place, at most ``depth`` items computed ahead
of the consumer, and the thread (and the generator) ended when the consumer stops early."""

from __future__ import annotations

import threading
import time

import pytest

from mpidl.data.read_ahead import read_ahead


def test_same_items_in_order():
    assert list(read_ahead(iter(range(1000)), depth=3)) == list(range(1000))
    assert list(read_ahead(iter([]))) == []


def test_exception_comes_where_the_item_would():
    def items():
        yield 1
        yield 2
        raise ValueError("bad block")

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for x in read_ahead(items()):
            got.append(x)
    assert got == [1, 2]


def test_bounded_lead_and_early_stop():
    made, closed = [], []

    def items():
        try:
            for i in range(100):
                made.append(i)
                yield i
        finally:
            closed.append(True)

    before = threading.active_count()
    gen = read_ahead(items(), depth=2)
    assert next(gen) == 0
    time.sleep(0.3)      # the thread runs ahead as far as it may
    # item 0 taken, 2 waiting in the queue, 1 made and blocked on the full queue
    assert len(made) == 4
    gen.close()
    assert closed == [True] and threading.active_count() == before
