"""The watchdog against the simulator over real sockets: IQConnect losing DTN and a symbol going silent
cost live ticks, and the collector's stored day still equals the market's ground truth."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path

import pandas as pd
import pytest

from oss20.iqfeed import protocol
from oss20.iqfeed.client import AdminStream
from oss20.iqfeed.faults import FaultPlan
from oss20.market import Market
from tests.conftest import DAY, endpoint, simulator
from tests.integration.test_collector import SYMBOLS, canonical, ground_truth, run_collector, settings_for

pytestmark = pytest.mark.integration


def test_the_admin_port_tells_a_server_disconnect_and_the_reconnect(market: Market) -> None:
    sim = simulator(market, speed=30, start=dt.time(10, 0))
    with sim.running():

        async def run() -> tuple[list[protocol.FeedState], AdminStream]:
            admin = AdminStream(endpoint(sim), name="watchdog-test")
            seen: list[protocol.FeedState] = []

            async def read() -> None:
                async for state in admin.states():
                    seen.append(state)
                    if len(seen) == 2:
                        sim.disconnect(1.5)
                    if state.connected and any(not s.connected for s in seen) and state.reconnects:
                        return

            try:
                await asyncio.wait_for(read(), 15)
            finally:
                await admin.close()
            return seen, admin

        seen, admin = asyncio.run(run())
        deadline = time.monotonic() + 5  # the simulator's side of the closed socket ends on its own loop
        while "watchdog-test" in (names := [info.get("name") for info in sim._clients.values()]):
            if time.monotonic() > deadline:
                break
            time.sleep(0.05)
    assert seen[0] == protocol.FeedState(True), "S,CONNECT answered"
    assert seen[1] == protocol.FeedState(True, 0), "then the stats, once a second"
    down = [s for s in seen if not s.connected]
    assert protocol.FeedState(False) in down, "S,SERVER DISCONNECTED on the admin port"
    assert protocol.FeedState(False, 0) in down, "stats say Not Connected"
    assert seen[-1] == protocol.FeedState(True, 1), "connected again, one reconnect more"
    assert protocol.FeedState(True) in seen, "S,SERVER CONNECTED"
    assert admin.stats.lost == 0 and sim.server_disconnects == sim.server_reconnects == 1
    assert "watchdog-test" not in names, "the admin client closed"


def test_a_feed_that_loses_its_server_is_rewatched_and_filled_once_back(
    market: Market, tmp_path: Path
) -> None:
    """IQConnect is Not Connected for 2.5 s every 3.5 s (longer than the 2 s the stream waits before
    calling silence a stall): trades meanwhile never reach the live stream. The watchdog waits for the
    server instead of reconnecting, then re-watches and fills from each symbol's last live trade."""
    faults = FaultPlan(disconnect_every=3.5, disconnect_seconds=2.5)
    sim = simulator(market, speed=2400, start=dt.time(15, 0), faults=faults)
    expected = ground_truth(market)
    with sim.running():
        collector = run_collector(sim, settings_for(tmp_path), expected)
    pd.testing.assert_frame_equal(canonical(collector.store.read_range(SYMBOLS, DAY, DAY)), expected)
    assert sim.server_disconnects >= 1 and sim.trades_lost > 0
    counts, stream = collector.counts, collector.stream.stats
    assert counts.feed_sick >= 1 and counts.feed_recovered >= 1
    assert stream.server_disconnects >= 1 and stream.rewatches >= len(SYMBOLS)
    assert stream.stalls == 0 and stream.reconnects == 0, "the Level 1 socket was never given up"
    assert counts.history >= sim.trades_lost, "history brought back at least what the live stream lost"
    assert collector.admin.stats.states > 0, "the admin port was read"
    exported = collector.metrics.value
    assert exported("oss20_feed_sick_total") == counts.feed_sick
    assert exported("oss20_feed_recovered_total") == counts.feed_recovered
    assert exported("oss20_feed_server_disconnects_total") == stream.server_disconnects


def test_a_silent_symbol_is_rewatched_alone_and_its_silence_filled(market: Market, tmp_path: Path) -> None:
    """Every 1.5 s one watched symbol's updates stop until it is watched again; the others flow on."""
    faults = FaultPlan(silence_every=1.5, silence_seconds=60.0)
    sim = simulator(market, speed=2400, start=dt.time(15, 0), faults=faults)
    expected = ground_truth(market)
    with sim.running():
        collector = run_collector(sim, settings_for(tmp_path), expected, symbol_stall_floor=1.0)
    pd.testing.assert_frame_equal(canonical(collector.store.read_range(SYMBOLS, DAY, DAY)), expected)
    assert sim.silences >= 1 and sim.trades_lost > 0
    counts, stream = collector.counts, collector.stream.stats
    assert counts.symbol_stalls >= 1 and stream.rewatches >= counts.symbol_stalls
    assert stream.stalls == 0 and stream.reconnects == 0, "the stream as a whole never stalled"
    assert counts.feed_sick == 0
    assert counts.history >= sim.trades_lost
    exported = collector.metrics.value
    assert exported("oss20_symbol_stalls_total") == counts.symbol_stalls
    assert exported("oss20_feed_rewatches_total") == stream.rewatches
