"""Tick, Level 1 update and bar columns with their dtypes: the one place that names them.

Every frame that crosses a module boundary (client -> validation -> storage -> bars) carries
exactly these columns in this order. Timestamps are exchange-local (America/New_York), ns.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd

Columns = dict[str, Any]
"""Column name -> numpy or pandas dtype, in frame order."""

TZ = "America/New_York"
TIMESTAMP = pd.DatetimeTZDtype("ns", TZ)
TZINFO = TIMESTAMP.tz
"""America/New_York as a tzinfo (``pd.Timestamp(ns, tz=TZINFO)`` skips a time-zone lookup)."""

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
    return identity(frame["market_center"].to_numpy(), frame["tick_id"].to_numpy())


def identity(market_centers: np.ndarray, tick_ids: np.ndarray) -> np.ndarray:
    """``tick_identity`` of columns."""
    return (market_centers.astype(np.int64) << 48) | tick_ids.astype(np.int64, copy=False)


REJECTED_COLUMNS: Columns = {**TICK_COLUMNS, "reason": object}
"""A tick tier 1 quarantined, with the rule it failed."""

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
NS_PER_HOUR = 3_600 * 10**9
NAT = np.iinfo(np.int64).min
"""NaT as int64 nanoseconds."""


def timestamps(ns: np.ndarray) -> pd.DatetimeIndex:
    """Epoch nanoseconds (UTC) as America/New_York timestamps."""
    return pd.DatetimeIndex(ns.astype(np.int64, copy=False).view("M8[ns]")).tz_localize("UTC").tz_convert(TZ)


def wall_ns(stamps: pd.Series) -> np.ndarray:
    """America/New_York wall-clock time as int64 ns (so // NS_PER_DAY is the local day number)."""
    utc = stamps.array.asi8 if isinstance(stamps.dtype, pd.DatetimeTZDtype) else stamps.to_numpy(np.int64)
    return wall_from_utc(utc)


def wall_from_utc(utc: np.ndarray) -> np.ndarray:
    """``wall_ns`` of epoch nanoseconds (UTC); NaT (int64 min) stays far below any real day."""
    if len(utc) == 0:
        return utc.astype(np.int64)
    lo, hi = int(utc.min()), int(utc.max())
    if lo == NAT:
        valid = utc != NAT
        out = np.full(len(utc), NAT, np.int64)
        out[valid] = wall_from_utc(utc[valid])
        return out
    first, last = _utc_offset_ns(lo // NS_PER_HOUR), _utc_offset_ns(hi // NS_PER_HOUR)
    if first == last:
        return utc + first
    hours, inverse = np.unique(utc // NS_PER_HOUR, return_inverse=True)
    return utc + np.array([_utc_offset_ns(int(h)) for h in hours], np.int64)[inverse]


@functools.lru_cache(maxsize=8192)
def _utc_offset_ns(utc_hour: int) -> int:
    """New York's UTC offset in ns during one UTC hour (offsets only change on the hour)."""
    offset = pd.Timestamp(utc_hour * NS_PER_HOUR, tz="UTC").tz_convert(TZ).utcoffset()
    return int(offset.total_seconds()) * 10**9 if offset is not None else 0


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


def last_per_symbol(symbols: np.ndarray, values: np.ndarray) -> dict[str, Any]:
    """The greatest value per symbol (as a Python scalar)."""
    codes, names = pd.factorize(symbols, sort=False)
    if len(names) == 1:
        return {str(names[0]): values.max().item()}
    best = np.full(len(names), values.min())
    np.maximum.at(best, codes, values)
    return {str(name): value for name, value in zip(names, best.tolist(), strict=True)}


def last_rows(symbols: np.ndarray) -> dict[str, int]:
    """The position of each symbol's last row."""
    codes, names = pd.factorize(symbols, sort=False)
    _, from_end = np.unique(codes[::-1], return_index=True)
    return {str(name): len(codes) - 1 - int(i) for name, i in zip(names, from_end.tolist(), strict=True)}


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
    return _EMPTY[key].copy(deep=False)  # nothing to share but the (empty) column arrays


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
    dtypes = frame.dtypes.tolist()
    changes = {
        name: dtype for (name, dtype), have in zip(columns.items(), dtypes, strict=True) if have != dtype
    }
    return frame.astype(changes) if changes else frame
