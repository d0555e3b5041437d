"""A garbled last trade is asked for again: the feed's quotes report a trade the collector never held."""

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


def quote_row(ns: int) -> dict[str, np.ndarray]:
    return {
        "symbol": np.array(["KO"], object),
        "timestamp": np.array([ns], np.int64),
        "bid": np.array([60.0]),
    }


def test_a_reported_trade_later_than_any_held_is_fetched_once(collector: Collector) -> None:
    fills: list[tuple[str, pd.Timestamp, pd.Timestamp]] = []
    collector._spawn_fill = lambda symbol, begin, end: fills.append((symbol, begin, end))  # type: ignore[method-assign]
    collector._held[("KO", pd.Timestamp(NS, tz="America/New_York").date())] = NS
    collector._updates.append(quote_row(NS + 5 * 10**9))  # the quote says KO traded 5 s after what we hold
    collector._cache_latest()
    collector._refill_dirty()
    assert [(s, b.value, e.value) for s, b, e in fills] == [("KO", NS, NS + 5 * 10**9)]
    collector._refill_dirty()
    assert len(fills) == 1, "asked once, not again at every flush"


def test_nothing_is_asked_when_the_quotes_report_no_later_trade(collector: Collector) -> None:
    fills: list[object] = []
    collector._spawn_fill = lambda *args: fills.append(args)  # type: ignore[method-assign]
    collector._held[("KO", pd.Timestamp(NS, tz="America/New_York").date())] = NS
    collector._updates.append(quote_row(NS))
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
