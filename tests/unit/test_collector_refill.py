"""A garbled last trade is asked for again: the feed's updates report day volume no trade held explains."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.collection import Collector
from oss20.config import Settings
from oss20.iqfeed.client import Endpoint

NS = pd.Timestamp("2025-01-02 15:59:00", tz="America/New_York").value


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[Collector]:
    made = Collector(["KO"], Settings(data_dir=str(tmp_path)), endpoint=Endpoint("127.0.0.1", 1, 1, 1))
    yield made
    made.journal.close()


DAY = pd.Timestamp(NS, tz="America/New_York").date()


def quote_row(ns: int, total_volume: int) -> dict[str, np.ndarray]:
    return {
        "symbol": np.array(["KO"], object),
        "timestamp": np.array([ns], np.int64),
        "bid": np.array([60.0]),
        "total_volume": np.array([total_volume], np.int64),
    }


def holding(collector: Collector, ns: int, volume: int) -> None:
    collector._held[("KO", DAY)] = ns
    collector._held_volume[("KO", DAY)] = volume


def test_volume_no_held_trade_explains_is_fetched_once(collector: Collector) -> None:
    fills: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    collector._spawn_fill = lambda symbol, begin, end: fills.append((symbol, begin, end))  # type: ignore[method-assign]
    holding(collector, NS, 1_000)
    collector._updates.append(quote_row(NS + 5 * 10**9, 1_300))  # a 300-share trade we never held
    collector._cache_latest()
    collector._refill_dirty()
    assert [(s, b.value, e.value) for s, b, e in fills] == [("KO", NS, NS + 5 * 10**9)]
    collector._updates.append(quote_row(NS + 9 * 10**9, 1_300))  # quotes move on, the volume does not
    collector._cache_latest()
    collector._refill_dirty()
    assert len(fills) == 1, "asked once, not again at every flush"


def test_quotes_after_the_last_trade_ask_nothing_when_the_volume_is_held(collector: Collector) -> None:
    fills: list[object] = []
    collector._spawn_fill = lambda *args: fills.append(args)  # type: ignore[method-assign]
    holding(collector, NS, 1_000)
    for seconds in (1, 2, 30):  # bid and ask times run ahead of the last trade all day
        collector._updates.append(quote_row(NS + seconds * 10**9, 1_000))
        collector._cache_latest()
        collector._refill_dirty()
    assert fills == []


def test_a_garbled_line_is_refetched_from_the_streams_position_not_from_history_held_ahead(
    collector: Collector,
) -> None:
    fills: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    collector._spawn_fill = lambda symbol, begin, end: fills.append((symbol, begin, end))  # type: ignore[method-assign]
    day = pd.Timestamp(NS, tz="America/New_York").date()
    collector._live_ns["KO"] = NS  # the stream has delivered KO up to here
    collector._held[("KO", day)] = NS + 30 * 10**9  # a history fill already holds 30 s further
    collector._mark_dirty(b"Q,KO,60.5\x07#junk")  # a trade between the two, garbled
    collector._refill_dirty()
    assert [(s, b.value, e.value) for s, b, e in fills] == [("KO", NS, NS + 30 * 10**9)]
