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
from oss20.schema import TZINFO
from oss20.validation.day import DayTicks

HALF_HOUR_NS = 30 * 60 * 10**9
FIVE_MINUTES_NS = 5 * 60 * 10**9
SIZE_QUANTILES = (0.25, 0.5, 0.75, 0.95, 0.99)


def tier1(day: DayTicks) -> pd.DataFrame:
    """One row: regular-session OHLC of basis-C prints, the day's volume, count, VWAP, first/last tick."""
    ns, price, size = day.ns, day.price, day.size
    prices = price[day.regular_c]
    volume = int(size.sum())
    return pd.DataFrame(
        {
            "open": [prices[0] if len(prices) else np.nan],
            "high": [prices.max() if len(prices) else np.nan],
            "low": [prices.min() if len(prices) else np.nan],
            "close": [prices[-1] if len(prices) else np.nan],
            "volume": [volume],
            "count": [len(ns)],
            "vwap": [float(price @ size) / volume if volume else np.nan],
            "first_tick": [_stamp(ns[0]) if len(ns) else pd.NaT],
            "last_tick": [_stamp(ns[-1]) if len(ns) else pd.NaT],
        }
    )


def tier2(day: DayTicks, session: Session) -> pd.DataFrame:
    """One row per regular-session half hour: trades, volume, median size and median spread, with
    the day's spread and trade-size distribution as the first row's ``*_day`` columns."""
    ns, size, bid, ask = day.ns, day.size, day.bid, day.ask
    spread = np.where((bid > 0) & (ask > 0), ask - bid, np.nan)
    edges = np.arange(session.open.value, session.close.value + HALF_HOUR_NS, HALF_HOUR_NS)
    edges[-1] = max(edges[-1], session.close.value + 1)  # the closing cross belongs to the last half hour
    cuts = np.searchsorted(ns, edges).tolist()
    rows = []
    for start, lo, hi in zip(edges[:-1].tolist(), cuts[:-1], cuts[1:], strict=True):
        sizes, spreads = size[lo:hi], spread[lo:hi]
        rows.append(
            {
                "start": _stamp(start),
                "trades": hi - lo,
                "volume": int(sizes.sum()),
                "median_size": float(np.median(sizes)) if hi > lo else np.nan,
                "median_spread": float(np.nanmedian(spreads))
                if hi > lo and not np.isnan(spreads).all()
                else np.nan,
            }
        )
    frame = pd.DataFrame(rows)
    quoted = spread[~np.isnan(spread)]
    whole_day = {
        "spread_median_day": np.median(quoted) if len(quoted) else np.nan,
        "spread_mean_day": quoted.mean() if len(quoted) else np.nan,
        "spread_p95_day": np.quantile(quoted, 0.95) if len(quoted) else np.nan,
        "size_mean_day": size.mean() if len(size) else np.nan,
        "size_max_day": size.max() if len(size) else 0,
        **{
            f"size_p{round(q * 100)}_day": np.quantile(size, q) if len(size) else np.nan
            for q in SIZE_QUANTILES
        },
    }
    for name, value in whole_day.items():
        frame[name] = [float(value)] + [np.nan] * (len(frame) - 1)
    return frame


def tier3(day: DayTicks, session: Session) -> pd.DataFrame:
    """One row: realized volatility (5-minute log returns), order-flow imbalance by aggressor,
    first-order autocorrelation of 1-minute and of trade-to-trade returns (regular basis-C prints)."""
    size, aggressor = day.size, day.aggressor
    times, prices = day.ns[day.regular_c], day.price[day.regular_c]
    buys, sells = int(size[aggressor == 1].sum()), int(size[aggressor == 2].sum())
    return pd.DataFrame(
        {
            "realized_vol_5min": [_realized(times, prices, session.open.value, FIVE_MINUTES_NS)],
            "order_flow_imbalance": [(buys - sells) / (buys + sells) if buys + sells else np.nan],
            "autocorr_1min": [_autocorr(_returns(times, prices, session.open.value, 60 * 10**9))],
            "autocorr_tick": [_autocorr(np.diff(np.log(prices)) if len(prices) > 1 else np.empty(0))],
        }
    )


def _returns(times: np.ndarray, prices: np.ndarray, start: int, step: int) -> np.ndarray:
    """Log returns between the last prices of consecutive ``step`` buckets that traded."""
    if len(times) < 2:
        return np.empty(0)
    bucket = (times - start) // step
    last = np.r_[np.flatnonzero(np.diff(bucket)), len(bucket) - 1]
    return np.diff(np.log(prices[last]))


def _realized(times: np.ndarray, prices: np.ndarray, start: int, step: int) -> float:
    returns = _returns(times, prices, start, step)
    return float(np.sqrt((returns**2).sum())) if len(returns) else float("nan")


def _autocorr(returns: np.ndarray) -> float:
    if len(returns) < 3 or returns[1:].std() == 0 or returns[:-1].std() == 0:
        return float("nan")
    return float(np.corrcoef(returns[:-1], returns[1:])[0, 1])


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz=TZINFO)
