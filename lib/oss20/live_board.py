"""The live state of a watchlist, folded from the bus (tick events) and the cache (latest quotes).

One ``LiveBoard`` per process feeds every view of it (the dashboards' watchlist, any notebook):
``add`` and ``quote`` fold what arrives, ``frame`` is a consistent copy of the rows. Thread-safe;
no Panel here, so notebooks and jobs can use it as they are.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from oss20.bus import TickEvent
from oss20.schema import TZINFO

RATE_WINDOW = 5.0
"""Seconds over which ticks/s is averaged."""
LATENCY_WINDOW = 2000
"""How many recent tick events the arrival latency is measured over."""
COLUMNS = ["symbol", "last", "change", "bid", "ask", "spread", "volume", "ticks_per_s", "time", "quality"]


@dataclass
class _Row:
    last: float = np.nan
    previous_close: float = np.nan
    bid: float = np.nan
    ask: float = np.nan
    volume: int = 0
    time_ns: int = 0
    quality: str = ""
    arrivals: deque[tuple[float, int]] = field(default_factory=deque)

    def rate(self, now: float) -> float:
        while self.arrivals and now - self.arrivals[0][0] > RATE_WINDOW:
            self.arrivals.popleft()
        return sum(n for _, n in self.arrivals) / RATE_WINDOW


class LiveBoard:
    """Per-symbol last, change from the previous close, bid, ask, spread, volume, ticks/s, time, quality."""

    def __init__(self, symbols: Iterable[str]) -> None:
        self._rows = {symbol: _Row() for symbol in symbols}
        self._lock = threading.Lock()
        self._latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)

    @property
    def symbols(self) -> list[str]:
        return list(self._rows)

    def add(self, events: Iterable[Any], now: float | None = None) -> int:
        """Fold tick events (others are ignored); return how many trades they carried."""
        now = time.monotonic() if now is None else now
        trades = 0
        wall_ns = time.time_ns()
        with self._lock:
            for event in events:
                if not isinstance(event, TickEvent) or event.symbol not in self._rows:
                    continue
                if event.received_ns:
                    self._latencies.append((wall_ns - event.received_ns) / 1e6)
                ticks, row = event.ticks, self._rows[event.symbol]
                n = len(ticks["tick_id"])
                if n == 0:
                    continue
                last = int(np.argmax(ticks["timestamp"]))
                if int(ticks["timestamp"][last]) >= row.time_ns:
                    row.time_ns = int(ticks["timestamp"][last])
                    row.last = float(ticks["price"][last])
                    row.bid, row.ask = float(ticks["bid"][last]), float(ticks["ask"][last])
                    row.volume = max(row.volume, int(ticks["total_volume"].max()))
                row.arrivals.append((now, n))
                trades += n
        return trades

    def latency_ms(self) -> tuple[float, float]:
        """p50 and p99 in ms from the collector reading a tick to this board folding it (recent events;
        NaN before any)."""
        with self._lock:
            recent = np.fromiter(self._latencies, dtype=np.float64)
        if recent.size == 0:
            return np.nan, np.nan
        p50, p99 = np.percentile(recent, [50, 99])
        return float(p50), float(p99)

    def quote(self, latest: Mapping[str, Mapping[str, Any]]) -> None:
        """Fold the cache's latest Level 1 update per symbol (bid, ask, previous close, volume)."""
        with self._lock:
            for symbol, update in latest.items():
                row = self._rows.get(symbol)
                if row is None:
                    continue
                row.bid, row.ask = _number(update.get("bid"), row.bid), _number(update.get("ask"), row.ask)
                row.previous_close = _number(update.get("close"), row.previous_close)
                row.volume = max(row.volume, int(_number(update.get("total_volume"), 0)))
                if np.isnan(row.last):
                    row.last = _number(update.get("price"), row.last)

    def grade(self, statuses: Mapping[str, str]) -> None:
        """Set each symbol's quality flag (its latest validation status: pass, warn, fail)."""
        with self._lock:
            for symbol, status in statuses.items():
                if symbol in self._rows:
                    self._rows[symbol].quality = status

    def frame(self, now: float | None = None) -> pd.DataFrame:
        """The rows now, one per symbol in watchlist order (index 0..n-1, stable for patching)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            rows = [
                {
                    "symbol": symbol,
                    "last": r.last,
                    "change": r.last - r.previous_close,
                    "bid": r.bid,
                    "ask": r.ask,
                    "spread": r.ask - r.bid,
                    "volume": r.volume,
                    "ticks_per_s": r.rate(now),
                    "time": pd.Timestamp(r.time_ns, tz=TZINFO) if r.time_ns else pd.NaT,
                    "quality": r.quality,
                }
                for symbol, r in self._rows.items()
            ]
        return pd.DataFrame(rows, columns=COLUMNS)


def _number(value: Any, default: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(number) else number
