"""The runner's read-ahead: the collector fetches the next batch in a thread while the runner
stores the current one; order, errors, early stops and the job's deadline are kept."""

from __future__ import annotations

import contextlib
import threading
import time

import pytest

from radpulse.collectors.runner import read_ahead
from radpulse.collectors.runs import JOB_DEADLINE
from radpulse.records import Batch


def _batches(n: int, log: list, *, fail_after: int | None = None):  # type: ignore[no-untyped-def]
    try:
        for i in range(n):
            if fail_after is not None and i == fail_after:
                raise RuntimeError(f"page {i} failed")
            log.append(("made", i, threading.current_thread().name))
            yield Batch(cursor={"page": i}, fetched=1)
    finally:
        log.append(("closed", threading.current_thread().name))


def test_batches_come_in_order_and_are_made_in_another_thread():
    log: list = []
    got = [b.cursor["page"] for b in read_ahead(_batches(20, log))]
    assert got == list(range(20))
    assert {who for *_, who in log} == {"radpulse-read-ahead"}
    assert log[-1] == ("closed", "radpulse-read-ahead")


def test_the_next_batch_is_made_while_the_current_one_is_stored_and_no_more():
    log: list = []
    ahead = read_ahead(_batches(5, log), depth=1)
    first = next(ahead)
    deadline = time.monotonic() + 5
    while len([e for e in log if e[0] == "made"]) < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # give it time to run further ahead, which it must not
    # one in hand (the caller's), one waiting in the queue, one made and waiting to be put
    assert first.cursor == {"page": 0} and len([e for e in log if e[0] == "made"]) == 3
    assert [b.cursor["page"] for b in ahead] == [1, 2, 3, 4]


def test_a_collector_error_comes_after_the_batches_it_yielded_before_it():
    log: list = []
    got = []
    with pytest.raises(RuntimeError, match="page 3 failed"):
        for b in read_ahead(_batches(10, log, fail_after=3)):
            got.append(b.cursor["page"])
    assert got == [0, 1, 2]
    assert ("closed", "radpulse-read-ahead") in log


def test_stopping_early_closes_the_collector_in_its_thread_and_takes_nothing_more():
    log: list = []
    with pytest.raises(KeyError), contextlib.closing(read_ahead(_batches(1000, log))) as ahead:  # as consume does
        for b in ahead:
            if b.cursor["page"] == 2:
                raise KeyError("the write failed")
    assert log[-1] == ("closed", "radpulse-read-ahead")
    assert len([e for e in log if e[0] == "made"]) <= 5  # not the 1,000 the collector could give


def test_the_collector_sees_the_jobs_deadline():
    seen = []

    def collector():  # type: ignore[no-untyped-def]
        seen.append(JOB_DEADLINE.get())
        yield Batch(fetched=0)

    token = JOB_DEADLINE.set(12345.0)
    try:
        assert len(list(read_ahead(collector()))) == 1
    finally:
        JOB_DEADLINE.reset(token)
    assert seen == [12345.0]
