"""Tick, Level 1 update and bar columns with their dtypes: the one place that names them.

Every frame that crosses a module boundary (client -> validation -> storage -> bars) carries
exactly these columns in this order. Timestamps are exchange-local (America/New_York), ns.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

Columns = dict[str, Any]
"""Column name -> numpy or pandas dtype, in frame order."""

TZ = "America/New_York"
TIMESTAMP = pd.DatetimeTZDtype("ns", TZ)

TICK_COLUMNS: Columns = {
    "timestamp": TIMESTAMP,  # trade time, microsecond resolution
    "symbol": object,
    "tick_id": np.int64,  # sequence per market center and day
    "market_center": np.int16,
    "price": np.float64,
    "size": np.int64,
    "total_volume": np.int64,  # feed's cumulative day volume after this trade
    "bid": np.float64,  # quote at the time of the trade
    "ask": np.float64,
    "basis": object,  # C regular, E extended hours, O other (not counted in last)
    "conditions": object,  # concatenated two-hex-digit trade condition codes
    "aggressor": np.int8,  # 0 unknown, 1 buy, 2 sell
}
"""A trade with the quote at its time: what IQFeed tick history returns, and the stored unit."""

TICK_IDENTITY = ("symbol", "market_center", "tick_id")
"""With the trading day, what makes a tick unique (TickIDs are per market center)."""


def tick_identity(frame: pd.DataFrame) -> np.ndarray:
    """One int64 per tick from (market center, TickID): equal when two ticks of a symbol-day are one."""
    centers = frame["market_center"].to_numpy(np.int64)
    return (centers << 48) | frame["tick_id"].to_numpy(np.int64)


LEVEL1_COLUMNS: Columns = {
    **TICK_COLUMNS,
    "bid_size": np.int64,
    "ask_size": np.int64,
    "open": np.float64,
    "high": np.float64,
    "low": np.float64,
    "close": np.float64,
    "contents": object,  # IQFeed Message Contents: C/E/O trade, b bid, a ask, ...
}
"""A Level 1 update (Q message): the symbol's full state after one trade or quote change."""

BAR_COLUMNS: Columns = {
    "timestamp": TIMESTAMP,  # time bars: the bar's start; other families: its last tick's time
    "symbol": object,
    "open": np.float64,  # OHLC from prints that qualify for last (basis C or E), else from all
    "high": np.float64,
    "low": np.float64,
    "close": np.float64,
    "volume": np.int64,
    "dollar_volume": np.float64,
    "vwap": np.float64,
    "trades": np.int64,
    "first_tick": TIMESTAMP,
    "last_tick": TIMESTAMP,
}
"""A bar built by oss20 from ticks: time, tick, volume, dollar, imbalance or run."""


INTERVAL_BAR_COLUMNS: Columns = {
    "timestamp": BAR_COLUMNS["timestamp"],
    "symbol": BAR_COLUMNS["symbol"],
    "open": BAR_COLUMNS["open"],
    "high": BAR_COLUMNS["high"],
    "low": BAR_COLUMNS["low"],
    "close": BAR_COLUMNS["close"],
    "total_volume": TICK_COLUMNS["total_volume"],
    "volume": BAR_COLUMNS["volume"],
    "trades": BAR_COLUMNS["trades"],
}
"""An IQFeed interval bar (HIX/HID/HIT reply); ``timestamp`` as the request labelled it (end or start)."""

DAILY_COLUMNS: Columns = {
    "date": np.dtype("datetime64[ns]"),  # calendar date (midnight, no time zone)
    "symbol": BAR_COLUMNS["symbol"],
    "open": BAR_COLUMNS["open"],
    "high": BAR_COLUMNS["high"],
    "low": BAR_COLUMNS["low"],
    "close": BAR_COLUMNS["close"],
    "volume": BAR_COLUMNS["volume"],
    "open_interest": BAR_COLUMNS["volume"],
}
"""An IQFeed daily, weekly or monthly bar (HDX/HDT/HWX/HMX reply)."""


NS_PER_DAY = 86_400 * 10**9


def wall_ns(stamps: pd.Series) -> np.ndarray:
    """America/New_York wall-clock time as int64 ns (so // NS_PER_DAY is the local day number)."""
    utc = stamps.array.asi8 if isinstance(stamps.dtype, pd.DatetimeTZDtype) else stamps.to_numpy(np.int64)
    if len(utc) == 0:
        return utc
    first, last = (pd.Timestamp(int(t), tz="UTC").tz_convert(TZ).utcoffset() for t in (utc.min(), utc.max()))
    if first == last and first is not None:
        return utc + int(first.total_seconds()) * 10**9
    return stamps.dt.tz_localize(None).to_numpy().astype(np.int64)


def group_rows(symbols: np.ndarray, days: np.ndarray) -> list[tuple[str, dt.date, np.ndarray]]:
    """Row indices per (symbol, local day number), in order of first appearance; cheap for few groups."""
    codes, names = pd.factorize(symbols, sort=False)
    key = codes.astype(np.int64) * 1_000_000 + days
    if len(key) and (key == key[0]).all():
        return [(str(names[codes[0]]), _date(days[0]), np.arange(len(key)))]
    unique, first = np.unique(key, return_index=True)
    return [
        (str(names[codes[i]]), _date(days[i]), np.flatnonzero(key == k))
        for k, i in sorted(zip(unique.tolist(), first.tolist(), strict=True), key=lambda pair: pair[1])
    ]


def _date(day_number: int) -> dt.date:
    return dt.date(1970, 1, 1) + dt.timedelta(days=int(day_number))


def symbol_days(frame: pd.DataFrame) -> Iterator[tuple[str, dt.date, pd.DataFrame]]:
    """Split a tick frame into (symbol, trading day, rows), in order of first appearance."""
    if frame.empty:
        return
    days = wall_ns(frame["timestamp"]) // NS_PER_DAY
    groups = group_rows(frame["symbol"].to_numpy(), days)
    if len(groups) == 1:
        yield groups[0][0], groups[0][1], frame
        return
    for symbol, day, rows in groups:
        yield symbol, day, frame.iloc[rows]


def empty_frame(columns: Columns) -> pd.DataFrame:
    """An empty frame with the given columns and dtypes (a copy of one built once per column set)."""
    key = tuple((name, str(dtype)) for name, dtype in columns.items())
    if key not in _EMPTY:
        _EMPTY[key] = pd.DataFrame({name: pd.Series(dtype=dtype) for name, dtype in columns.items()})
    return _EMPTY[key].copy()


_EMPTY: dict[tuple[tuple[str, str], ...], pd.DataFrame] = {}


def conform(frame: pd.DataFrame, columns: Columns) -> pd.DataFrame:
    """Return ``frame`` with exactly ``columns``, in order and with their dtypes.

    A frame that already conforms is returned as it is (no copy: this runs on every tick batch).
    Raises KeyError naming the missing columns rather than inventing values.
    """
    names = list(columns)
    if frame.columns.tolist() != names:
        missing = [name for name in columns if name not in frame.columns]
        if missing:
            raise KeyError(f"frame lacks columns {missing}; expected {names}")
        frame = frame.loc[:, names]
    changes = {name: dtype for name, dtype in columns.items() if frame[name].dtype != dtype}
    return frame.astype(changes) if changes else frame
