"""Tiers 1-4 on the synthetic market's days: clean days pass, each fault is flagged by its tier, in place.

The feed's bars come from the same ``Market`` the simulator serves (``interval_bars``, ``daily``),
so a stored day equal to the market's ticks must agree with them exactly.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oss20 import calendar
from oss20.market import Market
from oss20.schema import REJECTED_COLUMNS, empty_frame
from oss20.storage import keys
from oss20.validation import tier4
from oss20.validation.report import DayReport, score, validate_day
from oss20.validation.results import CheckResult
from tests.conftest import DAY

SYMBOL = "AAPL"
WEEK = (dt.date(2024, 12, 23), dt.date(2024, 12, 27))  # Christmas Eve closes at 13:00, Christmas shut


def report(market: Market, day: dt.date, ticks: pd.DataFrame | None = None, **kw: object) -> DayReport:
    """Validate ``ticks`` (default: the market's own) as the stored ``day``, against the market's bars."""
    stored = market.ticks(SYMBOL, day) if ticks is None else ticks
    minutes = market.interval_bars(SYMBOL, day, 60)
    daily = market.daily(SYMBOL, day, day).iloc[0]
    quarantined = kw.pop("quarantined", empty_frame(REJECTED_COLUMNS))
    return validate_day(stored, SYMBOL, day, quarantined, minutes, daily, **kw)  # type: ignore[arg-type]


def result(r: DayReport, tier: int, check: str) -> CheckResult:
    return next(x for x in r.results if (x.tier, x.check) == (tier, check))


def without(ticks: pd.DataFrame, start: str, end: str) -> tuple[pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """``ticks`` less those from ``start`` to ``end`` (times of DAY): what a feed gap leaves."""
    lo, hi = (pd.Timestamp(f"{DAY} {t}", tz="America/New_York") for t in (start, end))
    kept = ticks[(ticks["timestamp"] < lo) | (ticks["timestamp"] >= hi)].reset_index(drop=True)
    return kept, lo, hi


def mid_session_trade(ticks: pd.DataFrame) -> int:
    """A basis-C trade in the middle of the regular session, its neighbours basis C too."""
    c = np.flatnonzero(ticks["basis"].to_numpy() == "C")
    return int(c[len(c) // 2])


def test_a_clean_simulated_week_has_no_failures(market: Market) -> None:
    stored = [keys.key(keys.TICKS, SYMBOL, d) for d in calendar.sessions(*WEEK)]
    layout = tier4.storage_layout(stored, SYMBOL, *WEEK)
    assert sorted(layout) == calendar.sessions(*WEEK) == [dt.date(2024, 12, d) for d in (23, 24, 26, 27)]
    for day in calendar.sessions(*WEEK):
        r = report(market, day, layout=layout[day])
        failed = [(x.tier, x.check, x.message) for x in r.results if x.status == "fail"]
        assert failed == [], (day, failed)
        assert {x.tier for x in r.results} == {1, 2, 3, 4}
        assert r.score >= 90
    half = report(market, dt.date(2024, 12, 24))
    coverage = result(half, 4, "session_coverage")
    assert coverage.metrics["half_day"] is True and coverage.metrics["close"].startswith("2024-12-24T13:00")
    assert result(half, 3, "daily_bar").status == "pass"


def test_a_single_bad_print_fails_tier_2_at_its_row_and_tier_3_at_its_minute(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY).copy()
    row = mid_session_trade(ticks)
    ticks.loc[row, "price"] = round(ticks.loc[row, "price"] * 1.05, 2)
    r = report(market, DAY, ticks)
    bad = result(r, 2, "bad_prints")
    assert bad.status == "fail" and bad.rows.tolist() == [row]
    minutes = result(r, 3, "minute_bars")
    when = ticks.loc[row, "timestamp"]
    assert minutes.status == "fail" and minutes.ranges == (
        (when.floor("min"), when.floor("min") + pd.Timedelta("1min")),
    )
    failed = {(x.tier, x.check) for x in r.results if x.status == "fail"}
    assert failed == {(2, "bad_prints"), (3, "minute_bars"), (3, "daily_bar")}, (
        "5% above lifts the day's high"
    )
    assert r.score == 100 - 15 - 20 - 20


def test_a_real_fast_move_is_not_a_bad_print(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY).copy()
    row = mid_session_trade(ticks)
    ticks.loc[row:, ["price", "bid", "ask"]] *= 1.04  # the whole market jumps 4% and stays there
    assert result(report(market, DAY, ticks), 2, "bad_prints").status == "pass"


def test_a_dropped_stretch_is_a_hole_exactly_where_the_feed_traded(market: Market) -> None:
    kept, lo, hi = without(market.ticks(SYMBOL, DAY), "11:00", "11:20")
    r = report(market, DAY, kept)
    holes = result(r, 4, "holes")
    feed = market.interval_bars(SYMBOL, DAY, 60)["timestamp"]
    traded = sorted({t - pd.Timedelta("1min") for t in feed if lo < t <= hi})
    assert holes.status == "fail" and holes.metrics["missing_minutes"] == len(traded)
    assert holes.ranges[0][0] == traded[0] and holes.ranges[-1][1] == traded[-1] + pd.Timedelta("1min")
    assert result(r, 3, "minute_bars").metrics["missing_in_store"] == len(traded)
    assert result(r, 3, "daily_bar").status == "pass", "the cumulative volume still reaches the feed's"


def test_a_broken_cumulative_volume_fails_at_its_trade(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY).copy()
    row = mid_session_trade(ticks)
    ticks.loc[row, "total_volume"] += 500
    check = result(report(market, DAY, ticks), 2, "volume_consistency")
    assert check.status == "fail" and row in check.rows.tolist() and len(check.rows) <= 4


def test_a_tick_stored_twice_fails_tier_1_at_the_second_copy(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY)
    row = mid_session_trade(ticks)
    twice = pd.concat(
        [ticks.iloc[: row + 1], ticks.iloc[row : row + 1], ticks.iloc[row + 1 :]], ignore_index=True
    )
    check = result(report(market, DAY, twice), 1, "duplicates")
    assert check.status == "fail" and check.rows.tolist() == [row + 1]


def test_quarantined_ticks_warn_in_tier_1_with_their_reasons(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY)
    rejected = ticks.iloc[[5, 6, 7]].assign(reason=["duplicate", "duplicate", "price_range"])
    check = result(report(market, DAY, quarantined=rejected), 1, "quarantine")
    assert check.status == "warn"
    assert check.metrics == {"quarantined": 3, "duplicate": 2, "price_range": 1, "malformed_lines": 0}
    garbled = result(report(market, DAY, malformed=4), 1, "quarantine")
    assert garbled.status == "warn" and "4 unparseable feed lines" in garbled.message


def test_a_long_silence_while_the_quote_moves_is_stale(market: Market) -> None:
    kept, lo, hi = without(market.ticks(SYMBOL, DAY), "13:00", "13:30")
    stale = result(report(market, DAY, kept), 2, "staleness")
    assert stale.status == "warn" and len(stale.ranges) == 1
    start, end = stale.ranges[0]
    assert start < lo and end >= hi and (end - start) > pd.Timedelta("30min")


def test_ticks_stored_on_a_holiday_and_a_missing_session_break_the_layout(market: Market) -> None:
    christmas = dt.date(2024, 12, 25)
    stored = [keys.key(keys.TICKS, SYMBOL, d) for d in (dt.date(2024, 12, 23), christmas)]
    layout = tier4.storage_layout([*stored, "equity/AAPL/not-a-day"], SYMBOL, *WEEK)
    assert layout[dt.date(2024, 12, 23)].status == "warn", "a stray key under the symbol warns"
    assert layout[christmas].status == "fail" and "not a trading day" in layout[christmas].message
    assert all(layout[d].status == "fail" for d in (dt.date(2024, 12, 24), dt.date(2024, 12, 26)))
    holiday = tier4.session_coverage(market.ticks(SYMBOL, DAY)["timestamp"].array.asi8, christmas)
    assert holiday.status == "fail"


def test_ticks_outside_their_quote_count_only_when_plain(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY).copy()
    clean = result(report(market, DAY, ticks), 2, "outside_quote")
    assert clean.status == "pass" and clean.metrics["exempt"] > 0, "sweeps print through the quote"
    plain = np.flatnonzero((ticks["conditions"] == "01").to_numpy() & (ticks["bid"] > 0).to_numpy())
    moved = plain[: max(1, len(plain) // 10)]
    ticks.loc[moved, "price"] = ticks.loc[moved, "ask"] + 0.05
    check = result(report(market, DAY, ticks), 2, "outside_quote")
    assert check.status == "fail" and set(moved.tolist()) <= set(check.rows.tolist())


def test_the_score_is_100_less_the_tier_penalties() -> None:
    def r(tier: int, status: str) -> CheckResult:
        return CheckResult(tier, "x", status)  # type: ignore[arg-type]

    assert score([r(1, "pass"), r(2, "pass")]) == 100
    assert score([r(2, "warn"), r(4, "fail")]) == 100 - 3 - 25
    assert score([r(1, "fail")] * 3) == 0


@pytest.mark.parametrize("tier", [1, 2, 3])
def test_tier_metadata_describes_the_day(market: Market, tier: int) -> None:
    ticks = market.ticks(SYMBOL, DAY)
    frame = report(market, DAY).metadata[tier]
    if tier == 1:
        daily = market.daily(SYMBOL, DAY, DAY).iloc[0]
        row = frame.iloc[0]
        assert (row["open"], row["high"], row["low"], row["close"]) == (
            daily["open"],
            daily["high"],
            daily["low"],
            daily["close"],
        )
        assert row["count"] == len(ticks) and row["volume"] == ticks["size"].sum()
        assert row["vwap"] == pytest.approx((ticks["price"] * ticks["size"]).sum() / ticks["size"].sum())
        assert (
            row["first_tick"] == ticks["timestamp"].iloc[0]
            and row["last_tick"] == ticks["timestamp"].iloc[-1]
        )
    elif tier == 2:
        assert len(frame) == 13 and frame["start"].iloc[0] == pd.Timestamp(
            f"{DAY} 09:30", tz="America/New_York"
        )
        regular = ticks[
            (ticks["timestamp"] >= frame["start"].iloc[0])
            & (ticks["timestamp"] <= pd.Timestamp(f"{DAY} 16:00", tz="America/New_York"))
        ]
        assert frame["trades"].sum() == len(regular)
        assert frame["size_p50_day"].iloc[0] == ticks["size"].median()
    else:
        assert 0 < frame["realized_vol_5min"].iloc[0] < 0.2
        assert -1 <= frame["order_flow_imbalance"].iloc[0] <= 1
        assert -1 <= frame["autocorr_1min"].iloc[0] <= 1


def test_stored_ticks_breaking_row_rules_fail_tier_1_at_their_rows(market: Market) -> None:
    ticks = market.ticks(SYMBOL, DAY).copy()
    ticks.loc[0, "timestamp"] = pd.Timestamp(f"{DAY} 03:59:59", tz="America/New_York")
    row = mid_session_trade(ticks)
    ticks.loc[row, "price"] = -1.0
    rules = result(report(market, DAY, ticks), 1, "rules")
    assert rules.status == "fail" and rules.rows.tolist() == [0, row]
    assert rules.metrics == {"checked": len(ticks), "failing": 2, "hours": 1, "price_range": 1}
