"""Client against simulator over real loopback sockets: live ticks, history and the market agree."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
import time

import pandas as pd
import pytest

from oss20.iqfeed.client import HistoryClient, InvalidSymbol, Level1Stream, admin_stats
from oss20.iqfeed.faults import FaultPlan
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.schema import TICK_COLUMNS
from tests.conftest import DAY, endpoint, simulator

pytestmark = pytest.mark.integration
SYMBOLS = ("AAPL", "MSFT", "KO")
IDENTITY = ["symbol", "market_center", "tick_id"]


async def watched(stream: Level1Stream, *symbols: str) -> None:
    """Watch ``symbols`` on a paused simulator and wait for their summaries (P): all are in place."""
    await stream.watch(*symbols)
    pending = set(symbols)
    async for batch in stream.batches():
        pending -= set(batch.summaries["symbol"])
        if not pending:
            return


async def collect_live(sim: Simulator, stream: Level1Stream) -> pd.DataFrame:
    """Read trades until the simulator's clock message says the day is over.

    The tape writes a symbol's updates before the clock message of the same moment, on the same
    socket, so the day-end ``T`` line proves every update of the day has arrived.
    """
    day_end = ("T", sim.clock.end.strftime("%Y%m%d %H:%M:%S"))
    frames = []
    async for batch in stream.batches():
        frames.append(batch.trades())
        if day_end in batch.messages:
            break
    return pd.concat(frames, ignore_index=True)


def truth(market: Market, symbols: tuple[str, ...], after: pd.Timestamp) -> pd.DataFrame:
    frames = [market.ticks(s, DAY) for s in symbols]
    frame = pd.concat(frames, ignore_index=True)
    return frame[frame["timestamp"] > after]


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(["symbol", "timestamp", *IDENTITY]).reset_index(drop=True)[list(TICK_COLUMNS)]


def test_live_trades_equal_the_market_and_history(market: Market) -> None:
    sim = simulator(market, speed=0, start=dt.time(9, 0), paused=True, firehose_step=30.0)
    with sim.running():

        async def run() -> tuple[pd.DataFrame, pd.DataFrame]:
            async with Level1Stream(endpoint(sim), stall_after=5) as stream:
                await watched(stream, *SYMBOLS)
                sim.resume()
                live = await collect_live(sim, stream)
            async with HistoryClient(endpoint(sim)) as history:
                parts = await asyncio.gather(
                    *(history.ticks(s, "2025-01-02 09:00:00.000001", "2025-01-02 20:00") for s in SYMBOLS)
                )
            return live, pd.concat(parts, ignore_index=True)

        live, history = asyncio.run(run())
    expected = canonical(truth(market, SYMBOLS, pd.Timestamp("2025-01-02 09:00", tz="America/New_York")))
    assert len(expected) > 1000
    pd.testing.assert_frame_equal(canonical(live), expected)
    pd.testing.assert_frame_equal(canonical(history), expected)


def test_reconnect_after_drops_loses_nothing_history_cannot_restore(market: Market) -> None:
    sim = simulator(market, speed=3000, start=dt.time(9, 30), paused=True)
    start = pd.Timestamp("2025-01-02 09:30", tz="America/New_York")
    end = pd.Timestamp("2025-01-02 12:00", tz="America/New_York")
    with sim.running():

        async def run() -> tuple[pd.DataFrame, list]:
            frames = []
            async with Level1Stream(endpoint(sim), backoff=(0.05, 0.2)) as stream:
                await watched(stream, *SYMBOLS)
                sim.resume()
                drops = [start + pd.Timedelta(minutes=m) for m in (40, 95)]
                async for batch in stream.batches():
                    frames.append(batch.trades())
                    if drops and sim.now >= drops[0]:
                        drops.pop(0)
                        sim.drop_connections()
                    if sim.now >= end and len(stream.outages) >= 2:  # both drops seen, not just asked for
                        sim.pause()
                        break
                outages = stream.outages
            async with HistoryClient(endpoint(sim)) as history:
                for outage in outages:
                    for symbol in SYMBOLS:
                        since = outage.last_trade.get(symbol, start)
                        frames.append(await history.ticks(symbol, since, sim.now))
            return pd.concat(frames, ignore_index=True), outages

        merged, outages = asyncio.run(run())
        now = sim.now
    assert len(outages) >= 2
    restored = merged.drop_duplicates(["symbol", *IDENTITY[1:]])
    expected = truth(market, SYMBOLS, start)
    expected = expected[expected["timestamp"] <= now]
    pd.testing.assert_frame_equal(canonical(restored), canonical(expected))


def test_history_requests_of_every_kind(finished_sim: Simulator, market: Market) -> None:
    async def run() -> dict[str, pd.DataFrame]:
        async with HistoryClient(endpoint(finished_sim)) as h:
            return {
                "last": await h.last_ticks("AAPL", 50),
                "days": await h.tick_days("KO", 1),
                "bars": await h.interval_bars("AAPL", 60, "2025-01-02 09:30", "2025-01-02 16:00"),
                "daily": await h.daily("AAPL", "2024-12-20", "2025-01-02"),
                "old": await h.ticks("AAPL", "2024-03-01", "2024-03-05"),
            }

    got = asyncio.run(run())
    ticks = market.ticks("AAPL", DAY)
    pd.testing.assert_frame_equal(got["last"].reset_index(drop=True), ticks.iloc[-50:].reset_index(drop=True))
    assert len(got["days"]) == len(market.ticks("KO", DAY))
    bars = market.interval_bars("AAPL", DAY, 60)
    regular = bars[
        (bars["timestamp"] >= "2025-01-02 09:30-05:00") & (bars["timestamp"] <= "2025-01-02 16:00-05:00")
    ]
    assert got["bars"]["close"].tolist() == regular["close"].tolist()
    assert got["bars"]["volume"].sum() == regular["volume"].sum()
    daily = market.daily("AAPL", "2024-12-20", "2025-01-02")
    assert got["daily"]["close"].tolist() == daily["close"].tolist()
    assert got["daily"]["volume"].tolist() == daily["volume"].tolist()
    assert got["old"].empty, "ticks older than ~180 days answer !NO_DATA!, which is an empty frame"


def test_weekly_and_monthly_bars_agree_with_the_daily_ones(finished_sim: Simulator) -> None:
    async def run() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        async with HistoryClient(endpoint(finished_sim)) as h:
            return (
                await h.daily("KO", "2024-09-01", "2025-01-02"),
                await h.weekly("KO", 6),
                await h.monthly("KO", 3),
            )

    daily, weekly, monthly = asyncio.run(run())
    assert len(weekly) == 6 and len(monthly) == 3
    for bars, period in ((weekly, "W-FRI"), (monthly, "M")):
        stamps = pd.to_datetime(daily["date"])
        for bar in bars.itertuples():
            days = daily[stamps.dt.to_period(period) == pd.Timestamp(bar.date).to_period(period)]
            assert bar.date == days["date"].iloc[-1], "labelled by the period's last session"
            assert (bar.open, bar.close) == (days["open"].iloc[0], days["close"].iloc[-1])
            assert (bar.high, bar.low) == (days["high"].max(), days["low"].min())
            assert bar.volume == days["volume"].sum()
    assert weekly["date"].iloc[-1] == monthly["date"].iloc[-1] == pd.Timestamp(DAY), "the last day is newest"


def test_invalid_symbols_get_iqfeeds_replies(finished_sim: Simulator) -> None:
    async def run() -> set[str]:
        async with HistoryClient(endpoint(finished_sim)) as h:
            with pytest.raises(InvalidSymbol, match="ZZZZQ"):
                await h.last_ticks("ZZZZQ", 10)
        async with Level1Stream(endpoint(finished_sim)) as stream:
            await stream.watch("ZZZZQ", "AAPL")
            async for _ in stream.batches():
                if stream.unknown:
                    break
            return stream.unknown

    assert asyncio.run(run()) == {"ZZZZQ"}


def test_throttled_history_is_retried_until_answered(market: Market) -> None:
    sim = simulator(market, start=dt.time(20, 0), history_rate=5.0, history_burst=2)
    with sim.running():

        async def run() -> list[pd.DataFrame]:
            async with HistoryClient(endpoint(sim), rate=1000.0, retries=10) as h:
                return await asyncio.gather(*(h.last_ticks("KO", 5) for _ in range(8)))

        replies = asyncio.run(run())
    assert all(len(r) == 5 for r in replies)


def test_malformed_and_faulty_lines_are_kept_aside_and_the_stream_goes_on(market: Market) -> None:
    plan = FaultPlan(malformed_rate=0.02, duplicate_rate=0.01)
    sim = simulator(market, speed=0, start=dt.time(9, 30), paused=True, faults=plan)
    with sim.running():

        async def run() -> tuple[pd.DataFrame, Level1Stream]:
            async with Level1Stream(endpoint(sim)) as stream:
                await watched(stream, "AAPL")
                sim.resume()
                return await collect_live(sim, stream), stream

        live, stream = asyncio.run(run())
    expected = truth(market, ("AAPL",), pd.Timestamp("2025-01-02 09:30", tz="America/New_York"))
    assert stream.stats.malformed > 10 and len(stream.malformed) == stream.stats.malformed
    assert all(m.reason for m in stream.malformed)
    unique = live.drop_duplicates(IDENTITY)
    assert len(live) > len(unique), "duplicated lines arrive twice; tier-1 validation removes them"
    assert 0.95 * len(expected) < len(unique) < len(expected)
    assert unique.merge(expected, how="left", indicator=True)["_merge"].eq("both").all()


def test_stall_is_detected_and_the_stream_resumes(market: Market) -> None:
    sim = simulator(market, speed=30, start=dt.time(10, 0))
    with sim.running():

        async def run() -> Level1Stream:
            async with Level1Stream(endpoint(sim), stall_after=0.5, backoff=(0.05, 0.1)) as stream:
                await stream.watch("AAPL")
                stalled_at = None
                async for batch in stream.batches():
                    if stalled_at is None and len(batch.updates):
                        sim.stall(1.5)
                        stalled_at = time.monotonic()
                    if stream.stats.reconnects and len(batch.updates) and time.monotonic() - stalled_at > 1.5:
                        return stream
            raise AssertionError("stream ended")

        stream = asyncio.run(asyncio.wait_for(run(), 30))
    assert stream.stats.stalls >= 1 and stream.stats.reconnects >= 1
    assert stream.outages[0].reason == "stall"


def test_admin_stats_tell_a_sick_feed(market: Market) -> None:
    sim = simulator(market, speed=30, start=dt.time(10, 0))
    with sim.running():

        async def run() -> tuple[dict[str, object], dict[str, object]]:
            async with Level1Stream(endpoint(sim), stall_after=10) as stream:
                await stream.watch("AAPL")
                await asyncio.sleep(0.5)
                healthy = await admin_stats(endpoint(sim))
                sim.stall(4)
                sim.drop_connections()
                await asyncio.sleep(2.5)
                return healthy, await admin_stats(endpoint(sim))

        healthy, sick = asyncio.run(run())
    assert healthy["seconds_since_update"] <= 1 and healthy["reconnects"] == 0
    assert sick["seconds_since_update"] >= 2 and sick["reconnects"] == 1


def test_admin_stats_report_the_watch(finished_sim: Simulator) -> None:
    async def run() -> dict[str, object]:
        async with Level1Stream(endpoint(finished_sim)) as stream:
            await stream.watch("AAPL", "MSFT")
            await asyncio.sleep(0.3)
            return await admin_stats(endpoint(finished_sim))

    stats = asyncio.run(run())
    assert stats["status"] is True
    assert stats["symbols_watched"] == 2
    assert stats["max_symbols"] == 500


class GatedMarket(Market):
    """The real market, except that building one symbol's day waits for ``gate`` (a slow day)."""

    def __init__(self, gated: str, seed: int, activity: float) -> None:
        super().__init__(seed=seed, activity=activity)
        self.gated, self.gate = gated, threading.Event()

    def level1(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        if symbol == self.gated:
            self.gate.wait(10)
        return super().level1(symbol, day)


def test_a_slow_new_watch_never_holds_up_the_stream() -> None:
    gated = GatedMarket("KO", seed=7, activity=0.02)
    config = simulator(gated, speed=60, start=dt.time(10, 0)).config
    sim = Simulator(config, market=gated)
    with sim.running():

        async def run() -> tuple[int, set[str]]:
            async with Level1Stream(endpoint(sim)) as stream:
                await stream.watch("AAPL")
                async for batch in stream.batches():
                    if len(batch.updates):
                        break
                await stream.watch("KO")
                while_gated = 0
                deadline = time.monotonic() + 1.5
                async for batch in stream.batches():
                    while_gated += int((batch.updates["symbol"] == "AAPL").sum())
                    if time.monotonic() > deadline:
                        break
                gated.gate.set()
                async for batch in stream.batches():
                    if (batch.updates["symbol"] == "KO").any():
                        return while_gated, set(batch.updates["symbol"])
            raise AssertionError("stream ended")

        while_gated, symbols = asyncio.run(asyncio.wait_for(run(), 30))
    assert while_gated > 10, "AAPL kept streaming while KO's day was being built"
    assert "KO" in symbols


def test_a_firehose_waits_for_its_first_watch(market: Market) -> None:
    sim = simulator(market, speed=0, start=dt.time(9, 30), firehose_step=60.0)
    with sim.running():
        time.sleep(0.5)
        idle = sim.now

        async def run() -> int:
            async with Level1Stream(endpoint(sim)) as stream:
                await stream.watch("KO")
                return len(await collect_live(sim, stream))

        streamed = asyncio.run(asyncio.wait_for(run(), 60))
    assert idle == pd.Timestamp("2025-01-02 09:30", tz="America/New_York"), "no watch, no clock"
    assert streamed == len(truth(market, ("KO",), idle)), "then the whole rest of the day, as fast as read"
