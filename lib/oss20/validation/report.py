"""All four tiers of one symbol-day, its tier metadata and its quality score.

The quality score (0-100) is 100 less a penalty per check that did not pass, weighted by what
the tier's finding means for a user of the data, never below 0:

| tier | fail | warn | why |
|---|---:|---:|---|
| 1 core | 40 | 5 | stored ticks break a rule no stored tick may break (a warning: some were quarantined) |
| 2 quality | 15 | 3 | the day holds doubtful prints, volumes or spreads |
| 3 cross-checks | 20 | 3 | the day disagrees with the feed's own bars |
| 4 continuity | 25 | 3 | ticks are missing, or stored where they should not be |

So a day that passes everything scores 100, one hole costs a quarter, and one bad print keeps a
day in the 80s. Pure: the caller reads storage and the feed (``oss20.quality``).
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oss20.validation import metadata, tier1, tier2, tier3, tier4
from oss20.validation.day import DayTicks
from oss20.validation.results import CheckResult

PENALTIES: dict[tuple[int, str], int] = {
    (1, "fail"): 40,
    (1, "warn"): 5,
    (2, "fail"): 15,
    (2, "warn"): 3,
    (3, "fail"): 20,
    (3, "warn"): 3,
    (4, "fail"): 25,
    (4, "warn"): 3,
}


def score(results: list[CheckResult]) -> int:
    """The day's quality score from its check results (see the module's table)."""
    return max(0, 100 - sum(PENALTIES.get((r.tier, r.status), 0) for r in results))


@dataclass
class DayReport:
    """Every check of one symbol-day, its score, tier metadata and seconds spent per tier."""

    symbol: str
    day: dt.date
    results: list[CheckResult]
    metadata: dict[int, pd.DataFrame] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def score(self) -> int:
        return score(self.results)

    @property
    def status(self) -> str:
        """The worst status of the day's checks."""
        statuses = {r.status for r in self.results}
        return "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"


def validate_day(
    ticks: pd.DataFrame,
    symbol: str,
    day: dt.date,
    quarantined: pd.DataFrame,
    feed_minutes: pd.DataFrame | None,
    feed_daily: pd.Series | None,
    layout: CheckResult | None = None,
    feed_note: str = "",
    malformed: int = 0,
) -> DayReport:
    """Run tiers 1-4 on one stored symbol-day (``TICK_COLUMNS``, time order) and build its metadata.

    ``feed_minutes`` are the feed's 1-minute bars of the day (HIT 60 s) and ``feed_daily`` its daily
    bar (HDT); None when the feed could not be asked (``feed_note`` says why), which makes tier 3
    warn and tier 4 look for quiet stretches instead of holes. ``malformed`` counts the day's
    unparseable feed lines (they may have been this symbol's trades).
    """
    seconds: dict[str, float] = {}
    clock = _Clock(seconds)
    with clock("tier1"):
        results = tier1.check_stored_day(ticks, quarantined, malformed)
    with clock("columns"):
        d = DayTicks.from_frame(symbol, day, ticks)
    with clock("tier2"):
        results += tier2.check_quality(d)
    with clock("tier3"):
        bars = tier3.minute_bars(d.ns, d.price, d.size, d.qualified, d.midnight)
        results += _tier3(d, bars, feed_minutes, feed_daily, feed_note)
    with clock("tier4"):
        ends = None if feed_minutes is None else feed_minutes["timestamp"].array.asi8
        results += [tier4.session_coverage(d.ns, day), tier4.holes(bars["end"], day, ends)]
        if layout is not None:
            results.append(layout)
    tables: dict[int, pd.DataFrame] = {}
    with clock("metadata"):
        if d.session is not None:
            spreads = next(x.metrics for x in results if (x.tier, x.check) == (2, "spreads"))
            tables = {
                1: metadata.tier1(d),
                2: metadata.tier2(d, d.session, spreads),
                3: metadata.tier3(d, d.session),
            }
    return DayReport(symbol, day, results, tables, seconds)


def _tier3(
    d: DayTicks,
    ours: dict[str, np.ndarray],
    feed_minutes: pd.DataFrame | None,
    feed_daily: pd.Series | None,
    note: str,
) -> list[CheckResult]:
    if feed_minutes is None:
        reason = note or "the feed's bars were not available"
        return [
            tier3.judge(3, "minute_bars", {}, warn=True, message=reason),
            tier3.judge(3, "daily_bar", {}, warn=True, message=reason),
        ]
    return [
        tier3.compare_minutes(ours, feed_minutes),
        tier3.compare_daily(d, feed_daily),
    ]


class _Clock:
    """``with clock("name"):`` adds the block's seconds to ``seconds[name]``."""

    def __init__(self, seconds: dict[str, float]) -> None:
        self.seconds = seconds
        self._name = ""
        self._started = 0.0

    def __call__(self, name: str) -> _Clock:
        self._name = name
        return self

    def __enter__(self) -> None:
        self._started = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.seconds[self._name] = self.seconds.get(self._name, 0.0) + time.perf_counter() - self._started


def results_frame(reports: list[DayReport]) -> pd.DataFrame:
    """One row per check: symbol, day, tier, check, status, metrics, details, the day's score."""
    rows = [
        {
            "symbol": r.symbol,
            "day": r.day,
            "tier": result.tier,
            "check": result.check,
            "status": result.status,
            "metrics": result.metrics,
            "details": result.details(),
            "score": r.score,
        }
        for r in reports
        for result in r.results
    ]
    columns = ["symbol", "day", "tier", "check", "status", "metrics", "details", "score"]
    frame = pd.DataFrame(rows, columns=columns)
    frame["tier"] = frame["tier"].astype(np.int64)
    frame["score"] = frame["score"].astype(np.int64)
    return frame


ProgressHook = Callable[[str, dt.date], None]
