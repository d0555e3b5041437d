"""The page throttle sends the first change after a quiet spell at once and later ones right after a
change once the period has passed, so what it sends is as fresh as it can be."""

from __future__ import annotations

import itertools
import threading

import pytest

from app.throttle import Throttle


def test_the_first_change_goes_at_once() -> None:
    throttle = Throttle(0.1, 0.03)
    assert throttle.change(5.0) == 5.0
    assert throttle.take(5.0)


def test_changes_while_a_send_is_due_join_it() -> None:
    throttle = Throttle(0.1, 0.03)
    assert throttle.change(5.0) == 5.0
    assert throttle.change(5.01) is None
    assert throttle.take(5.02)
    assert not throttle.take(5.02)  # taken once


def test_a_change_soon_after_a_send_waits_for_a_later_change_or_the_grace() -> None:
    throttle = Throttle(0.1, 0.03)
    throttle.change(5.0)
    throttle.take(5.0)
    assert throttle.change(5.03) == pytest.approx(5.13)  # held: sent at 5.13 unless a later change comes
    assert throttle.change(5.06) is None
    assert not throttle.take(5.06)
    assert throttle.change(5.11) == 5.11  # the period has passed: this change goes at once
    assert throttle.take(5.11)
    assert not throttle.take(5.13)  # the held change's timer finds it gone with the later one


def test_a_held_change_goes_after_the_grace_when_no_later_one_comes() -> None:
    throttle = Throttle(0.1, 0.03)
    throttle.change(5.0)
    throttle.take(5.0)
    due = throttle.change(5.05)
    assert due == pytest.approx(5.13)
    assert not throttle.take(5.12)
    assert throttle.take(5.1295)  # a timer firing a little early still finds it due
    assert throttle.change(5.4) == 5.4  # quiet for longer than the period: at once again


def test_a_steady_stream_is_sent_once_per_period_right_after_a_change() -> None:
    throttle, sends = Throttle(0.1, 0.03), []
    due: float | None = None
    for step in range(100):  # a change every 30 ms for 3 s; a send runs as soon as it is due
        now = step * 0.03
        at = throttle.change(now)
        due = at if at is not None else due
        if due is not None and due <= now + 1e-9 and throttle.take(now):
            sends.append(now)
            due = None
    assert sends[0] == 0.0 and len(sends) == 25  # on every 4th change: 120 ms apart, none by the timer
    assert all(b - a == pytest.approx(0.12) for a, b in itertools.pairwise(sends))


def test_changes_from_many_threads_schedule_one_send() -> None:
    throttle = Throttle(0.1, 0.03)
    due: list[float | None] = []
    workers = [threading.Thread(target=lambda: due.append(throttle.change(1.0))) for _ in range(16)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert due.count(1.0) == 1 and due.count(None) == 15


def test_negative_times_are_refused() -> None:
    with pytest.raises(ValueError, match="every=-1"):
        Throttle(-1, 0.03)
    with pytest.raises(ValueError, match=r"grace=-0\.1"):
        Throttle(0.1, -0.1)
