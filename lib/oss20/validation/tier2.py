"""Tier 2: the quality of one stored symbol-day, from its ticks alone.

Spreads, isolated bad prints (robust, on log returns), trades outside the quote in force,
cumulative volume against the trades' sizes, and stale stretches (no trade for unusually long
while the quote moved). Pure: a ``DayTicks`` in, results out.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from oss20.schema import TZINFO
from oss20.validation import _kernels as K
from oss20.validation._stats import LIMIT, quantiles_of_counts
from oss20.validation.day import DayTicks
from oss20.validation.results import CheckResult, judge

TIER = 2
SPIKE_SIGMAS = 30.0
"""A bad print moves the price this many robust sigmas of tick-to-tick changes away and straight back."""
SPIKE_MIN_MOVE = 0.002
"""... and at least this far (20 bps): sub-penny noise between venues is never a bad print."""
OUTSIDE_WARN, OUTSIDE_FAIL = 0.005, 0.05
"""Shares of plain trades (no sweep, no average price, basis C or E) printed outside their quote."""
CROSSED_WARN, CROSSED_FAIL = 0.001, 0.01
"""Shares of trades whose quote in force was crossed (ask < bid)."""
STALE_SECONDS, STALE_FACTOR = 60.0, 100.0
"""A regular-session gap between trades is stale past both bounds (seconds; times the median gap)."""
SAMPLE = 200_000
"""Robust scales (medians) come from at most this many evenly spaced values: exact enough, and cheap."""
EXEMPT_CONDITIONS = ("3D", "05")
SPREAD_UNITS = 10_000
"""Spreads are counted in 1/10,000ths of a dollar (sub-penny quotes included) for their quantiles."""
"""Intermarket sweeps walk through the quote and average-price trades are off it, by design."""


def check_quality(day: DayTicks) -> list[CheckResult]:
    """Tier 2 results of one symbol-day."""
    return [
        spreads(day.bid, day.ask),
        bad_prints(day.price, day.qualified),
        outside_quote(day.price, day.bid, day.ask, day.qualified, day.conditions),
        volume_consistency(day.ns, day.size, day.total_volume),
        staleness(day.ns, day.bid, day.ask, day.regular_bounds),
    ]


def spreads(bid: np.ndarray, ask: np.ndarray) -> CheckResult:
    """Spread of the quote in force at each trade: level, crossed and locked shares (one pass)."""
    n, crossed, locked, total, low, counts, rows = K.spread_counts(bid, ask, SPREAD_UNITS, LIMIT)
    median, p95 = (x / SPREAD_UNITS for x in quantiles_of_counts(counts, low, n, (0.5, 0.95)))
    if n and (median != median or p95 != p95):  # spreads too wide for the counts: sort them
        quoted = (bid > 0) & (ask > 0)
        median, p95 = (float(x) for x in np.quantile((ask - bid)[quoted], [0.5, 0.95]))
    share = crossed / n if n else 0.0
    metrics = {
        "quoted_trades": n,
        "median_spread": median,
        "p95_spread": p95,
        "mean_spread": total / n if n else float("nan"),
        "crossed_share": share,
        "locked_share": locked / n if n else 0.0,
    }
    return judge(
        TIER,
        "spreads",
        metrics,
        fail=share > CROSSED_FAIL,
        warn=share > CROSSED_WARN,
        rows=rows if share > CROSSED_WARN else None,
        message=f"{share:.2%} of quoted trades saw a crossed quote",
    )


def bad_prints(price: np.ndarray, qualified: np.ndarray) -> CheckResult:
    """Prints that jump far from their neighbours and straight back: wrong, unlike a real fast move.

    The scale is the median absolute non-zero price change between qualified trades (a robust
    sigma, from a sample of at most ``SAMPLE`` changes); a real move does not come back on the next
    print, so it is never flagged.
    """
    checked = int(np.count_nonzero(qualified))
    steps = K.moving_steps(price, qualified, max(1, len(price) // SAMPLE))
    sigma = 1.4826 * float(np.median(steps)) if len(steps) else 0.0
    threshold = max(SPIKE_SIGMAS * sigma, SPIKE_MIN_MOVE)
    rows = K.spikes(price, qualified, threshold)
    return judge(
        TIER,
        "bad_prints",
        {"robust_sigma": sigma, "threshold": threshold, "bad_prints": len(rows), "checked": checked},
        fail=len(rows) > 0,
        rows=rows,
        message=f"{len(rows)} prints jumped over {threshold:.2%} and straight back",
    )


def outside_quote(
    price: np.ndarray, bid: np.ndarray, ask: np.ndarray, qualified: np.ndarray, conditions: np.ndarray
) -> CheckResult:
    """Plain trades printed below the bid or above the ask in force (sweeps and average-price
    trades, which print off the quote by design, and basis-O prints are not counted)."""
    n, candidates = K.outside_quote(price, bid, ask, qualified)
    codes, uniques = pd.factorize(conditions[candidates])
    exempt = np.array([any(x in str(code) for x in EXEMPT_CONDITIONS) for code in uniques], bool)
    rows = candidates[~exempt[codes]] if len(uniques) else candidates
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
    equal timestamps (``rows`` are the runs' first rows). Volume before the first stored trade (a
    day stored from mid-session) warns.
    """
    if len(ns) == 0:
        return judge(TIER, "volume_consistency", {"trades": 0}, message="no trades")
    rows, leading = K.volume_breaks(ns, size, total)
    return judge(
        TIER,
        "volume_consistency",
        {
            "trades": len(ns),
            "inconsistent_runs": len(rows),
            "volume_before_first": int(leading),
            "final_total_volume": int(total.max()),
            "summed_size": int(size.sum()),
        },
        fail=len(rows) > 0,
        warn=leading != 0,
        rows=rows,
        message=f"{len(rows)} trades (or runs of one timestamp) disagree with the cumulative volume",
    )


def staleness(
    ns: np.ndarray, bid: np.ndarray, ask: np.ndarray, regular: tuple[int, int] | None
) -> CheckResult:
    """Regular-session gaps between trades far longer than the day's usual one while the quote moved."""
    lo, hi = (0, len(ns)) if regular is None else (int(x) for x in np.searchsorted(ns, regular))
    times = ns[lo:hi]
    if len(times) < 2:
        return judge(TIER, "staleness", {"gaps": 0}, message="too few regular-session trades")
    usual = float(np.median(K.sampled_gaps(times, max(1, len(times) // SAMPLE))))
    limit = max(STALE_SECONDS * 1e9, STALE_FACTOR * usual)
    stale = K.stale_gaps(times, bid[lo:hi], ask[lo:hi], limit)
    ranges = [(_stamp(times[i]), _stamp(times[i + 1])) for i in stale.tolist()]
    return judge(
        TIER,
        "staleness",
        {"median_gap_s": usual / 1e9, "limit_s": limit / 1e9, "stale_spells": len(stale)},
        warn=len(stale) > 0,
        rows=stale + lo + 1,
        ranges=ranges,
        message=f"{len(stale)} stretches without a trade for over {limit / 1e9:.0f} s while the quote moved",
    )


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz=TZINFO)
