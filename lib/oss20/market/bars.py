"""Bars from one day's rows: IQFeed's interval bars (time, trade and volume), and daily bar frames.

Pure functions of a ``Day`` (or of daily summaries); ``Market`` does the caching.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import numpy as np
import pandas as pd

from oss20.market._kernels import B_C, B_E
from oss20.market.day import Day, Summary
from oss20.schema import TZ, timestamps


def interval_bars(d: Day, day: dt.date, interval: int, kind: str) -> pd.DataFrame:
    """The bars of ``d`` (the rows of session ``day``); see ``Market.interval_bars``.

    ``interval`` is a positive int and ``kind`` one of "s", "t" and "v" (the caller checks).
    """
    trades = d.trades
    t_ns, size, price, total = d.t_ns[trades], d.size[trades], d.price[trades], d.total_volume[trades]
    if kind == "s":
        midnight = pd.Timestamp(day).tz_localize(TZ).value
        key = (t_ns - midnight) // (interval * 10**9)
    elif kind == "t":
        key = np.arange(len(trades)) // interval
    else:
        key = (total - size) // interval
    n = len(key)
    if n == 0:
        return _empty_bars()
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
    ends = np.r_[starts[1:], n] - 1
    qualifies = np.isin(d.basis[trades], (B_C, B_E))
    idx = np.arange(n)
    first_q = np.minimum.reduceat(np.where(qualifies, idx, n), starts)
    last_q = np.maximum.reduceat(np.where(qualifies, idx, -1), starts)
    any_q = last_q >= 0
    first = np.where(any_q, first_q, starts)
    last = np.where(any_q, last_q, ends)
    high_q = np.maximum.reduceat(np.where(qualifies, price, -np.inf), starts)
    low_q = np.minimum.reduceat(np.where(qualifies, price, np.inf), starts)
    high = np.where(any_q, high_q, np.maximum.reduceat(price, starts))
    low = np.where(any_q, low_q, np.minimum.reduceat(price, starts))
    if kind == "s":
        end_ns = midnight + (key[starts] + 1) * interval * 10**9
        label = timestamps(end_ns)
    else:
        label = timestamps(t_ns[ends])
    return pd.DataFrame(
        {
            "timestamp": label,
            "open": price[first],
            "high": high,
            "low": low,
            "close": price[last],
            "total_volume": total[ends].astype(np.int64),
            "volume": np.add.reduceat(size, starts).astype(np.int64),
            "trades": (ends - starts + 1).astype(np.int64),
        }
    )


def daily_bars(days: Sequence[dt.date], rows: Sequence[Summary]) -> pd.DataFrame:
    """One row per session from each day's summary, in the columns of ``Market.daily``."""
    return pd.DataFrame(
        {
            "date": pd.Series(days, dtype=object),
            "open": np.array([r[0] for r in rows], dtype=np.float64),
            "high": np.array([r[1] for r in rows], dtype=np.float64),
            "low": np.array([r[2] for r in rows], dtype=np.float64),
            "close": np.array([r[3] for r in rows], dtype=np.float64),
            "volume": np.array([r[4] for r in rows], dtype=np.int64),
            "open_interest": np.zeros(len(rows), dtype=np.int64),
        }
    )


def _empty_bars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series(dtype=pd.DatetimeTZDtype("ns", TZ)),
            **{c: pd.Series(dtype=np.float64) for c in ("open", "high", "low", "close")},
            **{c: pd.Series(dtype=np.int64) for c in ("total_volume", "volume", "trades")},
        }
    )
