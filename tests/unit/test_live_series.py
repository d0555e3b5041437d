"""The live chart's series: views get only what is new, repeats of a bar are ignored, and the forming
bar is built from the trades after the last completed bar."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oss20.bus import BarEvent, TickEvent
from oss20.live_series import KEEP_TRADES, Cursor, LiveSeries

T0 = pd.Timestamp("2025-01-02 09:30", tz="America/New_York")


def trades(symbol: str, seconds: list[float], prices: list[float], sizes: list[int]) -> TickEvent:
    stamps = np.array([(T0 + pd.Timedelta(seconds=s)).value for s in seconds], dtype=np.int64)
    return TickEvent(
        symbol,
        {"timestamp": stamps, "price": np.array(prices), "size": np.array(sizes, dtype=np.int64)},
    )


def bar(symbol: str, minute: int, o: float, h: float, lo: float, c: float, v: int) -> BarEvent:
    start = T0 + pd.Timedelta(minutes=minute)
    return BarEvent(
        symbol, "1min", {"timestamp": start, "open": o, "high": h, "low": lo, "close": c, "volume": v}
    )


def test_a_view_gets_only_what_is_new_and_the_forming_bar() -> None:
    series = LiveSeries(["AAPL", "MSFT"])
    series.add([trades("AAPL", [1, 30], [10.0, 11.0], [100, 200]), trades("MSFT", [2], [50.0], [5])])
    first = series.since("AAPL", Cursor())
    assert list(first.trades["price"]) == [10.0, 11.0] and len(first.bars["timestamp"]) == 0
    assert first.forming == {
        "timestamp": float(T0.value),
        "open": 10.0,
        "high": 11.0,
        "low": 10.0,
        "close": 11.0,
        "volume": 300.0,
    }
    series.add([bar("AAPL", 0, 10.0, 11.0, 10.0, 11.0, 300), trades("AAPL", [61, 70], [12.0, 9.5], [1, 2])])
    second = series.since("AAPL", first.cursor)
    assert list(second.trades["price"]) == [12.0, 9.5]
    assert list(second.bars["close"]) == [11.0] and list(second.bars["timestamp"]) == [T0.value]
    assert second.forming is not None and second.forming["timestamp"] == (T0 + pd.Timedelta(minutes=1)).value
    assert (second.forming["open"], second.forming["low"], second.forming["volume"]) == (12.0, 9.5, 3.0)
    third = series.since("AAPL", second.cursor)
    assert len(third.trades["price"]) == 0 and len(third.bars["timestamp"]) == 0
    assert third.cursor == second.cursor


def test_seeded_bars_are_not_repeated_by_the_bus_and_other_intervals_are_ignored() -> None:
    series = LiveSeries(["AAPL"])
    series.seed("AAPL", [bar("AAPL", 0, 1, 2, 0.5, 1.5, 10).bar, bar("AAPL", 1, 1.5, 2, 1, 1, 20).bar])
    series.add(
        [bar("AAPL", 1, 1.5, 2, 1, 1, 20), BarEvent("AAPL", "5min", bar("AAPL", 5, 1, 1, 1, 1, 1).bar)]
    )
    series.add([bar("AAPL", 2, 1, 3, 1, 2, 30), bar("NOPE", 2, 1, 1, 1, 1, 1)])
    update = series.since("AAPL", Cursor())
    assert list(update.bars["volume"]) == [10, 20, 30]
    assert update.forming is None


def test_trades_that_scrolled_out_are_skipped_not_repeated() -> None:
    series = LiveSeries(["AAPL"])
    n = KEEP_TRADES + 10
    series.add([trades("AAPL", list(np.arange(n) / 1000), list(np.arange(n, dtype=float)), [1] * n)])
    update = series.since("AAPL", Cursor())
    assert len(update.trades["price"]) == KEEP_TRADES and update.trades["price"][0] == 10.0
    assert update.cursor.trades == n
