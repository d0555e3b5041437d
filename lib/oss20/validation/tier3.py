"""Tier 3: a stored symbol-day against the feed's own bars (HIT 1-minute, HDT daily).

The 1-minute bars are rebuilt from the stored ticks the way IQFeed builds them (bars labelled by
their end, [end - 60 s, end) from midnight; open/high/low/close from trades that qualify for last,
or from all of a bar's trades when none does; volume and trade count from every print) and
compared minute by minute; the daily bar's regular-session OHLC and the day's final cumulative
volume are compared with HDT. Pure: arrays and frames in, results out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oss20.schema import TZINFO
from oss20.validation import _kernels as K
from oss20.validation.day import DayTicks
from oss20.validation.results import CheckResult, judge

TIER = 3
PRICE_TOLERANCE = 1e-4
"""OHLC agree when within 1 bp of the feed's (feeds round differently); volumes must be equal."""
MINUTE_NS = 60 * 10**9


def minute_bars(
    ns: np.ndarray, price: np.ndarray, size: np.ndarray, qualified: np.ndarray, midnight: int
) -> dict[str, np.ndarray]:
    """IQFeed-style 1-minute bars of one day's trades (time order): end (ns), OHLC, volume, trades."""
    names = ("end", "open", "high", "low", "close", "volume", "trades")
    return dict(zip(names, K.minute_bars(ns, price, size, qualified, midnight, MINUTE_NS), strict=True))


def compare_minutes(ours: dict[str, np.ndarray], feed: pd.DataFrame) -> CheckResult:
    """Stored ticks' 1-minute bars against the feed's (HIT 60 s, labelled by their end)."""
    feed_end = feed["timestamp"].array.asi8
    both, mine, theirs = np.intersect1d(ours["end"], feed_end, assume_unique=True, return_indices=True)
    missing = np.setdiff1d(feed_end, ours["end"], assume_unique=True)
    extra = np.setdiff1d(ours["end"], feed_end, assume_unique=True)
    worst = 0.0
    bad = np.zeros(len(both), bool)
    for name in ("open", "high", "low", "close"):
        theirs_p = feed[name].to_numpy(np.float64)[theirs]
        off = np.abs(ours[name][mine] - theirs_p) / np.maximum(np.abs(theirs_p), 1e-12)
        worst = max(worst, float(off.max()) if len(off) else 0.0)
        bad |= off > PRICE_TOLERANCE
    volume_off = ours["volume"][mine] - feed["volume"].to_numpy(np.int64)[theirs]
    bad |= volume_off != 0
    wrong = np.sort(np.concatenate((both[bad], missing, extra)))
    return judge(
        TIER,
        "minute_bars",
        {
            "feed_minutes": len(feed_end),
            "stored_minutes": len(ours["end"]),
            "compared": len(both),
            "mismatched": int(bad.sum()),
            "missing_in_store": len(missing),
            "extra_in_store": len(extra),
            "max_price_diff_bps": worst * 1e4,
            "volume_diff": int(np.abs(volume_off).sum()),
        },
        fail=len(wrong) > 0,
        ranges=[(_stamp(end - MINUTE_NS), _stamp(end)) for end in wrong.tolist()],
        message=f"{len(wrong)} of {len(feed_end)} feed minutes differ from the stored ticks' bars",
    )


def compare_daily(d: DayTicks, feed_day: pd.Series | None) -> CheckResult:
    """The day's regular-session OHLC (basis C prints) and final volume against the feed's daily bar."""
    if feed_day is None:
        return judge(TIER, "daily_bar", {}, warn=True, message="the feed has no daily bar for this day")
    o, h, lo, c, _, _ = d.ohlc
    ours = {"open": o, "high": h, "low": lo, "close": c}
    off = {
        name: abs(ours[name] - float(feed_day[name])) / max(abs(float(feed_day[name])), 1e-12)
        for name in ours
    }
    volume = int(d.total_volume.max()) if len(d) else 0
    metrics = {
        **{f"{k}_diff_bps": (v * 1e4 if v == v else None) for k, v in off.items()},
        "volume": volume,
        "feed_volume": int(feed_day["volume"]),
    }
    bad = [name for name, v in off.items() if not v <= PRICE_TOLERANCE]
    if volume != int(feed_day["volume"]):
        bad.append("volume")
    return judge(
        TIER,
        "daily_bar",
        metrics,
        fail=bool(bad),
        message=f"daily {', '.join(bad)} differ from the feed's" if bad else "daily bar agrees with the feed",
    )


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz=TZINFO)
