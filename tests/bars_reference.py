"""Reference bars for the tests, written from the definitions and sharing no code with ``oss20.bar_engine``.

Slow on purpose: the threshold, imbalance and run bars are plain Python loops over the rows, the
time bars pandas ``groupby`` over a time ``Grouper`` (resample's bins) with origin at the regular
open. Every function takes one or more symbols' trades (``schema.TICK_COLUMNS``, time order within
a symbol) and returns a frame with ``schema.BAR_COLUMNS``, symbols in sorted order, the last
(open) bar of a symbol included.

The definitions (see ``tests/unit/test_bars.py``):

* A session has three segments, pre-market [04:00, open), regular [open, close] and after hours
  (close, 20:00); bars never span two. Only regular ticks count unless ``extended_hours``. A print
  stamped exactly at the close, such as the closing cross, is regular and in the last time slot.
* OHLC come from prints whose basis is C or E, or from all the bar's prints if none is;
  volume, dollar volume (sum of price * size), vwap and trades count every print.
* Threshold bars close on the tick that brings the bar's measure (1, size or price * size) to
  the threshold. Imbalance and run bars follow de Prado (AFML ch. 2) with exponentially weighted
  expectations updated tick by tick, bars of at least ``min_ticks`` trades, and E[T] learnt
  from each bar that closes on its own (not from one cut by a segment's end) and clamped to
  [min_ticks, max_ticks]. The EWMAs are written in the incremental form ``e + a * (x - e)``,
  ``a = 2 / (span + 1)``, so that thresholds compare bit for bit with any implementation doing
  the same arithmetic.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.schema import BAR_COLUMNS, empty_frame

PRE, REGULAR, AFTER, CLOSED = 0, 1, 2, -1
DAY_SECONDS = 86_400


@dataclass(frozen=True)
class Tick:
    """One kept trade, as the loops see it."""

    time: pd.Timestamp
    price: float
    size: int
    qualified: bool
    segment: tuple[dt.date, int]


def segment_parts(timestamps: pd.Series) -> tuple[list[dt.date | None], np.ndarray]:
    """Per trade its session day and part (PRE, REGULAR, AFTER, or CLOSED with day None)."""
    local = timestamps.dt.tz_convert("America/New_York")
    dates = local.dt.date.to_numpy()
    parts = np.full(len(local), CLOSED)
    days: list[dt.date | None] = [None] * len(local)
    for day in pd.unique(dates):
        if not calendar.is_session(day):
            continue
        s = calendar.session(day)
        rows = np.flatnonzero(dates == day)
        t = local.iloc[rows]
        part = np.select(
            [
                ((t >= s.pre_open) & (t < s.open)).to_numpy(),
                ((t >= s.open) & (t <= s.close)).to_numpy(),
                ((t > s.close) & (t < s.post_close)).to_numpy(),
            ],
            [PRE, REGULAR, AFTER],
            CLOSED,
        )
        parts[rows] = part
        for r, p in zip(rows, part, strict=True):
            days[r] = day if p != CLOSED else None
    return days, parts


def kept(ticks: pd.DataFrame, extended_hours: bool) -> pd.DataFrame:
    """The trades bars are made of, with ``day``, ``part``, ``qualified`` and ``dollar`` columns."""
    days, parts = segment_parts(ticks["timestamp"])
    frame = ticks.assign(
        day=pd.Series(days, index=ticks.index, dtype=object),
        part=parts,
        qualified=ticks["basis"].isin(["C", "E"]).to_numpy(),
        dollar=ticks["price"].to_numpy() * ticks["size"].to_numpy(),
    )
    keep = frame["part"] != CLOSED if extended_hours else frame["part"] == REGULAR
    return frame.loc[keep.to_numpy()].reset_index(drop=True)


def _ticks(frame: pd.DataFrame) -> Iterable[Tick]:
    columns = zip(
        frame["timestamp"],
        frame["price"].tolist(),
        frame["size"].tolist(),
        frame["qualified"].tolist(),
        frame["day"],
        frame["part"].tolist(),
        strict=True,
    )
    for time, price, size, qualified, day, part in columns:
        yield Tick(time, float(price), int(size), bool(qualified), (day, int(part)))


def _bar(symbol: str, ticks: list[Tick], timestamp: pd.Timestamp | None = None) -> dict[str, object]:
    """One bar's row from its trades, by the definitions."""
    priced = [t for t in ticks if t.qualified] or ticks
    dollars = 0.0
    for t in ticks:
        dollars += t.price * t.size
    volume = sum(t.size for t in ticks)
    return {
        "timestamp": ticks[-1].time if timestamp is None else timestamp,
        "symbol": symbol,
        "open": priced[0].price,
        "high": max(t.price for t in priced),
        "low": min(t.price for t in priced),
        "close": priced[-1].price,
        "volume": volume,
        "dollar_volume": dollars,
        "vwap": dollars / volume if volume else np.nan,
        "trades": len(ticks),
        "first_tick": ticks[0].time,
        "last_tick": ticks[-1].time,
    }


def _frame(rows: list[dict[str, object]]) -> pd.DataFrame:
    if not rows:
        return empty_frame(BAR_COLUMNS)
    frame = pd.DataFrame(rows, columns=list(BAR_COLUMNS))
    return frame.astype(BAR_COLUMNS)


def _per_symbol(
    ticks: pd.DataFrame, bars: Callable[[str, pd.DataFrame], list[dict[str, object]]]
) -> pd.DataFrame:
    rows: list[dict[str, object]] = []
    for symbol in sorted(ticks["symbol"].unique()):
        rows.extend(bars(str(symbol), ticks.loc[(ticks["symbol"] == symbol).to_numpy()]))
    return _frame(rows)


def _measure(measure: str, tick: Tick) -> float:
    if measure == "tick":
        return 1.0
    if measure == "volume":
        return float(tick.size)
    if measure == "dollar":
        return tick.price * tick.size
    raise ValueError(f"unknown measure {measure!r}; expected tick, volume or dollar")


def _ewma(old: float, value: float, span: float) -> float:
    alpha = 2.0 / (span + 1.0)
    return old + alpha * (value - old)


# --- threshold bars ------------------------------------------------------------------------------


def threshold_bars(
    ticks: pd.DataFrame, measure: str, threshold: float, extended_hours: bool = False
) -> pd.DataFrame:
    """Tick, volume or dollar bars: close on the tick whose measure brings the bar's sum to ``threshold``."""

    def one(symbol: str, part: pd.DataFrame) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        bar: list[Tick] = []
        total = 0.0
        for tick in _ticks(kept(part, extended_hours)):
            if bar and tick.segment != bar[0].segment:
                rows.append(_bar(symbol, bar))
                bar, total = [], 0.0
            bar.append(tick)
            total += _measure(measure, tick)
            if total >= threshold:
                rows.append(_bar(symbol, bar))
                bar, total = [], 0.0
        if bar:
            rows.append(_bar(symbol, bar))
        return rows

    return _per_symbol(ticks, one)


# --- information-driven bars ---------------------------------------------------------------------


@dataclass
class _TickRule:
    """b_t = sign(p_t - p_{t-1}), or b_{t-1} when the price did not change; 0 before any change."""

    previous: float | None = None
    sign: int = 0

    def __call__(self, price: float) -> int:
        if self.previous is not None and price != self.previous:
            self.sign = 1 if price > self.previous else -1
        self.previous = price
        return self.sign


def imbalance_bars(
    ticks: pd.DataFrame,
    measure: str,
    expected_ticks: float,
    bar_span: float,
    tick_span: float,
    min_ticks: float,
    max_ticks: float,
    extended_hours: bool = False,
) -> pd.DataFrame:
    """Imbalance bars: close once |sum of b_t v_t| >= E[T] |E[b v]| and the bar has ``min_ticks`` trades."""

    def one(symbol: str, part: pd.DataFrame) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        rule = _TickRule()
        expected_t, expected_bv = expected_ticks, None
        bar: list[Tick] = []
        theta = 0.0
        threshold = 0.0
        for tick in _ticks(kept(part, extended_hours)):
            if bar and tick.segment != bar[0].segment:
                rows.append(_bar(symbol, bar))  # cut by the segment: E[T] does not learn from it
                bar, theta = [], 0.0
            if not bar:  # the book's E0: expectations as the bar opens
                threshold = expected_t * abs(expected_bv or 0.0)
            bar.append(tick)
            bv = rule(tick.price) * _measure(measure, tick)
            theta += bv
            if expected_bv is not None:
                expected_bv = _ewma(expected_bv, bv, tick_span)
            elif bv != 0:
                expected_bv = bv
            if len(bar) >= min_ticks and abs(theta) >= threshold:
                expected_t = min(max_ticks, max(min_ticks, _ewma(expected_t, float(len(bar)), bar_span)))
                rows.append(_bar(symbol, bar))
                bar, theta = [], 0.0
        if bar:
            rows.append(_bar(symbol, bar))
        return rows

    return _per_symbol(ticks, one)


def run_bars(
    ticks: pd.DataFrame,
    measure: str,
    expected_ticks: float,
    bar_span: float,
    tick_span: float,
    min_ticks: float,
    max_ticks: float,
    extended_hours: bool = False,
) -> pd.DataFrame:
    """Run bars: close once max(buy run, sell run) >= E[T] max(P E[v|buy], (1 - P) E[v|sell])."""

    def one(symbol: str, part: pd.DataFrame) -> list[dict[str, object]]:
        rows: list[dict[str, object]] = []
        rule = _TickRule()
        expected_t, p_buy = expected_ticks, 0.5
        v_buy: float | None = None
        v_sell: float | None = None
        bar: list[Tick] = []
        buys = sells = 0.0
        threshold = 0.0
        for tick in _ticks(kept(part, extended_hours)):
            if bar and tick.segment != bar[0].segment:
                rows.append(_bar(symbol, bar))
                bar, buys, sells = [], 0.0, 0.0
            if not bar:  # the book's E0: expectations as the bar opens
                threshold = expected_t * max(p_buy * (v_buy or 0.0), (1.0 - p_buy) * (v_sell or 0.0))
            bar.append(tick)
            b, v = rule(tick.price), _measure(measure, tick)
            if b > 0:
                buys += v
                p_buy = _ewma(p_buy, 1.0, tick_span)
                v_buy = v if v_buy is None else _ewma(v_buy, v, tick_span)
            elif b < 0:
                sells += v
                p_buy = _ewma(p_buy, 0.0, tick_span)
                v_sell = v if v_sell is None else _ewma(v_sell, v, tick_span)
            if len(bar) >= min_ticks and max(buys, sells) >= threshold:
                expected_t = min(max_ticks, max(min_ticks, _ewma(expected_t, float(len(bar)), bar_span)))
                rows.append(_bar(symbol, bar))
                bar, buys, sells = [], 0.0, 0.0
        if bar:
            rows.append(_bar(symbol, bar))
        return rows

    return _per_symbol(ticks, one)


# --- time bars -------------------------------------------------------------------------------------


def _ohlc(groups: Any) -> pd.DataFrame:
    return groups["price"].agg(["first", "max", "min", "last", "count"])


def time_bars(ticks: pd.DataFrame, seconds: float, extended_hours: bool = False) -> pd.DataFrame:
    """Time bars by pandas: per segment, resample bins with origin at the regular open, empty bins dropped.

    ``seconds == 86400`` is one bar per session: the regular session's, or with extended hours the
    whole 04:00-20:00 day, stamped at the open or at 04:00.
    """
    frames = []
    for symbol in sorted(ticks["symbol"].unique()):
        part = kept(ticks.loc[(ticks["symbol"] == symbol).to_numpy()], extended_hours)
        part = part.assign(time=part["timestamp"])
        keys = ["day"] if seconds == DAY_SECONDS else ["day", "part"]
        for key, group in part.groupby(keys, sort=True):
            day, segment = cast(tuple[dt.date, int], (*key, REGULAR)[:2])  # daily groups have no part
            s = calendar.session(day)
            if seconds == DAY_SECONDS:
                start = s.pre_open if extended_hours else s.open
                grouper = pd.Grouper(key="timestamp", freq="1D", origin=start, closed="left", label="left")
            else:
                start = (s.pre_open, s.open, s.close)[segment]
                if segment == REGULAR:  # the closing cross belongs to the last regular slot
                    last = s.close - pd.Timedelta(1, "ns")
                    group = group.assign(timestamp=group["timestamp"].clip(upper=last))
                grouper = pd.Grouper(
                    key="timestamp", freq=f"{int(seconds)}s", origin=s.open, closed="left", label="left"
                )
            every = group.groupby(grouper)
            agg = every.agg(
                volume=("size", "sum"),
                dollar_volume=("dollar", "sum"),
                trades=("price", "size"),
                first_tick=("time", "first"),
                last_tick=("time", "last"),
            )
            prices = _ohlc(every)
            qualified = _ohlc(group.loc[group["qualified"]].groupby(grouper)).reindex(prices.index)
            use = (qualified["count"] > 0).to_numpy()[:, None]
            ohlc = pd.DataFrame(np.where(use, qualified, prices), index=prices.index, columns=prices.columns)
            agg = agg.assign(open=ohlc["first"], high=ohlc["max"], low=ohlc["min"], close=ohlc["last"]).loc[
                agg["trades"] > 0
            ]
            stamps = pd.Series(agg.index, index=agg.index).clip(lower=start)
            frames.append(
                agg.assign(
                    timestamp=stamps,
                    symbol=str(symbol),
                    vwap=agg["dollar_volume"] / agg["volume"],
                ).reset_index(drop=True)
            )
    frames = [f for f in frames if len(f)]
    if not frames:
        return empty_frame(BAR_COLUMNS)
    return pd.concat(frames, ignore_index=True).loc[:, list(BAR_COLUMNS)].astype(BAR_COLUMNS)
