"""Backfill's Prometheus metrics after a real backfill against the simulator: chunks planned, done and
failed, ticks stored, history requests and throttle replies equal what the run did and what the
simulator counted, and the budget gauge shows the share in use while the run goes and none after."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest

from oss20.backfill.executor import ChunkOutcome
from oss20.backfill.run import plan_backfill, run_backfill
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.metrics import BackfillMetrics
from oss20.storage.arctic import TickStore
from tests.conftest import simulator
from tests.integration.test_gaps import FIRST, LAST, NOW, SESSIONS, settings_for, store_with_cuts

pytestmark = pytest.mark.integration
SYMBOLS = ["AAPL", "KO"]


@pytest.fixture
def strict_sim(market: Market) -> Iterator[Simulator]:
    """A finished day whose feed throttles past 20 history requests a second (bursts of 3), well
    under the 50 a second the backfill's budget allows: the run meets throttle replies."""
    sim = simulator(market, start=dt.time(20, 0), history_rate=20.0, history_burst=3)
    with sim.running():
        yield sim


def test_counters_and_gauge_after_a_real_backfill(
    strict_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings = settings_for(strict_sim, tmp_path)
    store_with_cuts(market, settings)
    store = TickStore(settings.resolved_arctic_uri)
    before = len(store.read_range(SYMBOLS, FIRST, LAST))
    truth = sum(len(market.ticks(s, d)) for s in SYMBOLS for d in SESSIONS)
    chunks = plan_backfill(SYMBOLS, FIRST, LAST, settings, NOW, extended_hours=True)
    metrics = BackfillMetrics()
    shares: list[float] = []

    def watch(outcome: ChunkOutcome) -> None:
        shares.append(metrics.value("oss20_backfill_budget_in_use"))

    requests, throttled = strict_sim.history_requests, strict_sim.history_throttled
    outcomes = run_backfill(chunks, settings, concurrency=8, on_done=watch, metrics=metrics)

    done = [o for o in outcomes if o.status == "done"]
    assert len(done) == len(chunks), [o.error for o in outcomes if o.status == "failed"]
    assert metrics.value("oss20_backfill_chunks_planned_total") == len(chunks)
    assert metrics.value("oss20_backfill_chunks_done_total") == len(chunks)
    assert metrics.value("oss20_backfill_chunks_failed_total") == 0
    assert (
        metrics.value("oss20_backfill_ticks_stored_total")
        == truth - before
        == len(store.read_range(SYMBOLS, FIRST, LAST)) - before
    )
    sent = strict_sim.history_requests - requests
    assert metrics.value("oss20_backfill_history_requests_total") == sent == sum(o.requests for o in outcomes)
    throttles = strict_sim.history_throttled - throttled
    assert metrics.value("oss20_backfill_throttles_total") == throttles > 0
    assert sent == len(chunks) + throttles  # one request a chunk, and one more after each throttle
    assert 0 < max(shares) <= 1.0
    assert metrics.value("oss20_backfill_budget_in_use") == 0.0


def test_a_failed_chunk_is_counted(finished_sim: Simulator, market: Market, tmp_path: Path) -> None:
    settings = settings_for(finished_sim, tmp_path)
    store_with_cuts(market, settings)
    (chunk, *_) = plan_backfill(SYMBOLS, FIRST, LAST, settings, NOW, extended_hours=True)
    settings.lookup_port = 1  # nothing listens there: the chunk fails to connect
    metrics = BackfillMetrics()
    (outcome,) = run_backfill([chunk], settings, metrics=metrics)
    assert outcome.status == "failed"
    assert metrics.value("oss20_backfill_chunks_planned_total") == 1
    assert metrics.value("oss20_backfill_chunks_failed_total") == 1
    assert metrics.value("oss20_backfill_chunks_done_total") == 0
    assert metrics.value("oss20_backfill_ticks_stored_total") == 0
