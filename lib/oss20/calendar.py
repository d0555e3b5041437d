"""Exchange sessions from the real NYSE calendar, in America/New_York.

Holidays and half days come from exchange_calendars; extended hours (04:00-09:30 and
close-20:00 ET) are the US equity pre-market and after-hours windows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache, lru_cache

import exchange_calendars as xc
import pandas as pd

from oss20.schema import TZ

PRE_MARKET_OPEN = dt.time(4, 0)
AFTER_HOURS_CLOSE = dt.time(20, 0)


@dataclass(frozen=True)
class Session:
    """One trading day's windows, as tz-aware America/New_York timestamps."""

    day: dt.date
    pre_open: pd.Timestamp
    open: pd.Timestamp
    close: pd.Timestamp
    post_close: pd.Timestamp

    @property
    def is_half_day(self) -> bool:
        return self.close.time() < dt.time(16, 0)


@cache
def _calendar() -> xc.ExchangeCalendar:
    return xc.get_calendar("XNYS")


def to_date(day: dt.date | str | pd.Timestamp) -> dt.date:
    """Parse ``day`` (a date, ``YYYY-MM-DD`` or ``YYYYMMDD``) into a date, with a clear error."""
    if isinstance(day, pd.Timestamp):
        return day.date()
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    text = str(day).strip()
    for fmt in ("%Y-%m-%d", "%Y%m%d"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(f"not a date: {day!r}; expected YYYY-MM-DD")


def is_session(day: dt.date | str) -> bool:
    """True when the NYSE trades on ``day``."""
    d = to_date(day)
    cal = _calendar()
    ts = pd.Timestamp(d)
    return cal.first_session <= ts <= cal.last_session and cal.is_session(ts)


def session(day: dt.date | str) -> Session:
    """The session windows of ``day``; ValueError if the exchange is closed that day."""
    return _session(to_date(day))


@lru_cache(maxsize=8192)
def _session(d: dt.date) -> Session:
    """``session`` of a parsed date, remembered: the calendar lookup costs about 1.5 ms."""
    if not is_session(d):
        raise ValueError(f"{d.isoformat()} is not an NYSE trading day (weekend, holiday or out of range)")
    row = _calendar().schedule.loc[pd.Timestamp(d)]
    local = pd.Timestamp(d).tz_localize(TZ)
    return Session(
        day=d,
        pre_open=local + pd.Timedelta(hours=PRE_MARKET_OPEN.hour),
        open=row["open"].tz_convert(TZ),
        close=row["close"].tz_convert(TZ),
        post_close=local + pd.Timedelta(hours=AFTER_HOURS_CLOSE.hour),
    )


def sessions(start: dt.date | str, end: dt.date | str) -> list[dt.date]:
    """Trading days from ``start`` to ``end`` inclusive."""
    return list(_sessions(to_date(start), to_date(end)))


@lru_cache(maxsize=8192)
def _sessions(s: dt.date, e: dt.date) -> tuple[dt.date, ...]:
    cal = _calendar()
    lo = max(pd.Timestamp(s), cal.first_session)
    hi = min(pd.Timestamp(e), cal.last_session)
    if lo > hi:
        return ()
    return tuple(ts.date() for ts in cal.sessions_in_range(lo, hi))


def previous_session(day: dt.date | str) -> dt.date:
    """The last trading day strictly before ``day``."""
    d = to_date(day)
    return _calendar().date_to_session(pd.Timestamp(d) - pd.Timedelta(days=1), direction="previous").date()


def latest_session(now: pd.Timestamp | None = None) -> dt.date:
    """The most recent trading day whose pre-market has begun at ``now`` (default: now)."""
    now = pd.Timestamp.now(tz=TZ) if now is None else now.tz_convert(TZ)
    today = now.date()
    if is_session(today) and now.time() >= PRE_MARKET_OPEN:
        return today
    return previous_session(today)
