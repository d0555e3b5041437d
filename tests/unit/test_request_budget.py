"""The history-request budget: the token bucket's arithmetic, and the local and file budgets."""

from __future__ import annotations

import asyncio
import itertools
import pickle
import struct
import threading
import time
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oss20.backfill.budget import (
    BUDGET_FILE,
    REDIS_KEY,
    FileBudget,
    LocalBudget,
    RedisBudget,
    open_budget,
    reserve,
)
from oss20.config import Settings

EPS = 1e-9


def send_times(arrivals: list[float], rate: float, burst: int) -> list[float]:
    """When each request, asking at ``arrivals`` (in order), may go out."""
    tat, sends = 0.0, []
    for now in arrivals:
        tat, wait = reserve(tat, now, rate, burst)
        sends.append(now + wait)
    return sends


def counted_send_times(arrivals: list[float], rate: float, burst: int) -> list[float]:
    """The same as ``send_times`` from a bucket of counted tokens (negative: slots owed)."""
    tokens, last, sends = float(burst), arrivals[0], []
    for now in arrivals:
        tokens = min(float(burst), tokens + (now - last) * rate) - 1.0
        last = now
        sends.append(now + max(0.0, -tokens) / rate)
    return sends


def most_in_window(sends: list[float], width: float) -> int:
    """The most sends inside any closed window of ``width`` seconds."""
    ordered = sorted(sends)
    j, best = 0, 0
    for i, start in enumerate(ordered):
        j = max(j, i)
        while j + 1 < len(ordered) and ordered[j + 1] <= start + width + EPS:
            j += 1
        best = max(best, j - i + 1)
    return best


def test_a_full_bucket_lets_burst_go_at_once_then_one_per_interval() -> None:
    sends = send_times([100.0] * 8, rate=10.0, burst=3)
    assert sends[:3] == [100.0, 100.0, 100.0]
    assert sends[3:] == pytest.approx([100.1, 100.2, 100.3, 100.4, 100.5])


def test_idle_time_refills_up_to_burst_and_no_more() -> None:
    tat = 0.0
    for _ in range(3):
        tat, _ = reserve(tat, 100.0, 10.0, 3)
    # an hour idle: three go at once again, the fourth waits a whole interval
    waits = []
    for _ in range(4):
        tat, wait = reserve(tat, 3700.0, 10.0, 3)
        waits.append(wait)
    assert waits == pytest.approx([0.0, 0.0, 0.0, 0.1])


def test_a_slot_is_never_handed_out_twice() -> None:
    sends = send_times([5.0] * 50, rate=50.0, burst=1)
    gaps = [b - a for a, b in itertools.pairwise(sends)]
    assert min(gaps) == pytest.approx(0.02)


@given(
    rate=st.floats(1.0, 200.0),
    burst=st.integers(1, 80),
    steps=st.lists(st.floats(0.0, 0.2), min_size=1, max_size=300),
)
def test_any_window_holds_at_most_burst_plus_rate_times_its_length(
    rate: float, burst: int, steps: list[float]
) -> None:
    arrivals = [sum(steps[: i + 1]) for i in range(len(steps))]
    sends = send_times(arrivals, rate, burst)
    assert all(s >= a for s, a in zip(sends, arrivals, strict=True))
    for width in (0.0, 0.5 / rate, 1.0, 2.5):
        assert most_in_window(sends, width) <= burst + rate * width + EPS
    # and nothing is lost or doubled: the same send times as the textbook token count
    assert sends == pytest.approx(counted_send_times(arrivals, rate, burst), abs=1e-6)


def test_local_budget_is_shared_by_threads_without_losing_or_doubling_slots() -> None:
    budget = LocalBudget(rate=200.0, burst=10)
    sends: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            budget.acquire_blocking()
            with lock:
                sends.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    assert len(sends) == 200
    assert elapsed >= (200 - 10) / 200.0  # 0.95 s: the rate held
    assert elapsed < 0.95 + 1.0  # slots were not wasted (generous: the machine may be busy)


def test_local_budget_paces_an_event_loop() -> None:
    budget = LocalBudget(rate=100.0, burst=5)

    async def twenty_five() -> None:
        await asyncio.gather(*(budget.acquire() for _ in range(25)))

    began = time.monotonic()
    asyncio.run(twenty_five())
    assert 0.2 - 0.01 <= time.monotonic() - began < 0.2 + 1.0


def test_file_budgets_on_one_path_share_one_bucket(tmp_path: Path) -> None:
    path = tmp_path / "budget"
    first, second = FileBudget(path, rate=5.0, burst=4), FileBudget(path, rate=5.0, burst=4)
    sends = [time.monotonic() + budget.reserve() for _ in range(6) for budget in (first, second)]
    # the 12 slots are one sequence across both: four at once, then one every 200 ms
    assert sends[4:] == pytest.approx([sends[0] + 0.2 * k for k in range(1, 9)], abs=0.01)
    assert max(sends[:4]) - sends[0] < 0.1


def test_file_budget_forgets_a_state_from_an_earlier_boot(tmp_path: Path) -> None:
    path = tmp_path / "budget"
    later = time.monotonic() + 10_000.0  # monotonic time that has not happened in this boot
    path.write_bytes(struct.pack("<dd", later + 60.0, later))
    assert FileBudget(path, rate=50.0, burst=1).reserve() == 0.0


def test_file_budget_pickles_by_path(tmp_path: Path) -> None:
    budget = FileBudget(tmp_path / "sub" / "budget", rate=40.0, burst=40)
    copy = pickle.loads(pickle.dumps(budget))
    assert (copy.path, copy.rate, copy.burst) == (budget.path, 40.0, 40)
    assert repr(copy) == repr(budget)


def test_bad_rate_or_burst_say_what_would_be_right(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="rate above 0 requests/s, got 0"):
        LocalBudget(rate=0, burst=1)
    with pytest.raises(ValueError, match="burst of at least 1 request, got 0"):
        FileBudget(tmp_path / "b", rate=50.0, burst=0)


def test_history_rate_setting_reads_the_environment() -> None:
    assert Settings.from_env({}).history_rate == 50.0
    assert Settings.from_env({"OSS20_HISTORY_RATE": "37.5"}).history_rate == 37.5
    with pytest.raises(ValueError, match="OSS20_HISTORY_RATE='fast' is not a number"):
        Settings.from_env({"OSS20_HISTORY_RATE": "fast"})
    with pytest.raises(ValueError, match="greater than 0"):
        Settings.from_env({"OSS20_HISTORY_RATE": "0"})


def test_open_budget_uses_the_data_dir_without_redis_and_redis_with_it(tmp_path: Path) -> None:
    local = open_budget(Settings.from_env({"OSS20_DATA_DIR": str(tmp_path), "OSS20_HISTORY_RATE": "30"}))
    assert isinstance(local, FileBudget)
    assert (local.path, local.rate, local.burst) == (tmp_path / BUDGET_FILE, 30.0, 30)

    shared = open_budget(Settings.from_env({"OSS20_REDIS_URL": "redis://127.0.0.1:6379/0"}))
    assert isinstance(shared, RedisBudget)
    assert (shared.key, shared.rate, shared.burst) == (REDIS_KEY, 50.0, 50)
    shared.close()
