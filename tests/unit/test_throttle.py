"""The page throttle sends the first change after a quiet spell at once and batches the rest."""

from __future__ import annotations

import itertools
import threading

import pytest

from app.throttle import Throttle


def test_the_first_change_goes_at_once() -> None:
    assert Throttle(0.1).change(5.0) == 5.0


def test_changes_while_a_send_is_due_join_it() -> None:
    throttle = Throttle(0.1)
    assert throttle.change(5.0) == 5.0
    assert throttle.change(5.01) is None
    assert throttle.change(5.02) is None


def test_a_change_soon_after_a_send_waits_for_the_interval() -> None:
    throttle = Throttle(0.1)
    throttle.change(5.0)
    throttle.sent(5.0)
    assert throttle.change(5.03) == pytest.approx(5.1)
    assert throttle.change(5.05) is None
    throttle.sent(5.1)
    assert throttle.change(5.3) == 5.3  # quiet for longer than the interval: at once again


def test_a_steady_stream_is_sent_once_per_interval() -> None:
    throttle, sends = Throttle(0.1), []
    due: float | None = None
    for step in range(100):  # a change every 10 ms for 1 s; a send runs as soon as it is due
        now = step * 0.01
        at = throttle.change(now)
        due = at if at is not None else due
        if due is not None and due <= now + 1e-9:
            throttle.sent(now)
            sends.append(now)
            due = None
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert sends[0] == 0.0 and len(sends) == 10
    assert all(gap == pytest.approx(0.1) for gap in gaps)


def test_changes_from_many_threads_schedule_one_send() -> None:
    throttle = Throttle(0.1)
    due: list[float | None] = []
    workers = [threading.Thread(target=lambda: due.append(throttle.change(1.0))) for _ in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert sorted(due, key=lambda d: d is None)[0] == 1.0 and due.count(None) == 15


def test_a_negative_interval_is_refused() -> None:
    with pytest.raises(ValueError, match="every=-1"):
        Throttle(-1)
