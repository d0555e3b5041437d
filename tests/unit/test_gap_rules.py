"""Gap finding (``oss20.backfill.gaps``): calendar windows, feed minutes, reasons and reachability."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from oss20.backfill.gaps import (
    TICK_HISTORY_DAYS,
    TICK_HISTORY_DAYS_OPEN,
    FeedMinutes,
    find_gaps,
    gaps_frame,
    needs_feed,
    reachable,
    session_gaps,
    stored_minutes,
)
from oss20.calendar import sessions

DAY = dt.date(2025, 1, 3)
HALF_DAY = dt.date(2024, 12, 24)
AFTER = pd.Timestamp("2025-01-10 12:00", tz="America/New_York")
"""A ``now`` after every session the tests look at, while the market is open."""


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmm}", tz="America/New_York")


def minutes(day: dt.date, first: str, last: str) -> np.ndarray:
    """Starts (epoch ns) of every minute from ``first`` to ``last`` inclusive."""
    return pd.date_range(at(day, first), at(day, last), freq="min").asi8


def feed(day: dt.date, first: str = "09:30", last: str = "15:59", quiet: tuple[str, ...] = ()) -> FeedMinutes:
    """The feed trading 2 trades a minute from ``first`` to ``last``, except the ``quiet`` minutes."""
    starts = minutes(day, first, last)
    starts = starts[~np.isin(starts, [at(day, q).value for q in quiet])]
    return FeedMinutes(starts, np.full(len(starts), 2, np.int64))


def without(stored: np.ndarray, day: dt.date, first: str, last: str) -> np.ndarray:
    return stored[(stored < at(day, first).value) | (stored > at(day, last).value)]


def test_holidays_are_skipped_and_missing_sessions_span_their_window() -> None:
    days = sessions("2024-12-31", "2025-01-02")
    assert days == [dt.date(2024, 12, 31), dt.date(2025, 1, 2)], "New Year's Day is a holiday"
    found = find_gaps("AAPL", days, {}, None, AFTER)
    assert [(g.session, g.reason, g.expected_trades) for g in found] == [
        (dt.date(2024, 12, 31), "missing session", None),
        (dt.date(2025, 1, 2), "missing session", None),
    ]
    assert (found[0].start, found[0].end) == (at(days[0], "09:30"), at(days[0], "16:00"))


def test_half_days_end_at_their_early_close_and_extended_hours_widen_the_window() -> None:
    regular = session_gaps("AAPL", HALF_DAY, np.empty(0, np.int64), None, AFTER)
    assert [(g.start, g.end) for g in regular] == [(at(HALF_DAY, "09:30"), at(HALF_DAY, "13:00"))]
    extended = session_gaps("AAPL", HALF_DAY, np.empty(0, np.int64), None, AFTER, extended_hours=True)
    assert [(g.start, g.end) for g in extended] == [(at(HALF_DAY, "04:00"), at(HALF_DAY, "20:00"))]
    traded = feed(HALF_DAY, "09:30", "12:59")
    found = session_gaps("AAPL", HALF_DAY, np.empty(0, np.int64), traded, AFTER)
    assert found[0].expected_trades == 2 * 210, "only the half day's 210 minutes count"
    stored = minutes(HALF_DAY, "09:30", "12:59")
    assert session_gaps("AAPL", HALF_DAY, stored, feed(HALF_DAY), AFTER) == [], "nothing after 13:00 is due"


def test_quiet_minutes_are_not_holes_and_do_not_split_one() -> None:
    stored = minutes(DAY, "09:30", "15:59")
    quiet = ("10:00", "11:02", "11:03")
    traded = feed(DAY, quiet=quiet)
    stored = stored[~np.isin(stored, [at(DAY, q).value for q in quiet])]
    assert session_gaps("AAPL", DAY, stored, traded, AFTER) == [], "nothing stored where the feed was quiet"
    holed = without(stored, DAY, "11:00", "11:05")
    (hole,) = session_gaps("AAPL", DAY, holed, traded, AFTER)
    assert (hole.start, hole.end, hole.reason) == (at(DAY, "11:00"), at(DAY, "11:06"), "hole")
    assert hole.expected_trades == 2 * 4, "four traded minutes in 11:00-11:05, two quiet"


def test_separate_holes_stay_separate() -> None:
    stored = without(without(minutes(DAY, "09:30", "15:59"), DAY, "10:10", "10:11"), DAY, "14:00", "14:00")
    found = session_gaps("AAPL", DAY, stored, feed(DAY), AFTER)
    assert [(g.start, g.end, g.reason) for g in found] == [
        (at(DAY, "10:10"), at(DAY, "10:12"), "hole"),
        (at(DAY, "14:00"), at(DAY, "14:01"), "hole"),
    ]


def test_a_late_start_or_early_end_is_a_partial_session() -> None:
    stored = minutes(DAY, "09:45", "14:59")
    found = session_gaps("AAPL", DAY, stored, feed(DAY, quiet=("09:30",)), AFTER)
    assert [(g.start, g.end, g.reason, g.expected_trades) for g in found] == [
        (at(DAY, "09:31"), at(DAY, "09:45"), "partial session", 2 * 14),
        (at(DAY, "15:00"), at(DAY, "16:00"), "partial session", 2 * 60),
    ]


def test_a_session_the_feed_shows_no_trade_in_has_no_gap() -> None:
    empty = FeedMinutes(np.empty(0, np.int64), np.empty(0, np.int64))
    assert session_gaps("AAPL", DAY, np.empty(0, np.int64), empty, AFTER) == []


def test_without_the_feed_only_long_quiet_stretches_count() -> None:
    stored = without(without(minutes(DAY, "09:30", "15:59"), DAY, "10:00", "10:08"), DAY, "12:00", "12:09")
    stored = without(stored, DAY, "15:50", "15:59")
    found = session_gaps("AAPL", DAY, stored, None, AFTER)
    assert [(g.start, g.end, g.reason, g.expected_trades) for g in found] == [
        (at(DAY, "12:00"), at(DAY, "12:10"), "hole", None),
        (at(DAY, "15:50"), at(DAY, "16:00"), "partial session", None),
    ], "9 quiet minutes are not enough; 10 are"


def test_a_session_under_way_is_looked_at_up_to_now() -> None:
    now = at(DAY, "11:30:40")
    stored = minutes(DAY, "09:30", "11:20")
    (tail,) = session_gaps("AAPL", DAY, stored, feed(DAY), now)
    assert (tail.start, tail.end, tail.reason) == (at(DAY, "11:21"), at(DAY, "11:30"), "partial session")
    assert tail.expected_trades == 2 * 9, "the minute in progress is not due yet"
    assert session_gaps("AAPL", DAY, stored, feed(DAY), at(DAY, "09:00")) == [], "not begun"


def test_reachability_at_the_8_and_180_day_boundaries() -> None:
    closed = pd.Timestamp("2025-06-28 12:00", tz="America/New_York")  # a Saturday
    opened = pd.Timestamp("2025-06-24 11:00", tz="America/New_York")  # a Tuesday, regular hours
    before_open = pd.Timestamp("2025-06-24 08:00", tz="America/New_York")
    days = dt.timedelta
    assert reachable(closed.date() - days(TICK_HISTORY_DAYS), closed)
    assert not reachable(closed.date() - days(TICK_HISTORY_DAYS + 1), closed)
    assert reachable(opened.date() - days(TICK_HISTORY_DAYS_OPEN), opened)
    assert not reachable(opened.date() - days(TICK_HISTORY_DAYS_OPEN + 1), opened)
    assert reachable(before_open.date() - days(TICK_HISTORY_DAYS_OPEN + 1), before_open), (
        "closed before 09:30"
    )
    assert reachable(opened.date() - days(9), opened.tz_convert("UTC") + pd.Timedelta(hours=6)), "after 16:00"
    old = dt.date(2024, 12, 20)
    (gap,) = session_gaps("AAPL", old, np.empty(0, np.int64), None, closed)
    assert not gap.reachable


def test_only_sessions_not_fully_stored_need_the_feed() -> None:
    full = minutes(DAY, "09:30", "15:59")
    assert not needs_feed(DAY, full, AFTER)
    assert needs_feed(DAY, full[1:], AFTER)
    assert needs_feed(DAY, full, AFTER, extended_hours=True), "the pre-market is not stored"
    assert not needs_feed(DAY, np.empty(0, np.int64), at(DAY, "08:00")), "not begun"
    assert find_gaps("AAPL", [DAY], {DAY: full}, {}, AFTER) == [], "not asked: fully stored"


def test_stored_minutes_feed_minutes_and_the_frame() -> None:
    ticks = np.array([at(DAY, "09:30:01").value, at(DAY, "09:30:59").value, at(DAY, "09:32:00").value])
    assert stored_minutes(ticks).tolist() == [at(DAY, "09:30").value, at(DAY, "09:32").value]
    bars = pd.DataFrame({"timestamp": [at(DAY, "09:32"), at(DAY, "09:31")], "trades": [3, 0]})
    parsed = FeedMinutes.from_bars(bars)
    assert parsed.starts.tolist() == [at(DAY, "09:31").value] and parsed.trades.tolist() == [3]
    frame = gaps_frame(find_gaps("KO", [DAY], {}, None, AFTER))
    assert list(frame.columns) == [
        "symbol",
        "session",
        "start",
        "end",
        "expected_trades",
        "reason",
        "reachable",
    ]
    assert str(frame["expected_trades"].dtype) == "Int64" and str(frame["start"].dt.tz) == "America/New_York"
    assert gaps_frame([]).empty
