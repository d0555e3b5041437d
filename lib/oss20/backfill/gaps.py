"""Gaps in stored ticks: what the calendar and the feed's own 1-minute bars say should be there and is not.

Pure: stored minute coverage, the feed's bars and ``now`` in, ``Gap`` values out (the reading is in
``coverage``). Per session of the range, within its window (regular hours by default; 04:00-20:00
with ``extended_hours``; half days end at their early close; a session still under way ends at the
last whole minute before ``now``), every gap has exactly one reason:

- ``missing session``: nothing is stored in the window (and, when asked, the feed traded in it).
  The gap spans the whole window.
- ``partial session``: something is stored, but the window's first (or last) traded minutes are
  not: the stored span starts late or ends early. The gap runs from the first to the last of
  those minutes.
- ``hole``: traded minutes missing between two stored minutes.
- ``bar-only``: a gap tick history no longer reaches, in a session whose 1-minute and daily bars
  were filled from the feed instead (``mark_bar_only``; the reading is in ``coverage``). Such a gap
  stays listed, since its ticks are still absent, but nothing more can fill it.

With the feed's bars, a minute is expected when the feed shows trades in it: a quiet minute is
never a gap, and consecutive missing minutes merge across quiet ones (``tier4.missing_spells``,
the same rule validation uses). Without them (``feed=None``) only the calendar speaks: a missing
session, or a regular-hours stretch of ``tier4.QUIET_MINUTES`` or more without a stored trade
(partial at the open or close, a hole in between), and ``expected_trades`` is None.

Reachability follows DTN's tick-history depth: ``TICK_HISTORY_DAYS`` calendar days back, only
``TICK_HISTORY_DAYS_OPEN`` while the market is open.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.schema import TIMESTAMP, TZINFO
from oss20.validation.tier4 import MINUTE_NS, minutes_of, missing_spells, quiet_spells

Reason = Literal["missing session", "partial session", "hole", "bar-only"]
MISSING_SESSION: Reason = "missing session"
PARTIAL_SESSION: Reason = "partial session"
HOLE: Reason = "hole"
BAR_ONLY: Reason = "bar-only"
REASONS: tuple[Reason, ...] = (MISSING_SESSION, PARTIAL_SESSION, HOLE, BAR_ONLY)

TICK_HISTORY_DAYS = 180
"""Calendar days back IQFeed serves tick history while the market is closed."""
TICK_HISTORY_DAYS_OPEN = 8
"""Calendar days back IQFeed serves tick history during regular trading hours."""


@dataclass(frozen=True)
class Gap:
    """Ticks that should be stored and are not: one symbol, one session, [start, end) in New York time."""

    symbol: str
    session: dt.date
    start: pd.Timestamp
    end: pd.Timestamp
    expected_trades: int | None
    """Trades the feed's 1-minute bars show in [start, end); None when the feed was not asked."""
    reason: Reason
    reachable: bool
    """True while tick history still reaches the session (see ``reachable``)."""


@dataclass(frozen=True)
class FeedMinutes:
    """The feed's traded minutes of a session: minute starts (epoch ns, sorted) and their trades."""

    starts: np.ndarray
    trades: np.ndarray

    @classmethod
    def from_bars(cls, bars: pd.DataFrame) -> FeedMinutes:
        """From HIT 60 s bars (``timestamp`` is each bar's end, ``trades`` its trade count)."""
        traded = bars[bars["trades"].to_numpy() > 0]
        ends = traded["timestamp"].array.asi8 if len(traded) else np.empty(0, np.int64)
        order = np.argsort(ends, kind="stable")
        return cls(ends[order] - MINUTE_NS, traded["trades"].to_numpy(np.int64)[order])


def window(day: dt.date, extended_hours: bool, now: pd.Timestamp) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """[start, end) of ``day``'s session that gaps are looked for in, or None if it has not begun.

    Regular hours (a half day's early close included), or pre-market to after hours with
    ``extended_hours``; a session under way ends at the start of the minute ``now`` is in.
    """
    s = calendar.session(day)
    lo, hi = (s.pre_open, s.post_close) if extended_hours else (s.open, s.close)
    hi = min(hi, now.tz_convert(TZINFO).floor("min"))
    return (lo, hi) if hi > lo else None


def reachable(day: dt.date, now: pd.Timestamp) -> bool:
    """True when IQFeed's tick history still reaches ``day`` at ``now``.

    It reaches ``TICK_HISTORY_DAYS`` calendar days back, ``TICK_HISTORY_DAYS_OPEN`` while the
    market is open (regular hours of a session).
    """
    local = now.tz_convert(TZINFO)
    depth = TICK_HISTORY_DAYS
    if calendar.is_session(local.date()):
        s = calendar.session(local.date())
        if s.open <= local < s.close:
            depth = TICK_HISTORY_DAYS_OPEN
    return day >= local.date() - dt.timedelta(days=depth)


def stored_minutes(timestamps: np.ndarray) -> np.ndarray:
    """Starts (epoch ns, sorted, unique) of the minutes holding at least one of ``timestamps`` (epoch ns)."""
    ns = np.asarray(timestamps, dtype=np.int64)
    return np.unique(ns - ns % MINUTE_NS)


def session_gaps(
    symbol: str,
    day: dt.date,
    stored: np.ndarray,
    feed: FeedMinutes | None,
    now: pd.Timestamp,
    extended_hours: bool = False,
) -> list[Gap]:
    """Gaps of one session from its stored minute starts and the feed's traded minutes (or None).

    ``stored`` and ``feed`` may reach beyond the session's window; only the window counts.
    """
    bounds = window(day, extended_hours, now)
    if bounds is None:
        return []
    lo, hi = bounds
    midnight = pd.Timestamp(day).tz_localize(TZINFO).value
    first, last = int(minutes_of(lo.value, midnight)), int(minutes_of(hi.value, midnight))
    held = minutes_of(stored, midnight)
    held = held[(held >= first) & (held < last)]
    reach = reachable(day, now)

    def gap(a: int, b: int, reason: Reason, expected: int | None) -> Gap:
        start = pd.Timestamp(midnight + a * MINUTE_NS, tz=TZINFO)
        end = pd.Timestamp(midnight + (b + 1) * MINUTE_NS, tz=TZINFO)
        return Gap(symbol, day, start, end, expected, reason, reach)

    if feed is None:
        if len(held) == 0:
            return [gap(first, last - 1, MISSING_SESSION, None)]
        s = calendar.session(day)
        open_, close = int(minutes_of(s.open.value, midnight)), int(minutes_of(s.close.value, midnight))
        close = min(close, last)
        spells = quiet_spells(held, open_, close) if close > open_ else []
        return [gap(a, b, PARTIAL_SESSION if a == open_ or b == close - 1 else HOLE, None) for a, b in spells]
    traded = minutes_of(feed.starts, midnight)
    inside = (traded >= first) & (traded < last)
    traded, trades = traded[inside], feed.trades[inside]
    if len(traded) == 0:
        return []
    if len(held) == 0:
        return [gap(first, last - 1, MISSING_SESSION, int(trades.sum()))]
    out = []
    for a, b in missing_spells(traded, held):
        expected = int(trades[(traded >= a) & (traded <= b)].sum())
        partial = b < held[0] or a > held[-1]
        out.append(gap(a, b, PARTIAL_SESSION if partial else HOLE, expected))
    return out


def find_gaps(
    symbol: str,
    days: Iterable[dt.date],
    stored: Mapping[dt.date, np.ndarray],
    feed: Mapping[dt.date, FeedMinutes] | None,
    now: pd.Timestamp,
    extended_hours: bool = False,
) -> list[Gap]:
    """Gaps of ``symbol`` over the sessions ``days``, oldest first.

    ``stored`` maps a session to its stored minute starts (absent: nothing stored); ``feed`` maps
    it to the feed's traded minutes, or is None when the feed was not asked. A session the feed
    was asked about but that is absent from ``feed`` counts as fully stored
    (``needs_feed`` says which need asking).
    """
    out: list[Gap] = []
    empty = np.empty(0, np.int64)
    for day in days:
        held = stored.get(day, empty)
        if feed is not None and day not in feed:
            continue
        out += session_gaps(symbol, day, held, None if feed is None else feed[day], now, extended_hours)
    return out


def mark_bar_only(gaps: Iterable[Gap], bar_days: Mapping[str, set[dt.date]]) -> list[Gap]:
    """``gaps`` with reason ``bar-only`` for those out of tick history's reach in a session ``bar_days``
    says holds the feed's bars (symbol -> sessions); the others as they are."""
    return [
        dataclasses.replace(g, reason=BAR_ONLY)
        if not g.reachable and g.session in bar_days.get(g.symbol, set())
        else g
        for g in gaps
    ]


def needs_feed(day: dt.date, stored: np.ndarray, now: pd.Timestamp, extended_hours: bool = False) -> bool:
    """True unless the feed's bars cannot change ``day``'s gaps: every minute of its window holds a
    stored trade (so nothing can be missing), or the session has not begun."""
    bounds = window(day, extended_hours, now)
    if bounds is None:
        return False
    lo, hi = bounds
    inside = stored[(stored >= lo.value) & (stored < hi.value)]
    return len(inside) < (hi.value - lo.value) // MINUTE_NS


def gaps_frame(gaps: Iterable[Gap]) -> pd.DataFrame:
    """One row per gap, the ``Gap`` fields as columns (``expected_trades`` a nullable integer)."""
    rows = list(gaps)
    frame = pd.DataFrame(
        {
            "symbol": pd.Series([g.symbol for g in rows], dtype=object),
            "session": pd.Series([g.session for g in rows], dtype=object),
            "start": pd.Series([g.start for g in rows], dtype=TIMESTAMP),
            "end": pd.Series([g.end for g in rows], dtype=TIMESTAMP),
            "expected_trades": pd.Series([g.expected_trades for g in rows], dtype="Int64"),
            "reason": pd.Series([g.reason for g in rows], dtype=object),
            "reachable": pd.Series([g.reachable for g in rows], dtype=bool),
        }
    )
    return frame.sort_values(["symbol", "start"], kind="stable").reset_index(drop=True)
