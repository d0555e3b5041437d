"""Bars from ticks, streaming or in one call, through the same kernels: the results are identical.

``BarBuilder`` keeps one symbol's open bar and the expectations of information-driven bars between
``update`` calls; ``build_bars`` is a builder fed everything at once, plus the bar still open.
Bars never span a session segment: pre-market [04:00, open), the regular session [open, close]
(the calendar's close, half days included; a print at the close, such as the closing cross,
is regular and falls in the last slot) and after hours (close, 20:00) are separate, and only the
regular session counts unless ``extended_hours`` is set. Time bars align to the regular open
(09:30 ET), not to midnight UTC.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.bar_engine import kernels as K
from oss20.bar_engine.spec import MEASURES, BarSpec
from oss20.schema import BAR_COLUMNS, NS_PER_HOUR, TIMESTAMP, TZ, TZINFO, conform, empty_frame, timestamps

SLOT_BITS = 32
PARTS = 4  # pre-market, regular, after hours, closed
REGULAR = 1


class BarBuilder:
    """Bars of one symbol and spec, built tick batch by tick batch.

    >>> builder = BarBuilder("AAPL", "volume:10000")
    >>> completed = builder.update(ticks)  # doctest: +SKIP
    >>> still_open = builder.partial()  # doctest: +SKIP
    """

    def __init__(self, symbol: str, spec: str | BarSpec, extended_hours: bool = False) -> None:
        self.symbol = symbol
        self.spec = BarSpec.parse(spec)
        self.extended_hours = extended_hours
        self._acc_f, self._acc_i, self._info = K.new_state()
        self._info[K.EXP_T] = self.spec.expected_ticks

    def update(self, ticks: pd.DataFrame) -> pd.DataFrame:
        """Feed trades of ``symbol`` in time order; return the bars they completed."""
        if ticks.empty:
            return empty_frame(BAR_COLUMNS)
        qualified = ticks["basis"].isin(("C", "E")).to_numpy()
        return self.update_arrays(
            _nanoseconds(ticks["timestamp"]),
            ticks["price"].to_numpy(np.float64),
            ticks["size"].to_numpy(np.int64),
            qualified,
        )

    def update_arrays(
        self, times: np.ndarray, prices: np.ndarray, sizes: np.ndarray, qualified: np.ndarray
    ) -> pd.DataFrame:
        """``update`` on columns: epoch ns (int64), price, size, and whether each print qualifies for last."""
        bars = self.completed(times, prices, sizes, qualified)
        return empty_frame(BAR_COLUMNS) if bars is None else bar_frame(bars)

    def completed(
        self, times: np.ndarray, prices: np.ndarray, sizes: np.ndarray, qualified: np.ndarray
    ) -> dict[str, np.ndarray] | None:
        """The bars these trades completed as ``bar_frame`` columns, or None when none completed.

        No DataFrame is built: the live path feeds every batch and most complete nothing.
        """
        if self.spec.family == "time" and len(times):
            out = self._time_bars_in_order(times, prices, sizes, qualified)
            if out is not None:
                return self._columns(*out) if len(out[0]) else None
        segments, keys = _locate(times, self.spec, self.extended_hours)
        keep = segments % PARTS != PARTS - 1 if self.extended_hours else segments % PARTS == REGULAR
        if not keep.all():
            times, prices, sizes, qualified = times[keep], prices[keep], sizes[keep], qualified[keep]
            segments, keys = segments[keep], keys[keep]
        out_f, out_i = np.empty((len(times) + 1, K.OUT_F)), np.empty((len(times) + 1, K.OUT_I), np.int64)
        count = self._run(segments, keys, times, prices, sizes, qualified, out_f, out_i)
        return self._columns(out_f[:count], out_i[:count]) if count else None

    def partial(self) -> pd.DataFrame:
        """The bar still open (one row, or none), without closing it."""
        out_f, out_i = np.empty((1, K.OUT_F)), np.empty((1, K.OUT_I), np.int64)
        count = K.open_bar(self._acc_f, self._acc_i, out_f, out_i)
        return bar_frame(self._columns(out_f[:count], out_i[:count])) if count else empty_frame(BAR_COLUMNS)

    def _time_bars_in_order(
        self, times: np.ndarray, prices: np.ndarray, sizes: np.ndarray, qualified: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Time bars (kernel rows) in one fused pass when the ticks are in time order, else None."""
        days = _days_around(times)
        edges, ordinals = _edges(days) if days else (np.empty(0, np.int64), np.empty(0, np.int64))
        interval = 0 if self.spec.is_daily else int(self.spec.size * 1e9)
        daily_part = 0 if self.extended_hours else REGULAR
        span = max(0, int(times[-1]) - int(times[0]))
        slots = span // interval if interval else 0
        rows = min(len(times) + 1, slots + 4 * len(days) + 4)  # bars are bounded by slots and segment edges
        out_f, out_i = np.empty((rows, K.OUT_F)), np.empty((rows, K.OUT_I), np.int64)
        count = K.time_bars_in_order(
            times,
            prices,
            sizes,
            qualified,
            edges,
            ordinals,
            interval,
            daily_part,
            self.extended_hours,
            self._acc_f,
            self._acc_i,
            out_f,
            out_i,
        )
        return None if count < 0 else (out_f[:count], out_i[:count])

    def _run(
        self,
        segments: np.ndarray,
        keys: np.ndarray,
        times: np.ndarray,
        prices: np.ndarray,
        sizes: np.ndarray,
        qualified: np.ndarray,
        out_f: np.ndarray,
        out_i: np.ndarray,
    ) -> int:
        spec, acc = self.spec, (self._acc_f, self._acc_i)
        if spec.family == "time":
            return int(K.time_bars(keys, times, prices, sizes, qualified, *acc, out_f, out_i))
        measure = MEASURES[spec.measure]
        if spec.family == "threshold":
            return int(
                K.threshold_bars(
                    segments, times, prices, sizes, qualified, measure, spec.size, *acc, out_f, out_i
                )
            )
        kernel = K.imbalance_bars if spec.family == "imbalance" else K.run_bars
        params = (spec.bar_span, spec.tick_span, spec.min_ticks, spec.max_ticks)
        return int(
            kernel(
                segments, times, prices, sizes, qualified, measure, *params, *acc, self._info, out_f, out_i
            )
        )

    def _columns(self, out_f: np.ndarray, out_i: np.ndarray) -> dict[str, np.ndarray]:
        first, last = out_i[:, K.OUT_FIRST_T], out_i[:, K.OUT_LAST_T]
        label = (
            _time_starts(out_i[:, K.OUT_KEY], self.spec, self.extended_hours)
            if self.spec.family == "time"
            else last
        )
        volume = out_i[:, K.OUT_VOLUME]
        dollars = out_f[:, K.OUT_DOLLAR]
        return {
            "timestamp": np.ascontiguousarray(label),
            "symbol": np.full(len(volume), self.symbol, dtype=object),
            "open": out_f[:, K.OUT_OPEN],
            "high": out_f[:, K.OUT_HIGH],
            "low": out_f[:, K.OUT_LOW],
            "close": out_f[:, K.OUT_CLOSE],
            "volume": volume,
            "dollar_volume": dollars,
            "vwap": np.divide(dollars, volume, out=np.full(len(volume), np.nan), where=volume > 0),
            "trades": out_i[:, K.OUT_TRADES],
            "first_tick": np.ascontiguousarray(first),
            "last_tick": np.ascontiguousarray(last),
        }


def bar_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    """Bars held as columns (``BAR_COLUMNS`` names, times as epoch ns) as a ``BAR_COLUMNS`` frame."""
    data = {name: timestamps(columns[name]) if name in _TIMES else columns[name] for name in BAR_COLUMNS}
    return conform(pd.DataFrame(data), BAR_COLUMNS)


def bar_records(columns: dict[str, np.ndarray]) -> list[dict[str, Any]]:
    """Bars held as columns as one dict per bar, times as ``pd.Timestamp`` in America/New_York."""
    values = {
        name: [pd.Timestamp(ns, tz=TZINFO) for ns in columns[name].tolist()]
        if name in _TIMES
        else columns[name].tolist()
        for name in BAR_COLUMNS
    }
    return [dict(zip(values, row, strict=True)) for row in zip(*values.values(), strict=True)]


_TIMES = frozenset(name for name, dtype in BAR_COLUMNS.items() if dtype == TIMESTAMP)


def build_bars(ticks: pd.DataFrame, spec: str | BarSpec, extended_hours: bool = False) -> pd.DataFrame:
    """All bars of ``ticks`` (any symbols, time order within each), the last open bar included.

    ``timestamp`` is the bar's start for time bars and its last tick's time for the others.
    """
    parsed = BarSpec.parse(spec)
    frames = []
    for symbol, part in _by_symbol(ticks):
        builder = BarBuilder(symbol, parsed, extended_hours)
        frames.extend([builder.update(part), builder.partial()])
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_frame(BAR_COLUMNS)


def _by_symbol(ticks: pd.DataFrame) -> Iterator[tuple[str, pd.DataFrame]]:
    symbols = ticks["symbol"].to_numpy()
    if len(symbols) == 0:
        return
    if (symbols == symbols[0]).all():
        yield str(symbols[0]), ticks
        return
    for symbol, part in ticks.groupby("symbol", sort=True):
        yield str(symbol), part


def _locate(times: np.ndarray, spec: BarSpec, extended_hours: bool) -> tuple[np.ndarray, np.ndarray]:
    """Per tick: day ordinal * 4 + part (0 pre-market, 1 regular, 2 after hours, 3 closed), and bar key."""
    segments, keys = np.empty(len(times), np.int64), np.empty(len(times), np.int64)
    if len(times) == 0:
        return segments, keys
    days = _days_around(times)
    if not days:
        segments[:] = PARTS - 1
        return segments, keys
    edges, ordinals = _edges(days)
    interval = 0 if spec.is_daily or spec.family != "time" else int(spec.size * 1e9)
    K.locate(times, edges, ordinals, interval, 0 if extended_hours else REGULAR, segments, keys)
    return segments, keys


def _days_around(times: np.ndarray) -> tuple[dt.date, ...]:
    """The sessions from the day before the first tick's to the last tick's (ET dates)."""
    return _sessions_around(
        _et_date(int(times.min()) // NS_PER_HOUR), _et_date(int(times.max()) // NS_PER_HOUR)
    )


@functools.lru_cache(maxsize=4096)
def _et_date(utc_hour: int) -> dt.date:
    """The New York date during one UTC hour (New York's offset is whole hours)."""
    return pd.Timestamp(utc_hour * NS_PER_HOUR, tz="UTC").tz_convert(TZ).date()


@functools.lru_cache(maxsize=1024)
def _sessions_around(first: dt.date, last: dt.date) -> tuple[dt.date, ...]:
    return tuple(calendar.sessions(first - dt.timedelta(days=1), last))


_EDGES: dict[tuple[dt.date, ...], tuple[np.ndarray, np.ndarray]] = {}


def _edges(days: tuple[dt.date, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Flat [pre_open, open, close + 1 ns, post_close] per session (a print at the close is regular)."""
    if days not in _EDGES:
        if len(_EDGES) > 1024:
            _EDGES.clear()
        sessions = [calendar.session(d) for d in days]
        flat = [
            v
            for x in sessions
            for v in (x.pre_open.value, x.open.value, x.close.value + 1, x.post_close.value)
        ]
        _EDGES[days] = (np.array(flat, np.int64), np.array([d.toordinal() for d in days], np.int64))
    return _EDGES[days]


def _day_bounds(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Regular open and close (ns) of each tick's session."""
    unique, inverse = np.unique(ordinals, return_inverse=True)
    sessions = [calendar.session(dt.date.fromordinal(int(d))) for d in unique]
    opens = np.array([s.open.value for s in sessions], np.int64)
    closes = np.array([s.close.value for s in sessions], np.int64)
    return opens[inverse], closes[inverse]


def _time_starts(keys: np.ndarray, spec: BarSpec, extended_hours: bool) -> np.ndarray:
    """Each time bar's start: its grid slot's start, but never before its segment's."""
    if spec.is_daily:
        sessions = [calendar.session(dt.date.fromordinal(int(k // PARTS))) for k in keys]
        return np.array([(s.pre_open if extended_hours else s.open).value for s in sessions], np.int64)
    segments = keys >> SLOT_BITS
    slot = (keys & ((1 << SLOT_BITS) - 1)) - (1 << (SLOT_BITS - 1))
    offsets = slot * int(spec.size * 1e9)
    if (segments == segments[0]).all():  # the live case: a few bars of one segment
        segment = int(segments[0])
        day_open = calendar.session(dt.date.fromordinal(segment // PARTS)).open.value
        return np.maximum(day_open + offsets, _segment_start(segment))
    starts = _day_bounds(segments // PARTS)[0] + offsets
    unique = np.unique(segments)
    seg_start = {int(s): _segment_start(int(s)) for s in unique}
    return np.maximum(starts, np.array([seg_start[int(s)] for s in segments], np.int64))


def _segment_start(segment: int) -> int:
    session = calendar.session(dt.date.fromordinal(segment // PARTS))
    return (session.pre_open, session.open, session.close)[segment % PARTS].value


def _nanoseconds(stamps: pd.Series) -> np.ndarray:
    """Epoch nanoseconds whatever the column's unit (a Parquet round trip leaves microseconds)."""
    values = stamps.array
    if getattr(values, "unit", "ns") != "ns":
        values = values.as_unit("ns")
    return values.asi8
