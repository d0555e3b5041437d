"""``Market``: the public face of the synthetic market, caching paths, days and frames per symbol-day."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.market import bars
from oss20.market.cache import WeightedLRU
from oss20.market.day import Day, Summary, day_frame, halt_window, run_day
from oss20.market.path import ANCHOR, DailyPath, all_sessions, daily_path
from oss20.market.universe import (
    SECURITY_TYPE_EQUITY,
    SHARES_OUTSTANDING_MM,
    UNIVERSE,
    Instrument,
    symbol_key,
)
from oss20.schema import LEVEL1_COLUMNS, TICK_COLUMNS


class Market:
    """The synthetic market: Level 1 updates, ticks, bars, fundamentals and halts per symbol-day.

    ``seed`` picks the market; ``activity`` scales trade and quote counts linearly (1.0 is
    realistic: AAPL ~200k trades a day; tests use ~0.02). Frames are cached (up to
    ``cache_rows`` rows in all, least recently used dropped first) and shared between callers:
    treat them as read-only and ``.copy()`` one before changing it.

    Example::

        m = Market(seed=7, activity=0.02)
        ticks = m.ticks("AAPL", "2025-01-02")
        bars = m.interval_bars("AAPL", "2025-01-02", 60)
        daily = m.daily("AAPL", "2024-12-02", "2024-12-31")
    """

    def __init__(
        self,
        seed: int = 7,
        activity: float = 1.0,
        universe: Mapping[str, Instrument] = UNIVERSE,
        cache_rows: int = 5_000_000,
    ) -> None:
        if not activity > 0:
            raise ValueError(f"activity must be > 0 (1.0 is realistic), got {activity!r}")
        self.seed = int(seed)
        self.activity = float(activity)
        self._universe = dict(universe)
        self._paths: WeightedLRU[str, DailyPath] = WeightedLRU(256)
        # the days' rows and their frames, weighed in rows
        self._frames: WeightedLRU[tuple[str, str, dt.date], Day | pd.DataFrame] = WeightedLRU(cache_rows, len)
        self._summaries: WeightedLRU[tuple[str, dt.date], Summary] = WeightedLRU(100_000)

    def __repr__(self) -> str:
        return f"Market(seed={self.seed}, activity={self.activity}, symbols={len(self._universe)})"

    @property
    def symbols(self) -> list[str]:
        """The universe's symbols, sorted."""
        return sorted(self._universe)

    def knows(self, symbol: str) -> bool:
        """True when ``symbol`` is in this market's universe."""
        return symbol in self._universe

    def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``; KeyError naming the known symbols if there is none."""
        try:
            return self._universe[symbol]
        except KeyError:
            raise KeyError(
                f"unknown symbol {symbol!r}; the synthetic universe has {', '.join(self.symbols)}"
            ) from None

    # --- per day -------------------------------------------------------------------------------

    def level1(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        """Every Level 1 update (trades and quote changes) of the extended day, in time order.

        Columns are ``schema.LEVEL1_COLUMNS``. Trade rows have ``contents`` C, E or O and carry
        the quote in force; quote rows ("b", "a", "ba") carry the last trade's fields (0, NaN
        or "" before the day's first trade). ``close`` is the previous session's official close.
        """
        d = self._session(day).day
        return self._frame(
            ("level1", symbol, d), lambda: day_frame(symbol, self._day(symbol, d), None, LEVEL1_COLUMNS)
        )

    def ticks(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        """The day's trades (``schema.TICK_COLUMNS``): exactly the trade rows of ``level1``."""
        d = self._session(day).day

        def make() -> pd.DataFrame:
            rows = self._day(symbol, d)
            return day_frame(symbol, rows, rows.trades, TICK_COLUMNS)

        return self._frame(("ticks", symbol, d), make)

    def interval_bars(self, symbol: str, day: dt.date | str, interval: int, kind: str = "s") -> pd.DataFrame:
        """The day's bars as IQFeed HIX/HID/HIT return them, built from ``ticks``.

        ``kind`` "s": ``interval`` seconds, bars aligned to midnight and covering
        [end - interval, end); "t": ``interval`` trades per bar; "v": a trade belongs to bar
        floor(volume before it / ``interval``), so a bar closes once its volume reaches the
        next multiple. ``timestamp`` is the bar's end (time bars) or its last trade's time
        (trade and volume bars). Open/high/low/close come from trades that qualify for last
        (basis C or E), or from all of the bar's trades if none does; ``volume`` and ``trades``
        count every print; ``total_volume`` is the day's cumulative volume at the bar's end.
        Only bars with trades appear.
        """
        if kind not in ("s", "t", "v"):
            raise ValueError(f"bar kind must be 's' (seconds), 't' (trades) or 'v' (volume), got {kind!r}")
        if int(interval) != interval or interval <= 0:
            raise ValueError(f"bar interval must be a positive integer, got {interval!r}")
        sess = self._session(day)
        return bars.interval_bars(self._day(symbol, sess.day), sess.day, int(interval), kind)

    def daily(self, symbol: str, start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
        """One row per session in [start, end]: date, open, high, low, close, volume, open_interest.

        Open/high/low/close are the regular session's basis-C trades (the opening print, the
        extremes, the closing cross); volume is the day's final total volume. Agrees exactly
        with ``ticks()`` of each day: the same simulation, run without building the day's rows
        (a few ms a day at activity 1). Each day is computed once and remembered.
        """
        self.instrument(symbol)
        days = calendar.sessions(calendar.to_date(start), calendar.to_date(end))
        if len(days) < 8:
            rows = [self._summary(symbol, d) for d in days]
        else:  # the kernels release the GIL: spread a long range over the cores
            with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
                rows = list(pool.map(lambda d: self._summary(symbol, d), days))
        return bars.daily_bars(days, rows)

    def halts(self, symbol: str, day: dt.date | str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Trading halts that day as [start, end) times: ~3% of symbol-days have one of 5-15 min."""
        self.instrument(symbol)
        sess = self._session(day)
        halt = halt_window(self.seed, symbol, sess)
        if halt is None:
            return []
        return [
            (sess.pre_open + pd.Timedelta(seconds=halt[0]), sess.pre_open + pd.Timedelta(seconds=halt[1]))
        ]

    # --- reference ---------------------------------------------------------------------------

    def fundamentals(self, symbol: str, as_of: dt.date | str = ANCHOR) -> dict[str, object]:
        """A few fields of IQFeed's fundamental (F) message, deterministic per (seed, symbol, as_of).

        52-week high/low come from the official closes of the 252 sessions before ``as_of``;
        average volume is the expected day volume at this market's activity.
        """
        inst = self.instrument(symbol)
        path = self._path(symbol)
        d = calendar.to_date(as_of)
        ordinals = all_sessions()
        p = int(np.searchsorted(ordinals, d.toordinal()))  # sessions strictly before as_of
        p = min(max(p, 1), len(ordinals))
        closes = path.close_px[max(p - 251, 1) : p + 1]
        tick = float(path.tick[p])
        crc = symbol_key(symbol)
        pe: float | None = None if inst.asset_class == "etf" else round(9 + (crc % 3100) / 100, 1)
        shares = int(SHARES_OUTSTANDING_MM.get(symbol, 500) * 1_000_000)
        lot = 10 if closes[-1] < 1 else 1
        return {
            "Symbol": symbol,
            "Exchange ID": f"{inst.listing:X}",
            "PE": pe,
            "Average Volume": round(inst.trades_per_day * self.activity * 330 * lot),
            "52 Week High": float(closes.max()),
            "52 Week Low": float(closes.min()),
            "Common Shares Outstanding": shares,
            "Company Name": inst.name,
            "Precision": _decimals(tick),
            "Listed Market": inst.listing,
            "Security Type": SECURITY_TYPE_EQUITY,
        }

    # --- internals ---------------------------------------------------------------------------

    @staticmethod
    def _session(day: dt.date | str) -> calendar.Session:
        return calendar.session(calendar.to_date(day))

    def _path(self, symbol: str) -> DailyPath:
        inst = self.instrument(symbol)
        return self._paths.get(symbol, lambda: daily_path(self.seed, inst))

    def _run(self, symbol: str, day: dt.date, full: bool) -> tuple[Summary, Day | None]:
        inst = self.instrument(symbol)
        sess = calendar.session(day)
        return run_day(
            inst,
            self._path(symbol),
            sess,
            halt_window(self.seed, symbol, sess),
            self.seed,
            self.activity,
            full,
        )

    def _day(self, symbol: str, day: dt.date) -> Day:
        """The day's rows, generated once and kept while the cache has room (weighed in rows)."""

        def make() -> Day:
            summary, rows = self._run(symbol, day, full=True)
            assert rows is not None, "a full run builds the day's rows"
            self._summaries.get((symbol, day), lambda: summary)
            return rows

        rows = self._frames.get(("day", symbol, day), make)
        assert isinstance(rows, Day), "the cache holds a Day under a 'day' key"
        return rows

    def _frame(self, key: tuple[str, str, dt.date], make: Callable[[], pd.DataFrame]) -> pd.DataFrame:
        frame = self._frames.get(key, make)
        assert isinstance(frame, pd.DataFrame), "the cache holds a frame under a 'level1' or 'ticks' key"
        return frame

    def _summary(self, symbol: str, day: dt.date) -> Summary:
        """(open, high, low, close, volume) of one day's basis-C trades, without building its rows."""
        return self._summaries.get((symbol, day), lambda: self._run(symbol, day, full=False)[0])


def _decimals(tick: float) -> int:
    return 2 if tick >= 0.01 else 4
