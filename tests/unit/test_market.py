"""The synthetic market: deterministic, schema-true, and shaped like real IQFeed trade data."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oss20 import calendar
from oss20.market import MARKET_CENTERS, TRADE_CONDITIONS, UNIVERSE, Instrument, Market
from oss20.schema import LEVEL1_COLUMNS, TICK_COLUMNS

DAY = dt.date(2025, 1, 2)
HALF_DAY = dt.date(2024, 11, 29)
ACTIVITY = 0.02
TRADE = ["C", "E", "O"]


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, activity=ACTIVITY)


def stamps_ns(frame: pd.DataFrame) -> np.ndarray:
    return frame["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)


def assert_invariants(market: Market, symbol: str, day: dt.date) -> None:
    """What must hold for every symbol-day, whatever the seed."""
    level1, ticks = market.level1(symbol, day), market.ticks(symbol, day)
    sess = calendar.session(day)
    t = stamps_ns(level1)
    assert (np.diff(t) >= 0).all()
    assert t[0] >= sess.pre_open.value and t[-1] < sess.post_close.value
    trade = level1["contents"].isin(TRADE).to_numpy()
    tie = np.r_[False, np.diff(t) == 0]
    assert trade[tie].all() and level1["conditions"][tie].str.startswith("3D").all(), "ties only in sweeps"
    assert (level1["bid"] < level1["ask"]).all()
    assert (level1["total_volume"].to_numpy() == np.cumsum(np.where(trade, level1["size"], 0))).all()
    regular = (ticks["timestamp"] >= sess.open) & (ticks["timestamp"] <= sess.close)
    assert ((ticks["basis"] == "E") == ~regular).all(), "basis E exactly outside regular hours"
    assert not ticks.duplicated(["symbol", "market_center", "tick_id"]).any()
    for _, ids in ticks.groupby("market_center")["tick_id"]:
        assert (np.diff(ids.to_numpy()) > 0).all()
    c = ticks[ticks["basis"] == "C"]
    row = market.daily(symbol, day, day).iloc[0]
    assert (row["open"], row["high"], row["low"], row["close"]) == (
        c["price"].iloc[0],
        c["price"].max(),
        c["price"].min(),
        c["price"].iloc[-1],
    )
    assert row["volume"] == ticks["total_volume"].iloc[-1] == ticks["size"].sum()
    assert c["timestamp"].iloc[-1] == sess.close and c["conditions"].iloc[-1] == "1C"
    for start, end in market.halts(symbol, day):
        assert not ((level1["timestamp"] >= start) & (level1["timestamp"] < end)).any()


# --- determinism -------------------------------------------------------------------------------


def test_same_seed_gives_the_same_frames_and_another_seed_does_not(market: Market) -> None:
    again = Market(seed=7, activity=ACTIVITY)
    pd.testing.assert_frame_equal(market.level1("AAPL", DAY), again.level1("AAPL", "2025-01-02"))
    pd.testing.assert_frame_equal(market.ticks("KO", HALF_DAY), again.ticks("KO", HALF_DAY))
    other = Market(seed=8, activity=ACTIVITY).ticks("AAPL", DAY)
    assert not other["price"].equals(market.ticks("AAPL", DAY)["price"])


def test_frames_are_identical_in_another_process(market: Market) -> None:
    code = (
        "import pandas as pd; from oss20.market import Market; "
        "t = Market(seed=7, activity=0.02).ticks('NVDA', '2025-01-02'); "
        "print(int(pd.util.hash_pandas_object(t, index=False).sum()))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    here = int(pd.util.hash_pandas_object(market.ticks("NVDA", DAY), index=False).sum())
    assert int(out.stdout.strip()) == here


# --- shape and schema --------------------------------------------------------------------------


def test_columns_and_dtypes_are_the_schema(market: Market) -> None:
    level1, ticks = market.level1("AAPL", DAY), market.ticks("AAPL", DAY)
    assert list(level1.columns) == list(LEVEL1_COLUMNS)
    assert list(ticks.columns) == list(TICK_COLUMNS)
    for frame, columns in ((level1, LEVEL1_COLUMNS), (ticks, TICK_COLUMNS)):
        for name, dtype in columns.items():
            assert frame[name].dtype == dtype, name
    assert (ticks.index == np.arange(len(ticks))).all()


def test_ticks_are_exactly_the_trade_rows_of_level1(market: Market) -> None:
    level1 = market.level1("MSFT", DAY)
    trades = level1[level1["contents"].isin(TRADE)][list(TICK_COLUMNS)].reset_index(drop=True)
    pd.testing.assert_frame_equal(market.ticks("MSFT", DAY), trades)
    assert set(level1["contents"]) == {"C", "E", "O", "b", "a", "ba"}


def test_universe_and_reference_tables() -> None:
    assert {"AAPL", "SPY", "QQQ", "JPM", "F"} <= set(UNIVERSE)
    assert any(i.price < 1 for i in UNIVERSE.values())
    assert all(isinstance(i, Instrument) and i.listing in MARKET_CENTERS for i in UNIVERSE.values())
    assert {5: "NASDAQ", 11: "NYSE Arca"}.items() <= MARKET_CENTERS.items()
    assert MARKET_CENTERS[19].startswith("NTRF")
    assert {"01", "05", "17", "3D", "87"} <= set(TRADE_CONDITIONS)
    assert all(len(code) == 2 and int(code, 16) >= 0 for code in TRADE_CONDITIONS)


def test_unknown_symbol_and_closed_days_are_refused(market: Market) -> None:
    with pytest.raises(ValueError, match="2025-01-01 is not an NYSE trading day"):
        market.level1("AAPL", "2025-01-01")
    with pytest.raises(ValueError, match="not an NYSE trading day"):
        market.ticks("AAPL", dt.date(2025, 1, 4))
    with pytest.raises(KeyError, match="unknown symbol 'ZZZZ'"):
        market.ticks("ZZZZ", DAY)
    assert market.knows("AAPL") and not market.knows("ZZZZ")
    assert market.symbols == sorted(UNIVERSE)
    with pytest.raises(ValueError, match="activity"):
        Market(activity=0)


# --- invariants on fixed days ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("symbol", "day"),
    [
        ("AAPL", DAY),
        ("SPY", HALF_DAY),
        ("PNNY", DAY),
        ("KO", dt.date(2008, 10, 10)),
        ("TSLA", dt.date(2027, 3, 1)),
    ],
)
def test_invariants_hold(market: Market, symbol: str, day: dt.date) -> None:
    assert_invariants(market, symbol, day)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    symbol=st.sampled_from(sorted(UNIVERSE)),
    day=st.sampled_from(calendar.sessions("2006-11-27", "2027-11-24")),
    seed=st.integers(0, 2**31 - 1),
)
def test_invariants_hold_for_any_symbol_day_and_seed(symbol: str, day: dt.date, seed: int) -> None:
    assert_invariants(Market(seed=seed, activity=0.01), symbol, day)


def test_half_day_closes_at_one_with_its_closing_print(market: Market) -> None:
    ticks = market.ticks("AAPL", HALF_DAY)
    one = pd.Timestamp("2024-11-29 13:00", tz="America/New_York")
    c = ticks[ticks["basis"] == "C"]
    assert c["timestamp"].max() == one
    close = c.iloc[-1]
    assert close["conditions"] == "1C" and close["size"] >= 0.005 * ticks["size"].sum()
    assert (ticks.loc[ticks["timestamp"] > one, "basis"] == "E").all()
    assert (ticks["timestamp"] > one).any(), "after-hours trading follows the early close"


# --- quotes and prices -------------------------------------------------------------------------


def test_trades_print_at_the_quote_in_force(market: Market) -> None:
    ticks = market.ticks("AAPL", DAY)
    plain = ticks[~ticks["conditions"].isin(["05", "0517", "1A", "1C"])]
    outside = np.maximum(plain["bid"] - plain["price"], plain["price"] - plain["ask"]).clip(lower=0)
    assert (outside <= 0.03 + 1e-9).all(), "sweeps walk at most a few ticks through the quote"
    lit_single = plain[~plain["conditions"].str.contains("3D") & ~plain["market_center"].isin([19, 20, 21])]
    buys, sells = lit_single[lit_single["aggressor"] == 1], lit_single[lit_single["aggressor"] == 2]
    assert (buys["price"] == buys["ask"]).all() and (sells["price"] == sells["bid"]).all()
    assert (ticks["aggressor"] == 0).any()
    cents = np.round(ticks["price"] * 100, 6)
    subpenny = ticks[cents != np.round(cents)]
    assert len(subpenny) and set(subpenny["market_center"]) <= {19, 20, 21}
    for prices in (ticks["price"], ticks["bid"], ticks["ask"]):
        assert (np.round(prices, 4) == prices).all()
        assert all(float(repr(p)) == p and len(repr(p).split(".")[1]) <= 4 for p in prices[:500])


def test_quotes_are_on_the_grid_in_round_lots(market: Market) -> None:
    level1 = market.level1("AAPL", DAY)
    quotes = level1[level1["contents"].isin(["b", "a", "ba"])]
    assert (quotes["bid_size"] % 100 == 0).all() and (quotes["ask_size"] % 100 == 0).all()
    assert (quotes["bid_size"] > 0).all()
    assert (np.round(quotes["bid"], 2) == quotes["bid"]).all()
    ratio = len(quotes) / (len(level1) - len(quotes))
    assert 1.2 < ratio < 1.8, "about 1.5 quote updates per trade"
    penny = market.level1("PNNY", DAY)
    assert (penny["ask"] < 1).all() and (np.round(penny["bid"], 2) != penny["bid"]).any()
    assert market.fundamentals("PNNY")["Precision"] == 4


def test_level1_state_columns(market: Market) -> None:
    level1 = market.level1("AAPL", DAY)
    trade = level1["contents"].isin(TRADE).to_numpy()
    c_price = level1["price"].where(level1["contents"] == "C")
    pd.testing.assert_series_equal(level1["high"], c_price.cummax().ffill(), check_names=False)
    pd.testing.assert_series_equal(level1["low"], c_price.cummin().ffill(), check_names=False)
    first_c = int(np.flatnonzero(level1["contents"] == "C")[0])
    assert level1["open"].iloc[:first_c].isna().all()
    assert (level1["open"].iloc[first_c:] == level1["price"].iloc[first_c]).all()
    previous = market.daily("AAPL", "2024-12-31", "2024-12-31")["close"].iloc[0]
    assert (level1["close"] == previous).all()
    # quote rows carry the last trade's fields; before the first trade they are empty
    first_trade = int(np.flatnonzero(trade)[0])
    before = level1.iloc[:first_trade]
    assert (
        (before["tick_id"] == 0).all() and before["price"].isna().all() and (before["conditions"] == "").all()
    )
    last = np.maximum.accumulate(np.where(trade, np.arange(len(level1)), -1))[first_trade:]
    for name in ("tick_id", "market_center", "price", "size", "basis", "conditions", "aggressor"):
        values = level1[name].to_numpy()
        assert (values[first_trade:] == values[last]).all(), name


# --- what real trade data looks like -----------------------------------------------------------


def test_condition_mix_sizes_and_venues_look_like_aapl() -> None:
    ticks = Market(seed=7, activity=0.1).ticks("AAPL", DAY)
    regular = ticks[ticks["basis"] != "E"]
    share = regular["conditions"].value_counts(normalize=True)
    assert 0.30 < share.get("3D", 0) + share.get("3D87", 0) < 0.45
    assert 0.50 < share.get("01", 0) + share.get("87", 0) < 0.70
    assert 0 < share.get("29", 0) < 0.02 and 0 < share.get("05", 0) < 0.01
    odd = ticks["size"] < 100
    assert (ticks.loc[odd & (ticks["basis"] != "E"), "basis"] == "O").all()
    assert ticks.loc[odd & (ticks["basis"] != "E"), "conditions"].isin(["87", "3D87"]).all()
    assert (ticks.loc[ticks["conditions"].isin(["05"]), "basis"] == "O").all()
    assert ticks.loc[ticks["basis"] == "E", "conditions"].str.contains("17").all()
    assert ticks["size"].median() == 100 and ticks["size"].quantile(0.98) >= 1000
    venues = ticks["market_center"].value_counts(normalize=True)
    assert 0.38 < venues[5] < 0.52 and 0.12 < venues[19] < 0.25 and 0.08 < venues[11] < 0.16
    assert len(venues) >= 15
    # sweeps: bursts at one microsecond across several venues, walking the price
    sweeps = ticks[ticks["conditions"].str.startswith("3D")]
    bursts = sweeps.groupby("timestamp")
    assert bursts.size().mean() > 3
    assert (bursts["market_center"].nunique() == bursts.size()).all()
    walks = bursts["price"].agg(lambda p: p.is_monotonic_increasing or p.is_monotonic_decreasing)
    assert walks.all() and (bursts["price"].nunique() > 1).mean() > 0.5
    # venues reuse TickIDs, never within one venue
    assert ticks.duplicated("tick_id").any()
    close = ticks[ticks["conditions"] == "1C"]
    assert len(close) == 1 and 0.009 < close["size"].iloc[0] / ticks["size"].sum() < 0.031
    assert (ticks["conditions"] == "1A").sum() == 1


def test_regular_hours_are_u_shaped(market: Market) -> None:
    def count(ticks: pd.DataFrame, start: str, end: str) -> int:
        clock = ticks["timestamp"].dt.strftime("%H:%M")
        return int(((clock >= start) & (clock < end)).sum())

    first = last = midday = extended = total = 0
    for day in calendar.sessions("2025-01-06", "2025-01-10"):
        ticks = market.ticks("AAPL", day)
        first += count(ticks, "09:30", "10:00")
        last += count(ticks, "15:30", "16:00")
        midday += count(ticks, "12:30", "13:00")
        extended += int((ticks["basis"] == "E").sum())
        total += len(ticks)
    assert first > 1.8 * midday and last > 1.8 * midday
    assert 0.01 < extended / total < 0.08


def test_activity_scales_counts_linearly() -> None:
    small = len(Market(seed=7, activity=0.02).ticks("AAPL", DAY))
    large = len(Market(seed=7, activity=0.06).ticks("AAPL", DAY))
    assert 2.6 < large / small < 3.4
    assert 150_000 < small / 0.02 < 250_000, "AAPL prints ~200k trades a day at activity 1.0"


# --- days, bars, halts, fundamentals ------------------------------------------------------------


def test_daily_agrees_with_ticks_and_is_continuous(market: Market) -> None:
    daily = market.daily("AAPL", "2024-12-16", "2025-01-08")
    days = calendar.sessions("2024-12-16", "2025-01-08")
    assert list(daily["date"]) == days
    assert list(daily.columns) == ["date", "open", "high", "low", "close", "volume", "open_interest"]
    for day, row in zip(days[-4:], daily.iloc[-4:].itertuples(), strict=True):
        ticks = market.ticks("AAPL", day)
        c = ticks.loc[ticks["basis"] == "C", "price"]
        assert (row.open, row.high, row.low, row.close) == (c.iloc[0], c.max(), c.min(), c.iloc[-1])
        assert row.volume == ticks["total_volume"].iloc[-1]
    gaps = daily["open"] / daily["close"].shift() - 1
    assert gaps.abs().max() < 0.03
    assert (daily["low"] <= daily[["open", "close"]].min(axis=1)).all()
    assert (daily["high"] >= daily[["open", "close"]].max(axis=1)).all()
    assert (daily["open_interest"] == 0).all()
    years = market.daily("KO", "2007-01-01", "2007-03-31")
    assert len(years) == len(calendar.sessions("2007-01-01", "2007-03-31"))
    assert years["close"].between(0.2 * UNIVERSE["KO"].price, 5 * UNIVERSE["KO"].price).all()


@pytest.mark.parametrize(("interval", "kind"), [(60, "s"), (300, "s"), (25, "t"), (20_000, "v")])
def test_interval_bars_add_up_to_the_day(market: Market, interval: int, kind: str) -> None:
    ticks = market.ticks("AAPL", DAY)
    bars = market.interval_bars("AAPL", DAY, interval, kind)
    assert list(bars.columns) == [
        "timestamp",
        "open",
        "high",
        "low",
        "close",
        "total_volume",
        "volume",
        "trades",
    ]
    assert str(bars["timestamp"].dt.tz) == "America/New_York"
    assert bars["volume"].sum() == ticks["size"].sum() == bars["total_volume"].iloc[-1]
    assert bars["trades"].sum() == len(ticks) and (bars["trades"] > 0).all()
    assert (bars["total_volume"] == bars["volume"].cumsum()).all()
    assert bars["timestamp"].is_monotonic_increasing
    qualifying = ticks[ticks["basis"].isin(["C", "E"])]
    assert bars["high"].max() == qualifying["price"].max() and bars["low"].min() == qualifying["price"].min()
    assert (
        bars["open"].iloc[0] == qualifying["price"].iloc[0]
        and bars["close"].iloc[-1] == qualifying["price"].iloc[-1]
    )
    if kind == "s":
        end = ticks["timestamp"].dt.floor(f"{interval}s") + pd.Timedelta(seconds=interval)
        expected = qualifying.groupby(end[qualifying.index])["price"].agg(["first", "max", "min", "last"])
        got = bars.set_index("timestamp").loc[expected.index]
        assert (got[["open", "high", "low", "close"]].to_numpy() == expected.to_numpy()).all()
        assert (ticks.groupby(end)["size"].sum().to_numpy() == bars["volume"].to_numpy()).all()
    if kind == "t":
        assert (bars["trades"].iloc[:-1] == interval).all()


def test_interval_bars_reject_bad_requests(market: Market) -> None:
    with pytest.raises(ValueError, match="bar kind"):
        market.interval_bars("AAPL", DAY, 60, "x")
    with pytest.raises(ValueError, match="positive integer"):
        market.interval_bars("AAPL", DAY, 0)


def test_halts_are_rare_short_and_empty(market: Market) -> None:
    days = calendar.sessions("2024-01-01", "2024-12-31")
    halted = [(s, d) for s in UNIVERSE for d in days if market.halts(s, d)]
    assert 0.015 < len(halted) / (len(UNIVERSE) * len(days)) < 0.05
    symbol, day = halted[0]
    [(start, end)] = market.halts(symbol, day)
    sess = calendar.session(day)
    assert sess.open < start < end < sess.close
    assert pd.Timedelta(minutes=5) <= end - start <= pd.Timedelta(minutes=15)
    level1 = market.level1(symbol, day)
    assert not ((level1["timestamp"] >= start) & (level1["timestamp"] < end)).any()
    assert_invariants(market, symbol, day)


def test_fundamentals_are_small_plausible_and_deterministic(market: Market) -> None:
    f = market.fundamentals("AAPL")
    assert f == Market(seed=7, activity=ACTIVITY).fundamentals("AAPL")
    assert f["Symbol"] == "AAPL" and f["Company Name"] == "APPLE INC" and f["Listed Market"] == 5
    assert f["52 Week Low"] <= UNIVERSE["AAPL"].price * 1.5 and f["52 Week High"] >= f["52 Week Low"]
    assert f["Precision"] == 2 and f["Common Shares Outstanding"] > 10**9
    assert market.fundamentals("SPY")["PE"] is None


@pytest.mark.parametrize("seed", [7, 11])
def test_daily_fast_path_equals_the_summary_of_ticks(seed: int) -> None:
    """daily() runs the simulation without building rows; it must match ticks() exactly."""
    days = calendar.sessions("2024-11-25", "2024-12-06")  # a half day, and enough days for threads
    halted = next(
        d for d in calendar.sessions("2024-01-01", "2024-12-31") if Market(seed=seed).halts("SPY", d)
    )
    for symbol, span in (("AAPL", days), ("PNNY", days), ("SPY", [halted])):
        daily = Market(seed=seed, activity=ACTIVITY).daily(symbol, span[0], span[-1])
        rows = Market(seed=seed, activity=ACTIVITY)
        for day, bar in zip(span, daily.itertuples(), strict=True):
            ticks = rows.ticks(symbol, day)
            c = ticks.loc[ticks["basis"] == "C", "price"]
            assert (bar.open, bar.high, bar.low, bar.close) == (c.iloc[0], c.max(), c.min(), c.iloc[-1])
            assert bar.volume == ticks["total_volume"].iloc[-1] == ticks["size"].sum()
