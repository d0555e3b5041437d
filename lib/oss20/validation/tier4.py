"""Tier 4: sessions and continuity of stored symbol-days, against the exchange calendar and the feed.

Coverage of each session (holidays, half days, pre/post market), intraday holes (a minute with
trades in the feed's 1-minute bars and none stored; a quiet minute is not a hole), and the storage
layout (every session of the range has its key, nothing is stored outside the expected keys).
Pure: arrays, sessions and key lists in, results out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.schema import TZINFO
from oss20.storage import keys
from oss20.validation.results import CheckResult, judge, runs

TIER = 4
MINUTE_NS = 60 * 10**9
QUIET_MINUTES = 10
"""Without the feed's bars, a regular-session stretch this long without trades is a possible hole."""


def session_coverage(ns: np.ndarray, day: dt.date) -> CheckResult:
    """Trades stored for ``day``: on a session, within its hours, with regular-session trades."""
    if not calendar.is_session(day):
        return judge(
            TIER,
            "session_coverage",
            {"trades": len(ns)},
            fail=len(ns) > 0,
            message=f"{day} is not a trading day" + (f" yet {len(ns)} trades are stored" if len(ns) else ""),
        )
    s = calendar.session(day)
    bounds = [s.pre_open.value, s.open.value, s.close.value, s.post_close.value]
    pre, regular = np.searchsorted(ns, bounds[:2]).tolist()
    closing = int(np.searchsorted(ns, bounds[2], side="right"))
    after = int(np.searchsorted(ns, bounds[3]))
    outside = pre + (len(ns) - after)
    metrics = {
        "half_day": s.close.hour < 16,
        "close": s.close.isoformat(),
        "pre_market_trades": regular - pre,
        "regular_trades": closing - regular,
        "after_hours_trades": after - closing,
        "outside_hours": outside,
        "first_trade": _stamp(ns[0]).isoformat() if len(ns) else None,
        "last_trade": _stamp(ns[-1]).isoformat() if len(ns) else None,
    }
    return judge(
        TIER,
        "session_coverage",
        metrics,
        fail=closing == regular or outside > 0,
        rows=np.r_[np.arange(pre), np.arange(after, len(ns))] if outside else None,
        message="no regular-session trades"
        if closing == regular
        else f"{outside} trades outside the day's hours"
        if outside
        else "session covered",
    )


def holes(stored_minute_ends: np.ndarray, day: dt.date, feed_minute_ends: np.ndarray | None) -> CheckResult:
    """Minutes the feed traded in and the store holds nothing for, as merged [start, end) ranges.

    Both sides are 1-minute bar ends (epoch ns): the stored ticks' (``tier3.minute_bars``) and the
    feed's (HIT). A hole runs on across minutes the feed shows quiet (``missing_spells``).

    Without the feed's bars (``None``), regular-session stretches of ``QUIET_MINUTES`` without a
    stored trade warn: they may be holes, or a halt.
    """
    if not calendar.is_session(day):
        return judge(TIER, "holes", {}, message="not a trading day")
    midnight = pd.Timestamp(day).tz_localize(TZINFO).value
    stored = minutes_of(stored_minute_ends - MINUTE_NS, midnight)
    if feed_minute_ends is None:
        s = calendar.session(day)
        first, last = int(minutes_of(s.open.value, midnight)), int(minutes_of(s.close.value, midnight))
        spells = quiet_spells(stored, first, last)
        ranges = [(_minute(midnight, a), _minute(midnight, b + 1)) for a, b in spells]
        return judge(
            TIER,
            "holes",
            {"feed_bars": False, "quiet_spells": len(spells)},
            warn=bool(spells),
            ranges=ranges,
            message=f"{len(spells)} regular-session stretches of {QUIET_MINUTES}+ minutes without a trade",
        )
    traded = np.unique(minutes_of(feed_minute_ends - MINUTE_NS, midnight))
    missing = int((~np.isin(traded, stored)).sum())
    spells = missing_spells(traded, stored)
    ranges = [(_minute(midnight, a), _minute(midnight, b + 1)) for a, b in spells]
    return judge(
        TIER,
        "holes",
        {
            "feed_bars": True,
            "feed_minutes": len(traded),
            "missing_minutes": missing,
            "holes": len(spells),
        },
        fail=missing > 0,
        ranges=ranges,
        message=f"{missing} minutes traded on the feed have no stored trade",
    )


def minutes_of(ns: np.ndarray | int, midnight: int) -> np.ndarray:
    """Minute of the day (0 = 00:00) of epoch-ns times, counted from the day's ``midnight`` (epoch ns)."""
    return (np.asarray(ns, dtype=np.int64) - midnight) // MINUTE_NS


def missing_spells(traded: np.ndarray, stored: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] minutes of each stretch of the feed's traded minutes with no stored trade.

    ``traded`` (sorted, unique) are the minutes the feed's 1-minute bars show trades in; ``stored``
    the minutes holding at least one stored trade. A stretch runs on across minutes the feed shows
    quiet (nothing was there to store) and ends at a traded minute that is stored: a quiet minute
    is never a hole, nor does it split one.
    """
    missing = ~np.isin(traded, stored)
    return [(int(traded[a]), int(traded[b])) for a, b in runs(missing)]


def quiet_spells(
    stored: np.ndarray, first: int, last: int, least: int = QUIET_MINUTES
) -> list[tuple[int, int]]:
    """[first, last] minutes of each stretch of at least ``least`` minutes of [first, last) with no
    stored trade: what can be said of holes without the feed's bars."""
    minutes = np.arange(first, last)
    quiet = ~np.isin(minutes, stored)
    return [(int(minutes[a]), int(minutes[b])) for a, b in runs(quiet) if b - a + 1 >= least]


def storage_layout(
    stored_keys: Iterable[str], symbol: str, start: dt.date, end: dt.date, asset_class: str = "equity"
) -> dict[dt.date, CheckResult]:
    """Per day of [start, end]: is the session's tick key there, and is nothing stored off-calendar.

    Only days with something to say appear: every session, and any other day a key exists for.
    """
    prefix = f"{asset_class}/{symbol}/"
    present: set[dt.date] = set()
    strays: list[str] = []
    for name in stored_keys:
        if not name.startswith(prefix):
            continue
        try:
            parsed = keys.parse_tick_key(name)
        except ValueError:
            strays.append(name)
            continue
        if start <= parsed.day <= end:
            present.add(parsed.day)
    sessions = set(calendar.sessions(start, end))
    out: dict[dt.date, CheckResult] = {}
    for day in sorted(sessions | present):
        expected = keys.key(keys.TICKS, symbol, day, asset_class=asset_class)
        if day in sessions:
            out[day] = judge(
                TIER,
                "storage_layout",
                {"key": expected, "stored": day in present, "stray_keys": len(strays)},
                fail=day not in present,
                warn=bool(strays),
                message=f"{expected} is missing" if day not in present else f"{expected} stored",
            )
        else:
            out[day] = judge(
                TIER,
                "storage_layout",
                {"key": expected, "stored": True},
                fail=True,
                message=f"{expected} is stored but {day} is not a trading day",
            )
    return out


def _minute(midnight: int, minute: int) -> pd.Timestamp:
    return _stamp(midnight + int(minute) * MINUTE_NS)


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(int(ns), tz=TZINFO)
