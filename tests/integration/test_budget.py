"""Several OS processes share one history budget and hammer the simulator's history port.

The simulator throttles as DTN does (50 requests/s, bursts to 75) and counts every request it
answers. Each worker process sends its requests through ``HistoryClient(budget=...)`` with no
retries, so every throttle reply surfaces as ``Throttled`` and is counted. (The simulator's own
request count is bumped from several threads without a lock and may miss one when replies race,
so it bounds the rate but is not compared for equality.)
"""

from __future__ import annotations

import asyncio
import multiprocessing
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest
import redis

from oss20.backfill.budget import FileBudget, LocalBudget, RedisBudget, RequestBudget
from oss20.iqfeed.client import Endpoint, HistoryClient, Throttled
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from tests.conftest import endpoint, simulator

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"
RATE, BURST = 50.0, 50  # the defaults open_budget gives; the simulator allows 50/s, bursts to 75
PROCESSES = 4
REQUESTS = 60  # per process: 240 in all, about 4 s at 50/s
SYMBOL = "AAPL"


@dataclass(frozen=True)
class Tally:
    """One worker's requests: how many were answered, how many throttled, and when they ran."""

    answered: int
    throttled: int
    began: float
    ended: float


def hammer(
    budget: RequestBudget | None, where: Endpoint, go: Barrier, results: multiprocessing.Queue
) -> None:
    """A worker process: REQUESTS history requests at once, through ``budget``.

    ``None`` stands for no shared budget: the process paces itself alone at the full rate.
    """
    results.put(asyncio.run(_hammer(budget or LocalBudget(RATE, BURST), where, go)))


async def _hammer(budget: RequestBudget, where: Endpoint, go: Barrier) -> Tally:
    async with HistoryClient(where, connections=4, retries=0, budget=budget) as history:
        go.wait(timeout=60)  # every process starts together, once all have imported

        async def one() -> bool:
            try:
                await history.last_ticks(SYMBOL, 1)
            except Throttled:
                return False
            return True

        began = time.time()
        outcomes = await asyncio.gather(*(one() for _ in range(REQUESTS)))
        ended = time.time()
    return Tally(sum(outcomes), len(outcomes) - sum(outcomes), began, ended)


@pytest.fixture
def sim(market: Market) -> Iterator[Simulator]:
    """A simulator with DTN's history limits, the symbol's day already built."""
    server = simulator(market)
    with server.running():

        async def warm() -> None:
            async with HistoryClient(endpoint(server)) as history:
                await history.last_ticks(SYMBOL, 1)

        asyncio.run(warm())
        yield server


def run_workers(sim: Simulator, budget: RequestBudget | None) -> tuple[list[Tally], int, int, float]:
    """Start PROCESSES spawned workers sharing ``budget``; their tallies, the simulator's counts of
    their requests and of its throttle replies, and the seconds from the first start to the last end."""
    ctx = multiprocessing.get_context("spawn")
    go = ctx.Barrier(PROCESSES + 1)
    results: multiprocessing.Queue = ctx.Queue()
    workers = [
        ctx.Process(target=hammer, args=(budget, endpoint(sim), go, results)) for _ in range(PROCESSES)
    ]
    for worker in workers:
        worker.start()
    before, throttled_before = sim.history_requests, sim.history_throttled  # workers wait at the barrier
    go.wait(timeout=60)
    tallies = [results.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=10)
        assert worker.exitcode == 0
    counted = sim.history_requests - before
    refused = sim.history_throttled - throttled_before
    elapsed = max(t.ended for t in tallies) - min(t.began for t in tallies)
    return tallies, counted, refused, elapsed


def assert_within_budget(tallies: list[Tally], counted: int, refused: int, elapsed: float) -> None:
    total = PROCESSES * REQUESTS
    assert refused == 0
    assert sum(t.throttled for t in tallies) == 0, tallies
    assert sum(t.answered for t in tallies) == total
    assert counted <= RATE * elapsed + BURST, f"{counted} requests in {elapsed:.2f} s"
    print(f"{counted} requests in {elapsed:.2f} s: {counted / elapsed:.1f}/s under a {RATE:g}/s budget")


def test_processes_sharing_a_file_budget_are_never_throttled(sim: Simulator, tmp_path: Path) -> None:
    budget = FileBudget(tmp_path / "history-budget", RATE, BURST)
    assert_within_budget(*run_workers(sim, budget))


def test_processes_sharing_a_redis_budget_are_never_throttled(sim: Simulator) -> None:
    key = f"oss20:test:history-budget:{uuid.uuid4().hex}"
    budget = RedisBudget(REDIS_URL, key, RATE, BURST)
    try:
        assert_within_budget(*run_workers(sim, budget))
    finally:
        budget.close()
        redis.Redis.from_url(REDIS_URL).delete(key)


def test_processes_pacing_alone_at_the_full_rate_are_throttled(sim: Simulator) -> None:
    tallies, counted, refused, elapsed = run_workers(sim, None)
    throttled = sum(t.throttled for t in tallies)
    assert refused > 0 and throttled > 0, (
        f"{counted / elapsed:.0f}/s from four processes at 50/s each, none throttled"
    )
    print(f"{counted} requests in {elapsed:.2f} s ({counted / elapsed:.1f}/s): {throttled} throttled")


def test_a_throttled_request_goes_back_through_the_budget(market: Market) -> None:
    """A tight simulator throttles; every retry takes a slot again, so no request skips the budget."""

    class Counted(LocalBudget):
        """A local budget that also counts the slots it hands out."""

        taken = 0

        def reserve(self) -> float:
            self.taken += 1
            return super().reserve()

    server = simulator(market, history_rate=20.0, history_burst=2)
    budget = Counted(rate=1000.0, burst=1000)
    with server.running():

        async def twelve() -> None:
            async with HistoryClient(endpoint(server), retries=10, budget=budget) as history:
                await asyncio.gather(*(history.last_ticks(SYMBOL, 1) for _ in range(12)))

        asyncio.run(twelve())
    # more requests than the twelve reached the simulator (retries), and each took a slot
    assert budget.taken >= server.history_requests > 12
