"""Tier metadata of one symbol-day: what a quant asks of a day before reading its ticks.

Tier 1 basic statistics (OHLCV, count, VWAP, first and last tick), tier 2 microstructure (spread,
trade size distribution, trade intensity per half hour), tier 3 derived figures (realized
volatility, order-flow imbalance, autocorrelation of returns). Each is a small frame, stored in
``metadata_tierN`` under ``{symbol}/day/{date}/tierN``. Pure: a ``DayTicks`` in, frames out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oss20.calendar import Session
from oss20.schema import TZINFO, timestamps
from oss20.validation import _kernels as K
from oss20.validation._stats import LIMIT, quantiles_of_counts
from oss20.validation.day import DayTicks

HALF_HOUR_NS = 30 * 60 * 10**9
FIVE_MINUTES_NS = 5 * 60 * 10**9
MINUTE_NS = 60 * 10**9
SIZE_QUANTILES = (0.25, 0.5, 0.75, 0.95, 0.99)


def tier1(day: DayTicks) -> pd.DataFrame:
    """One row: regular-session OHLC of basis-C prints, the day's volume, count, VWAP, first/last tick."""
    o, h, lo, c, volume, notional = day.ohlc
    n = len(day)
    return pd.DataFrame(
        {
            "open": [o],
            "high": [h],
            "low": [lo],
            "close": [c],
            "volume": [volume],
            "count": [n],
            "vwap": [notional / volume if volume else np.nan],
            "first_tick": [_stamp(day.ns[0]) if n else pd.NaT],
            "last_tick": [_stamp(day.ns[-1]) if n else pd.NaT],
        }
    )


def tier2(day: DayTicks, session: Session, spreads: dict[str, float]) -> pd.DataFrame:
    """One row per regular-session half hour (start, trades, volume: the day's trade intensity), with
    the day's spread (``spreads``: the tier-2 check's figures) and trade-size distribution as the
    first row's ``*_day`` columns."""
    ns, size = day.ns, day.size
    edges = np.arange(session.open.value, session.close.value + HALF_HOUR_NS, HALF_HOUR_NS)
    edges[-1] = max(edges[-1], session.close.value + 1)  # the closing cross belongs to the last half hour
    cuts = np.searchsorted(ns, edges)
    volume = [int(size[lo:hi].sum()) for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True)]
    frame = pd.DataFrame({"start": timestamps(edges[:-1]), "trades": np.diff(cuts), "volume": volume})
    sizes = _size_distribution(size)
    whole_day = {
        "spread_median_day": spreads.get("median_spread", np.nan),
        "spread_mean_day": spreads.get("mean_spread", np.nan),
        "spread_p95_day": spreads.get("p95_spread", np.nan),
        **sizes,
    }
    for name, value in whole_day.items():
        frame[name] = [float(value)] + [np.nan] * (len(frame) - 1)
    return frame


def _size_distribution(size: np.ndarray) -> dict[str, float]:
    """Mean, largest and ``SIZE_QUANTILES`` of the day's trade sizes (from one histogram pass)."""
    if len(size) == 0:
        return {"size_mean_day": np.nan, "size_max_day": 0, **{_size_name(q): np.nan for q in SIZE_QUANTILES}}
    counts, low, total, high = K.size_histogram(size, LIMIT)
    exact = quantiles_of_counts(counts, int(low), len(size), SIZE_QUANTILES)
    values = [
        float(np.quantile(size, q)) if x != x else x for q, x in zip(SIZE_QUANTILES, exact, strict=True)
    ]
    return {
        "size_mean_day": total / len(size),
        "size_max_day": float(high),
        **{_size_name(q): v for q, v in zip(SIZE_QUANTILES, values, strict=True)},
    }


def _size_name(q: float) -> str:
    return f"size_p{round(q * 100)}_day"


def tier3(day: DayTicks, session: Session) -> pd.DataFrame:
    """One row: realized volatility (5-minute returns), order-flow imbalance by aggressor, and the
    first-order autocorrelation of 1-minute returns (regular-session basis-C prints)."""
    one, five, buys, sells = K.flow(
        day.ns,
        day.price,
        day.regular_c,
        day.aggressor,
        day.size,
        session.open.value,
        session.close.value,
        MINUTE_NS,
        FIVE_MINUTES_NS,
    )
    five_returns, one_returns = np.diff(np.log(five)), np.diff(np.log(one))
    return pd.DataFrame(
        {
            "realized_vol_5min": [float(np.sqrt((five_returns**2).sum())) if len(five_returns) else np.nan],
            "order_flow_imbalance": [(buys - sells) / (buys + sells) if buys + sells else np.nan],
            "autocorr_1min": [_autocorr(one_returns)],
        }
    )


def _autocorr(returns: np.ndarray) -> float:
    if len(returns) < 3 or returns[1:].std() == 0 or returns[:-1].std() == 0:
        return float("nan")
    return float(np.corrcoef(returns[:-1], returns[1:])[0, 1])


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz=TZINFO)
