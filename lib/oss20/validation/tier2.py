"""Tier 2: the quality of one stored symbol-day, from its ticks alone.

Spreads, isolated bad prints (robust, on log returns), trades outside the quote in force,
cumulative volume against the trades' sizes, and stale stretches (no trade for unusually long
while the quote moved). Pure: a ``DayTicks`` in, results out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oss20.schema import TZINFO
from oss20.validation.day import DayTicks
from oss20.validation.results import CheckResult, judge

TIER = 2
SPIKE_SIGMAS = 30.0
"""A bad print moves the price this many robust sigmas of tick returns away and straight back."""
SPIKE_MIN_MOVE = 0.002
"""... and at least this far (20 bps): sub-penny noise between venues is never a bad print."""
OUTSIDE_WARN, OUTSIDE_FAIL = 0.005, 0.05
"""Shares of plain trades (no sweep, no average price, basis C or E) printed outside their quote."""
CROSSED_WARN, CROSSED_FAIL = 0.001, 0.01
"""Shares of trades whose quote in force was crossed (ask < bid)."""
STALE_SECONDS, STALE_FACTOR = 60.0, 100.0
"""A regular-session gap between trades is stale past both bounds (seconds; times the median gap)."""
EXEMPT_CONDITIONS = ("3D", "05")
"""Intermarket sweeps walk through the quote and average-price trades are off it, by design."""


def check_quality(day: DayTicks) -> list[CheckResult]:
    """Tier 2 results of one symbol-day."""
    return [
        spreads(day.bid, day.ask, day.price),
        bad_prints(day.price, day.qualified),
        outside_quote(day.price, day.bid, day.ask, day.qualified, day.conditions),
        volume_consistency(day.ns, day.size, day.total_volume),
        staleness(day.ns, day.bid, day.ask, day.regular_bounds),
    ]


def spreads(bid: np.ndarray, ask: np.ndarray, price: np.ndarray) -> CheckResult:
    """Spread of the quote in force at each trade: level, relative size, crossed and locked shares."""
    quoted = (bid > 0) & (ask > 0)
    spread = (ask - bid)[quoted]
    n = len(spread)
    crossed = spread < 0
    share = float(crossed.mean()) if n else 0.0
    relative = spread / price[quoted] * 1e4 if n else spread
    metrics = {
        "quoted_trades": n,
        "median_spread": float(np.median(spread)) if n else float("nan"),
        "p95_spread": float(np.quantile(spread, 0.95)) if n else float("nan"),
        "median_spread_bps": float(np.median(relative)) if n else float("nan"),
        "crossed_share": share,
        "locked_share": float((spread == 0).mean()) if n else 0.0,
    }
    return judge(
        TIER,
        "spreads",
        metrics,
        fail=share > CROSSED_FAIL,
        warn=share > CROSSED_WARN,
        rows=np.flatnonzero(quoted)[crossed] if share > CROSSED_WARN else None,
        message=f"{share:.2%} of quoted trades saw a crossed quote",
    )


def bad_prints(price: np.ndarray, qualified: np.ndarray) -> CheckResult:
    """Prints that jump far from their neighbours and straight back: wrong, unlike a real fast move.

    The scale is the median absolute non-zero log return of the day's qualified trades (a robust
    sigma); a real move does not come back on the next print, so it is never flagged.
    """
    where = np.flatnonzero(qualified & (price > 0))
    logp = np.log(price[where])
    step = np.diff(logp)
    moving = np.abs(step[step != 0])
    sample = moving[:: max(1, len(moving) // 200_000)]
    sigma = 1.4826 * float(np.median(sample)) if len(sample) else 0.0
    threshold = max(SPIKE_SIGMAS * sigma, SPIKE_MIN_MOVE)
    up, back = step[:-1], step[1:]
    spike = (
        (np.abs(up) > threshold)
        & (np.abs(back) > threshold)
        & (up * back < 0)
        & (np.abs(up + back) < 0.5 * np.minimum(np.abs(up), np.abs(back)))
    )
    rows = where[1:-1][spike]
    return judge(
        TIER,
        "bad_prints",
        {"robust_sigma": sigma, "threshold": threshold, "bad_prints": len(rows), "checked": len(where)},
        fail=len(rows) > 0,
        rows=rows,
        message=f"{len(rows)} prints jumped over {threshold:.2%} and straight back",
    )


def outside_quote(
    price: np.ndarray, bid: np.ndarray, ask: np.ndarray, qualified: np.ndarray, conditions: np.ndarray
) -> CheckResult:
    """Plain trades printed below the bid or above the ask in force (sweeps and average-price
    trades, which print off the quote by design, and basis-O prints are not counted)."""
    quoted = qualified & (bid > 0) & (ask >= bid)
    outside = quoted & ((price < bid - 1e-9) | (price > ask + 1e-9))
    candidates = np.flatnonzero(outside)
    exempt = {code: any(x in code for x in EXEMPT_CONDITIONS) for code in set(conditions[candidates])}
    plain = np.fromiter((not exempt[code] for code in conditions[candidates]), bool, len(candidates))
    rows = candidates[plain]
    n = int(quoted.sum())
    share = len(rows) / n if n else 0.0
    return judge(
        TIER,
        "outside_quote",
        {"checked": n, "outside": len(rows), "outside_share": share, "exempt": len(candidates) - len(rows)},
        fail=share > OUTSIDE_FAIL,
        warn=share > OUTSIDE_WARN,
        rows=rows,
        message=f"{share:.2%} of plain trades printed outside their quote",
    )


def volume_consistency(ns: np.ndarray, size: np.ndarray, total: np.ndarray) -> CheckResult:
    """The feed's cumulative volume must grow by exactly each trade's size.

    Trades of one microstamp may be stored in any order, so the sums are compared per run of
    equal timestamps. Volume before the first stored trade (a day stored from mid-session) warns.
    """
    if len(ns) == 0:
        return judge(TIER, "volume_consistency", {"trades": 0}, message="no trades")
    starts = np.concatenate(([0], np.flatnonzero(np.diff(ns)) + 1))
    top = np.maximum.reduceat(total, starts)
    added = np.add.reduceat(size, starts)
    before = np.concatenate(([top[0] - added[0]], top[:-1]))
    bad_runs = np.flatnonzero(top - before != added)
    if len(bad_runs) and bad_runs[0] == 0:
        bad_runs = bad_runs[1:]
    lengths = np.diff(np.concatenate((starts, [len(ns)])))
    spans = [np.arange(starts[k], starts[k] + lengths[k]) for k in bad_runs[:1000].tolist()]
    rows = np.concatenate(spans) if spans else np.empty(0, np.int64)
    leading = int(top[0] - added[0])
    return judge(
        TIER,
        "volume_consistency",
        {
            "trades": len(ns),
            "inconsistent_runs": len(bad_runs),
            "volume_before_first": leading,
            "final_total_volume": int(top[-1]),
            "summed_size": int(size.sum()),
        },
        fail=len(bad_runs) > 0,
        warn=leading != 0,
        rows=rows,
        message=f"{len(bad_runs)} trades (or runs of one timestamp) disagree with the cumulative volume",
    )


def staleness(
    ns: np.ndarray, bid: np.ndarray, ask: np.ndarray, regular: tuple[int, int] | None
) -> CheckResult:
    """Regular-session gaps between trades far longer than the day's usual one while the quote moved."""
    inside = slice(None)
    if regular is not None:
        lo, hi = np.searchsorted(ns, regular[0]), np.searchsorted(ns, regular[1])
        inside = slice(int(lo), int(hi))
    times, bids, asks = ns[inside], bid[inside], ask[inside]
    gaps = np.diff(times)
    if len(gaps) == 0:
        return judge(TIER, "staleness", {"gaps": 0}, message="too few regular-session trades")
    usual = float(np.median(gaps))
    limit = max(STALE_SECONDS * 1e9, STALE_FACTOR * usual)
    moved = (bids[1:] != bids[:-1]) | (asks[1:] != asks[:-1])
    stale = np.flatnonzero((gaps > limit) & moved)
    ranges = [(_stamp(times[i]), _stamp(times[i + 1])) for i in stale.tolist()]
    return judge(
        TIER,
        "staleness",
        {
            "median_gap_s": usual / 1e9,
            "longest_gap_s": float(gaps.max()) / 1e9,
            "limit_s": limit / 1e9,
            "stale_spells": len(stale),
        },
        warn=len(stale) > 0,
        rows=stale + inside.start + 1 if inside.start is not None else stale + 1,
        ranges=ranges,
        message=f"{len(stale)} stretches without a trade for over {limit / 1e9:.0f} s while the quote moved",
    )


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz=TZINFO)
