"""The live collector in-process against the simulator: what it stores equals the market's ground truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path

import pandas as pd
import pytest
import redis

from oss20.bar_engine import BarSpec, build_bars
from oss20.bus import RedisBus, TickEvent
from oss20.collection import Collector, CollectorOptions
from oss20.config import Settings
from oss20.iqfeed.faults import FaultPlan
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.catalog import open_catalog
from oss20.storage.journal import Journal
from tests.conftest import DAY, endpoint, simulator
from tests.frames import canonical
from tests.servers import Proxy, RedisServer, postgres_schema

pytestmark = pytest.mark.integration
SYMBOLS = ("AAPL", "MSFT", "KO")


def ground_truth(market: Market, symbols: tuple[str, ...] = SYMBOLS) -> pd.DataFrame:
    return canonical(pd.concat([market.ticks(s, DAY) for s in symbols], ignore_index=True))


def settings_for(tmp_path: Path, **values: object) -> Settings:
    return Settings(data_dir=str(tmp_path), **values)


async def collect_until(
    collector: Collector,
    done: Callable[[], bool],
    meanwhile: Awaitable[None] | None = None,
    timeout: float = 60.0,
) -> None:
    """Run the collector (and ``meanwhile``) until ``done()`` holds, or fail after ``timeout`` seconds."""
    run = asyncio.create_task(collector.run())
    try:
        async with asyncio.timeout(timeout):
            if meanwhile is not None:
                await meanwhile
            while not done():
                await asyncio.sleep(0.2)
    finally:
        collector.stop()
        await run


def stored_everything(collector: Collector, expected: pd.DataFrame) -> Callable[[], bool]:
    counts = expected.groupby("symbol").size().to_dict()
    return lambda: all(collector.store.count(s, DAY) >= n for s, n in counts.items())


def run_collector(
    sim: Simulator,
    settings: Settings,
    expected: pd.DataFrame,
    meanwhile: Callable[[Collector], Awaitable[None]] | None = None,
    **options: object,
) -> Collector:
    """Collect SYMBOLS from ``sim`` until all of ``expected`` is stored, running ``meanwhile`` alongside."""
    options = {"flush_every": 0.2, "stall_after": 2.0, **options}
    collector = Collector(SYMBOLS, settings, CollectorOptions(**options), endpoint(sim))  # type: ignore[arg-type]
    side = meanwhile(collector) if meanwhile is not None else None
    asyncio.run(collect_until(collector, stored_everything(collector, expected), side))
    return collector


def test_joining_mid_day_stores_the_whole_day_once(market: Market, tmp_path: Path) -> None:
    sim = simulator(market, speed=0, start=dt.time(12, 0), firehose_step=30.0)
    expected = ground_truth(market)
    with sim.running():
        collector = run_collector(sim, settings_for(tmp_path), expected, metrics_port=0)
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{collector.metrics_port}/metrics").read().decode()
    stored = canonical(collector.store.read_range(SYMBOLS, DAY, DAY))
    pd.testing.assert_frame_equal(stored, expected)
    assert collector.counts.history > 0, "the morning came from tick history"
    assert collector.counts.stored == len(expected)
    assert f"oss20_ticks_stored_total {float(len(expected))}" in metrics
    assert "oss20_batch_latency_seconds_bucket" in metrics
    assert all(collector.store.segments(s, DAY) == 1 for s in SYMBOLS), "compacted on stop"
    with Journal(tmp_path / "journal") as journal:
        assert list(journal.pending()) == [] and journal.checkpointed == journal.last_seq > 0
    task = open_catalog(collector.settings.resolved_catalog_url).task(collector.reporter.task_id)
    assert task is not None and task.status == "stopped"
    assert task.counters["stored"] == len(expected)
    collector.cache.flush(2.0)
    assert collector.cache.collection(task.task_id)["status"] == "stopped"
    assert collector.cache.latest("KO")["symbol"] == "KO"
    live = collector.bar_store.read(SYMBOLS, BarSpec.parse("1min"), DAY, DAY)
    batch = build_bars(pd.concat([market.ticks(s, DAY) for s in SYMBOLS]), "1min")
    assert len(live) > 100 and live["timestamp"].min() >= pd.Timestamp(f"{DAY} 12:00", tz="America/New_York")
    same = batch.merge(live[["symbol", "timestamp"]], on=["symbol", "timestamp"])
    pd.testing.assert_frame_equal(same, live.sort_values(["symbol", "timestamp"]).reset_index(drop=True))
    assert len(collector.cache.bars("KO", "1min")) > 0


def test_drops_and_garbled_lines_lose_nothing_and_keep_the_evidence(market: Market, tmp_path: Path) -> None:
    faults = FaultPlan(duplicate_rate=0.01, bad_price_rate=0.005, malformed_rate=0.005, drop_every=1.5)
    sim = simulator(market, speed=2400, start=dt.time(15, 0), faults=faults)
    expected = ground_truth(market)
    with sim.running():
        collector = run_collector(sim, settings_for(tmp_path), expected)
    stored = canonical(collector.store.read_range(SYMBOLS, DAY, DAY))
    pd.testing.assert_frame_equal(stored, expected)
    assert collector.stream.stats.reconnects >= 2
    kept = [collector.store.quarantined(s, DAY) for s in SYMBOLS]
    reasons = pd.concat([k for k in kept if len(k)])["reason"].value_counts()
    assert reasons.get("duplicate", 0) > 0 and reasons.get("price_range", 0) > 0
    received_on = pd.Timestamp.now(tz="America/New_York").date()
    assert len(collector.store.malformed(received_on)) == collector.counts.malformed > 0
    assert (
        collector.metrics.value("oss20_ticks_quarantined_total", reason="price_range")
        == reasons["price_range"]
    )


def test_a_stalling_feed_is_noticed_reconnected_and_its_silence_filled(
    market: Market, tmp_path: Path
) -> None:
    """The feed goes quiet for 3 s every 2 s (longer than the 2 s the stream waits): the collector
    reconnects, re-watches, and history brings back what the silence held back."""
    sim = simulator(
        market, speed=2400, start=dt.time(15, 0), faults=FaultPlan(stall_every=2.0, stall_seconds=3.0)
    )
    expected = ground_truth(market)
    with sim.running():
        collector = run_collector(sim, settings_for(tmp_path), expected)
    pd.testing.assert_frame_equal(canonical(collector.store.read_range(SYMBOLS, DAY, DAY)), expected)
    assert collector.stream.stats.reconnects >= 1 and collector.counts.history > 0


def test_a_redis_restart_costs_only_live_events_never_stored_ticks(market: Market, tmp_path: Path) -> None:
    sim = simulator(market, speed=2400, start=dt.time(15, 0))
    expected = ground_truth(market)
    server = RedisServer()
    server.start()
    listener = RedisBus(server.url)
    ticks = listener.subscribe(kinds=["tick"])
    restarted_ns = 0

    async def outage(collector: Collector) -> None:
        nonlocal restarted_ns
        await asyncio.sleep(1.5)
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(2.5)
        await asyncio.to_thread(server.start)
        restarted_ns = time.time_ns()

    try:
        with sim.running():
            collector = run_collector(sim, settings_for(tmp_path, redis_url=server.url), expected, outage)
        stored = canonical(collector.store.read_range(SYMBOLS, DAY, DAY))
        pd.testing.assert_frame_equal(stored, expected)
        assert collector.metrics.value("oss20_publish_failures_total") > 0
        after = [e for e in ticks.drain() if isinstance(e, TickEvent) and e.sent_ns > restarted_ns]
        assert after, "tick events flow again once Redis is back"
        latest = redis.Redis.from_url(server.url).get("tick:KO:latest")
        assert latest is not None and json.loads(latest)["symbol"] == "KO"
    finally:
        ticks.close()
        listener.close()
        server.stop()


def test_an_unreachable_catalog_holds_nothing_up(market: Market, tmp_path: Path) -> None:
    sim = simulator(market, speed=2400, start=dt.time(15, 0))
    expected = ground_truth(market)
    seen_down = False

    async def outage(collector: Collector) -> None:
        nonlocal seen_down
        await asyncio.sleep(1.0)
        proxy.cut()
        deadline = time.monotonic() + 15
        while not seen_down and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            seen_down = not collector.reporter.up
        await asyncio.sleep(1.0)
        proxy.restore()

    with (
        Proxy(("127.0.0.1", 5432)) as proxy,
        postgres_schema(f"postgresql://postgres@127.0.0.1:{proxy.port}/test") as url,
        sim.running(),
    ):
        collector = run_collector(sim, settings_for(tmp_path, catalog_url=url), expected, outage)
        stored = canonical(collector.store.read_range(SYMBOLS, DAY, DAY))
        with open_catalog(url) as catalog:
            task = catalog.task(collector.reporter.task_id)
    assert seen_down, "the catalog was seen unreachable during the run"
    pd.testing.assert_frame_equal(stored, expected)
    assert task is not None and task.status == "stopped"
    assert task.counters["stored"] == len(expected)


def test_a_killed_storage_writer_is_replaced_and_nothing_is_lost(market: Market, tmp_path: Path) -> None:
    sim = simulator(market, speed=2400, start=dt.time(15, 0))
    expected = ground_truth(market)
    killed: list[int] = []

    async def kill_writer(collector: Collector) -> None:
        while len(killed) < 3:
            pid = await asyncio.to_thread(lambda: collector.writer.pid)
            if pid is not None and pid not in killed:
                await asyncio.sleep(0.3)
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
            await asyncio.sleep(0.05)

    with sim.running():
        collector = run_collector(sim, settings_for(tmp_path), expected, kill_writer)
    assert len(set(killed)) == 3 and collector.writer.restarts >= 3
    pd.testing.assert_frame_equal(canonical(collector.store.read_range(SYMBOLS, DAY, DAY)), expected)
    assert collector.counts.stored <= len(expected), (
        "what a writer stored before it was killed is not counted"
    )


def test_a_journal_that_cannot_write_stops_the_collector_loudly(
    market: Market, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(ticks: pd.DataFrame) -> int:
        raise OSError(28, "No space left on device")

    sim = simulator(market, speed=2400, start=dt.time(15, 0))
    with sim.running():
        collector = Collector(
            SYMBOLS, settings_for(tmp_path), CollectorOptions(flush_every=0.2), endpoint(sim)
        )
        monkeypatch.setattr(collector.journal, "append", full)
        with pytest.raises(OSError, match="No space left"):
            asyncio.run(collector.run(30))
    assert collector.counts.stored == 0, "nothing unjournaled was stored"
