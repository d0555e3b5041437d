"""The live chart's data: per symbol, the day's completed bars of one interval and its recent trades.

Each view keeps a cursor (how many bars and trades it has shown) and asks ``since(cursor)`` for only
what is new, plus the bar still forming from trades after the last completed one. Thread-safe; no
Panel here, so a notebook can use it as it is.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oss20.bus import BarEvent, TickEvent

KEEP_TRADES = 5000
"""Recent trades kept per symbol (the points on the chart, and what the forming bar is built from)."""
BAR_FIELDS = ("timestamp", "open", "high", "low", "close", "volume")


@dataclass(frozen=True)
class Cursor:
    """How much of a symbol's series a view has shown: bars and trades, counted from the day's start."""

    bars: int = 0
    trades: int = 0


@dataclass(frozen=True)
class SeriesUpdate:
    """What is new for a view since its cursor; times are epoch ns (UTC)."""

    bars: dict[str, np.ndarray]
    trades: dict[str, np.ndarray]
    forming: dict[str, float] | None
    cursor: Cursor


@dataclass
class _Series:
    bars: list[tuple[int, float, float, float, float, int]] = field(default_factory=list)
    trades: deque[tuple[int, float, int]] = field(default_factory=lambda: deque(maxlen=KEEP_TRADES))
    trades_seen: int = 0


class LiveSeries:
    """Completed ``interval`` bars (from bar events) and recent trades (from tick events) per symbol."""

    def __init__(self, symbols: Iterable[str], interval: str = "1min") -> None:
        self.interval = interval
        self._length_ns = pd.Timedelta(interval).value
        self._series = {symbol: _Series() for symbol in symbols}
        self._lock = threading.Lock()

    @property
    def interval_ms(self) -> float:
        """The length of one bar in ms."""
        return self._length_ns / 1e6

    def add(self, events: Iterable[Any]) -> None:
        """Fold tick events and this interval's bar events; anything else is ignored."""
        with self._lock:
            for event in events:
                series = self._series.get(getattr(event, "symbol", ""))
                if series is None:
                    continue
                if isinstance(event, TickEvent):
                    ticks = event.ticks
                    rows = zip(
                        ticks["timestamp"].tolist(),
                        ticks["price"].tolist(),
                        ticks["size"].tolist(),
                        strict=True,
                    )
                    series.trades.extend(rows)
                    series.trades_seen += len(ticks["timestamp"])
                elif isinstance(event, BarEvent) and event.interval == self.interval:
                    self._add_bar(series, event.bar)

    def seed(self, symbol: str, bars: Iterable[dict[str, Any]]) -> None:
        """Start ``symbol``'s series with bars already completed (from the cache), oldest first."""
        with self._lock:
            series = self._series[symbol]
            for bar in bars:
                self._add_bar(series, bar)

    def since(self, symbol: str, cursor: Cursor) -> SeriesUpdate:
        """Bars and trades after ``cursor`` (trades that scrolled out of the kept window are skipped),
        and the bar forming from trades after the last completed bar."""
        with self._lock:
            series = self._series[symbol]
            bars = series.bars[cursor.bars :]
            fresh = min(series.trades_seen - cursor.trades, len(series.trades))
            trades = list(series.trades)[len(series.trades) - fresh :] if fresh > 0 else []
            forming = self._forming(series)
            moved = Cursor(len(series.bars), series.trades_seen)
        return SeriesUpdate(
            _columns(bars, BAR_FIELDS), _columns(trades, ("timestamp", "price", "size")), forming, moved
        )

    def _add_bar(self, series: _Series, bar: dict[str, Any]) -> None:
        start = pd.Timestamp(bar["timestamp"]).value
        if series.bars and start <= series.bars[-1][0]:
            return  # a repeat (the cache's seed and the bus can overlap)
        values = (float(bar["open"]), float(bar["high"]), float(bar["low"]), float(bar["close"]))
        series.bars.append((start, *values, int(bar["volume"])))

    def _forming(self, series: _Series) -> dict[str, float] | None:
        after = series.bars[-1][0] + self._length_ns if series.bars else None
        trades = [t for t in series.trades if after is None or t[0] >= after]
        if not trades:
            return None
        prices = [price for _, price, _ in trades]
        start = trades[0][0] - trades[0][0] % self._length_ns
        return {
            "timestamp": float(start),
            "open": prices[0],
            "high": max(prices),
            "low": min(prices),
            "close": prices[-1],
            "volume": float(sum(size for _, _, size in trades)),
        }


def _columns(rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    if not rows:
        return {name: np.array([]) for name in names}
    return {name: np.asarray(values) for name, values in zip(names, zip(*rows, strict=True), strict=True)}
