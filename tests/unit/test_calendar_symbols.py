from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from oss20 import calendar
from oss20.symbols import validate_symbol


def test_half_day_closes_at_one() -> None:
    s = calendar.session("2024-11-29")
    assert s.is_half_day and s.close.hour == 13
    assert str(s.open.tz) == "America/New_York" and s.open.hour == 9 and s.open.minute == 30


def test_holidays_and_weekends_are_not_sessions() -> None:
    assert not calendar.is_session("2025-01-01")
    assert not calendar.is_session("2025-01-04")
    with pytest.raises(ValueError, match="2025-01-01 is not an NYSE trading day"):
        calendar.session("2025-01-01")


def test_sessions_span_holidays() -> None:
    days = calendar.sessions("2024-12-24", "2025-01-03")
    assert dt.date(2024, 12, 25) not in days and dt.date(2025, 1, 1) not in days
    assert days[0] == dt.date(2024, 12, 24) and days[-1] == dt.date(2025, 1, 3)


def test_latest_session_before_pre_market_is_the_previous_day() -> None:
    early = pd.Timestamp("2025-01-03 03:00", tz="America/New_York")
    assert calendar.latest_session(early) == dt.date(2025, 1, 2)
    assert calendar.latest_session(pd.Timestamp("2025-01-04 12:00", tz="America/New_York")) == dt.date(
        2025, 1, 3
    )


def test_bad_dates_say_what_is_expected() -> None:
    with pytest.raises(ValueError, match="expected YYYY-MM-DD"):
        calendar.to_date("02/01/2025")


@pytest.mark.parametrize("good", ["AAPL", "brk.b", " SPY ", "BF-B", "X"])
def test_valid_tickers(good: str) -> None:
    assert validate_symbol(good) == good.strip().upper()


@pytest.mark.parametrize(
    "bad", ["", "../etc", "AAPL/2025", "A A", "1ABC", "AAPL;DROP", "TOOLONGTICKER1", "A..B"]
)
def test_invalid_tickers_are_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a valid ticker"):
        validate_symbol(bad)
