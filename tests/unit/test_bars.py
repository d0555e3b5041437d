"""Bars from ticks: equal to slow independent references, the same streamed or in one call, in session.

The references (``tests/bars_reference.py``) are written from the definitions: segments pre-market
[04:00, open), regular [open, close] (the closing cross is regular) and after hours (close, 20:00);
OHLC from C/E prints (else all); threshold bars close on the tick reaching the threshold; imbalance
and run bars follow de Prado with expectations fixed as each bar opens, ``min_ticks`` and E[T]
clamped to [min_ticks, max_ticks] and learnt only from bars that close on their own.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from oss20 import calendar
from oss20.bar_engine import BarBuilder, BarSpec, build_bars
from oss20.market import Market
from oss20.schema import BAR_COLUMNS, TICK_COLUMNS, TZ, empty_frame
from tests import bars_reference as ref

CASES = [
    ("AAPL", dt.date(2025, 1, 2)),  # a full winter session
    ("SPY", dt.date(2024, 11, 29)),  # a half day: close 13:00
    ("NVDA", dt.date(2024, 7, 3)),  # a half day in summer time (EDT)
    ("PNNY", dt.date(2025, 1, 3)),  # a thin name
]
TIME_SPECS = ["1s", "5min", "7min", "1h", "1d"]
THRESHOLD_SPECS = ["tick:100", "volume:50000", "dollar:1e7"]
IMBALANCE_SPECS = [
    "tick_imbalance",
    "volume_imbalance(expected_ticks=50,min_ticks=10,tick_span=100)",
    "dollar_imbalance(expected_ticks=40,min_ticks=5,tick_span=50,bar_span=5)",
    "tick_imbalance(expected_ticks=20,min_ticks=10,max_ticks=25,tick_span=200,bar_span=3)",  # E[T] hits max
]
RUN_SPECS = [
    "tick_run(expected_ticks=50,min_ticks=10,tick_span=100)",
    "volume_run",
    "dollar_run(expected_ticks=40,min_ticks=5,tick_span=50,bar_span=5)",
    "volume_run(expected_ticks=30,min_ticks=10,max_ticks=40,tick_span=20,bar_span=3)",  # E[T] hits max
]
SPECS = TIME_SPECS + THRESHOLD_SPECS + IMBALANCE_SPECS + RUN_SPECS
ONE_PER_FAMILY = ["5min", "volume:50000", IMBALANCE_SPECS[1], RUN_SPECS[0]]
FLOATS = [name for name, dtype in BAR_COLUMNS.items() if dtype == np.float64]


def reference(ticks: pd.DataFrame, text: str, extended_hours: bool) -> pd.DataFrame:
    spec = BarSpec.parse(text)
    if spec.family == "time":
        return ref.time_bars(ticks, spec.size, extended_hours)
    if spec.family == "threshold":
        return ref.threshold_bars(ticks, spec.measure, spec.size, extended_hours)
    bars = ref.imbalance_bars if spec.family == "imbalance" else ref.run_bars
    params = (spec.expected_ticks, spec.bar_span, spec.tick_span, spec.min_ticks, spec.max_ticks)
    return bars(ticks, spec.measure, *params, extended_hours)


def tolerance(spec: str) -> float:
    """Floats of time bars within 1e-12 (pandas sums with compensation), the others bit for bit."""
    return 1e-12 if BarSpec.parse(spec).family == "time" else 0.0


def assert_bars_equal(actual: pd.DataFrame, expected: pd.DataFrame, rtol: float = 0.0) -> None:
    """Ints, times and symbols exactly; floats bit for bit, or within ``rtol`` (pandas sums differently)."""
    assert list(actual.columns) == list(BAR_COLUMNS)
    assert actual.dtypes.to_dict() == expected.dtypes.to_dict() == BAR_COLUMNS
    others = [name for name in BAR_COLUMNS if name not in FLOATS]
    assert_frame_equal(actual[others], expected[others], check_exact=True)
    if rtol:
        assert_frame_equal(actual[FLOATS], expected[FLOATS], check_exact=False, rtol=rtol, atol=0.0)
    else:
        assert_frame_equal(actual[FLOATS], expected[FLOATS], check_exact=True)


def streamed(
    ticks: pd.DataFrame, symbol: str, spec: str, extended_hours: bool, cuts: list[int]
) -> pd.DataFrame:
    """Bars of ``ticks`` fed to one builder in the batches ``cuts`` makes, the open bar last."""
    builder = BarBuilder(symbol, spec, extended_hours)
    edges = [0, *sorted(cuts), len(ticks)]
    frames = [builder.update(ticks.iloc[a:b]) for a, b in itertools.pairwise(edges)]
    frames = [f for f in [*frames, builder.partial()] if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else empty_frame(BAR_COLUMNS)


def synthetic(rows: list[tuple[str, float, int, str]], symbol: str = "TEST") -> pd.DataFrame:
    """Trades from (local time, price, size, basis) rows, with the tick schema."""
    n = len(rows)
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime([r[0] for r in rows], format="ISO8601").tz_localize(TZ).as_unit("ns"),
            "symbol": symbol,
            "tick_id": np.arange(1, n + 1),
            "market_center": 11,
            "price": [r[1] for r in rows],
            "size": [r[2] for r in rows],
            "total_volume": np.cumsum([r[2] for r in rows]),
            "bid": [r[1] - 0.01 for r in rows],
            "ask": [r[1] + 0.01 for r in rows],
            "basis": [r[3] for r in rows],
            "conditions": "",
            "aggressor": 0,
        }
    )
    return frame.astype(TICK_COLUMNS)


def in_session(ticks: pd.DataFrame, extended_hours: bool) -> pd.DataFrame:
    """The trades a day's bars are made of, straight from the calendar."""
    day = ticks["timestamp"].iloc[0].date()
    s = calendar.session(day)
    lo, hi = (s.pre_open, s.post_close) if extended_hours else (s.open, s.close + pd.Timedelta(1, "ns"))
    return ticks[(ticks["timestamp"] >= lo) & (ticks["timestamp"] < hi)]


@pytest.fixture(scope="module")
def days(market: Market) -> dict[tuple[str, dt.date], pd.DataFrame]:
    return {case: market.ticks(*case) for case in CASES}


@pytest.fixture(scope="module")
def two_days(market: Market) -> pd.DataFrame:
    """AAPL over New Year: 2024-12-31, then (the exchange closed on the 1st) 2025-01-02."""
    parts = [market.ticks("AAPL", d) for d in (dt.date(2024, 12, 31), dt.date(2025, 1, 2))]
    return pd.concat(parts, ignore_index=True)


# --- (a) the library equals the references ------------------------------------------------------------


@pytest.mark.parametrize("extended_hours", [False, True], ids=["regular", "extended"])
@pytest.mark.parametrize("spec", SPECS)
@pytest.mark.parametrize("case", CASES, ids=[f"{s}-{d}" for s, d in CASES])
def test_bars_equal_reference(
    days: dict[tuple[str, dt.date], pd.DataFrame], case: tuple[str, dt.date], spec: str, extended_hours: bool
) -> None:
    ticks = days[case]
    actual = build_bars(ticks, spec, extended_hours)
    expected = reference(ticks, spec, extended_hours)
    assert len(actual) > 0
    assert_bars_equal(actual, expected, rtol=tolerance(spec))


@pytest.mark.parametrize("extended_hours", [False, True], ids=["regular", "extended"])
@pytest.mark.parametrize("spec", ["1h", "1d", "dollar:1e7", *IMBALANCE_SPECS[1:], *RUN_SPECS[::2]])
def test_bars_over_several_days_equal_reference(
    two_days: pd.DataFrame, spec: str, extended_hours: bool
) -> None:
    """Information-driven state (previous price, EWMAs, E[T]) carries from one session to the next."""
    actual = build_bars(two_days, spec, extended_hours)
    assert actual["timestamp"].dt.date.nunique() == 2
    assert_bars_equal(actual, reference(two_days, spec, extended_hours), rtol=tolerance(spec))


def test_ohlc_come_from_prints_that_qualify_for_last() -> None:
    ticks = synthetic(
        [
            ("2025-01-02 10:00:01", 10.0, 100, "O"),  # bar 10:00: O prints around C prints
            ("2025-01-02 10:00:02", 10.5, 200, "C"),
            ("2025-01-02 10:00:03", 12.0, 300, "O"),
            ("2025-01-02 10:00:04", 10.2, 400, "C"),
            ("2025-01-02 10:00:05", 9.0, 500, "O"),
            ("2025-01-02 10:01:01", 11.0, 10, "O"),  # bar 10:01: only O prints
            ("2025-01-02 10:01:02", 13.0, 20, "O"),
            ("2025-01-02 10:01:03", 12.0, 30, "O"),
        ]
    )
    bars = build_bars(ticks, "1min")
    first, second = bars.iloc[0], bars.iloc[1]
    assert (first["open"], first["high"], first["low"], first["close"]) == (10.5, 10.5, 10.2, 10.2)
    assert (second["open"], second["high"], second["low"], second["close"]) == (11.0, 13.0, 11.0, 12.0)
    assert first["volume"] == 1500 and first["trades"] == 5
    dollars = 10.0 * 100 + 10.5 * 200 + 12.0 * 300 + 10.2 * 400 + 9.0 * 500
    assert first["dollar_volume"] == pytest.approx(dollars, rel=1e-15)
    assert first["vwap"] == pytest.approx(dollars / 1500, rel=1e-15)
    assert first["first_tick"] == pd.Timestamp("2025-01-02 10:00:01", tz=TZ)
    assert first["last_tick"] == pd.Timestamp("2025-01-02 10:00:05", tz=TZ)
    assert list(bars["timestamp"].dt.strftime("%H:%M")) == ["10:00", "10:01"]
    assert_bars_equal(bars, ref.time_bars(ticks, 60))


EDGE_TICKS = [
    ("2025-01-02 03:59:59.999999", 10.0, 1, "E"),  # closed
    ("2025-01-02 04:00:00", 10.1, 2, "E"),  # pre-market
    ("2025-01-02 09:29:59.999999", 10.2, 4, "E"),
    ("2025-01-02 09:30:00", 10.3, 8, "C"),  # regular
    ("2025-01-02 15:59:59.999999", 10.4, 16, "C"),
    ("2025-01-02 16:00:00", 10.5, 32, "C"),  # the closing cross: regular
    ("2025-01-02 16:00:00.000001", 10.55, 512, "E"),  # after hours
    ("2025-01-02 19:59:59.999999", 10.6, 64, "E"),
    ("2025-01-02 20:00:00", 10.7, 128, "E"),  # closed
    ("2025-01-03 01:00:00", 10.8, 256, "E"),  # closed, before the next pre-market
]


@pytest.mark.parametrize(
    ("spec", "extended_hours", "stamps", "volumes"),
    [
        ("1d", False, ["2025-01-02 09:30"], [56]),
        ("1d", True, ["2025-01-02 04:00"], [638]),
        ("1h", False, ["2025-01-02 09:30", "2025-01-02 15:30"], [8, 48]),
        (
            "1h",
            True,
            [f"2025-01-02 {h}" for h in ("04:00", "08:30", "09:30", "15:30", "16:00", "19:30")],
            [2, 4, 8, 48, 512, 64],
        ),
        (
            "tick:100",
            True,
            [f"2025-01-02 {h}" for h in ("09:29:59.999999", "16:00:00", "19:59:59.999999")],
            [6, 56, 576],
        ),
        ("tick:2", False, ["2025-01-02 15:59:59.999999", "2025-01-02 16:00:00"], [24, 32]),
    ],
)
def test_segment_edges(spec: str, extended_hours: bool, stamps: list[str], volumes: list[int]) -> None:
    ticks = synthetic(EDGE_TICKS)
    bars = build_bars(ticks, spec, extended_hours)
    assert list(bars["timestamp"]) == [pd.Timestamp(s, tz=TZ) for s in stamps]
    assert list(bars["volume"]) == volumes
    assert_bars_equal(bars, reference(ticks, spec, extended_hours), rtol=tolerance(spec))


# --- (b) streaming equals batch ---------------------------------------------------------------------

STREAMING = {
    "time": ["1s", "5min", "7min", "1d"],
    "threshold": THRESHOLD_SPECS,
    "imbalance": IMBALANCE_SPECS,
    "run": RUN_SPECS,
}


@pytest.mark.parametrize("family", list(STREAMING))
@settings(max_examples=50, deadline=None)
@given(data=st.data())
def test_any_batching_gives_the_bars_of_one_call(
    two_days: pd.DataFrame, family: str, data: st.DataObject
) -> None:
    spec = data.draw(st.sampled_from(STREAMING[family]), label="spec")
    extended_hours = data.draw(st.booleans(), label="extended_hours")
    cuts = data.draw(st.lists(st.integers(0, len(two_days)), max_size=10), label="cuts")
    batch = build_bars(two_days, spec, extended_hours)
    assert_frame_equal(streamed(two_days, "AAPL", spec, extended_hours, cuts), batch, check_exact=True)


@pytest.mark.parametrize("spec", ONE_PER_FAMILY)
def test_tick_by_tick_across_the_close(days: dict[tuple[str, dt.date], pd.DataFrame], spec: str) -> None:
    """One trade per update around 16:00, where the segment changes inside the stream."""
    ticks = days[CASES[0]]
    at = int(np.searchsorted(ticks["timestamp"], calendar.session(CASES[0][1]).close))
    part = ticks.iloc[at - 30 : at + 30]
    cuts = list(range(1, len(part)))
    assert_frame_equal(
        streamed(part, "AAPL", spec, True, cuts), build_bars(part, spec, True), check_exact=True
    )


# --- (c) sanity ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("extended_hours", [False, True], ids=["regular", "extended"])
@pytest.mark.parametrize("case", CASES, ids=[f"{s}-{d}" for s, d in CASES])
def test_bars_add_up_to_the_session(
    days: dict[tuple[str, dt.date], pd.DataFrame], case: tuple[str, dt.date], extended_hours: bool
) -> None:
    ticks = in_session(days[case], extended_hours)
    for spec in SPECS:
        bars = build_bars(days[case], spec, extended_hours)
        assert bars["trades"].sum() == len(ticks), spec
        assert bars["volume"].sum() == ticks["size"].sum(), spec
        assert bars["dollar_volume"].sum() == pytest.approx((ticks["price"] * ticks["size"]).sum(), rel=1e-12)
        assert (bars["first_tick"] <= bars["last_tick"]).all(), spec
        assert (bars["first_tick"].iloc[1:].to_numpy() >= bars["last_tick"].iloc[:-1].to_numpy()).all(), spec
        assert (bars["low"] <= bars[["open", "close"]].min(axis=1)).all()
        assert (bars["high"] >= bars[["open", "close"]].max(axis=1)).all()
        if BarSpec.parse(spec).family != "time":
            assert (bars["timestamp"] == bars["last_tick"]).all(), spec


def segment_of(stamp: pd.Timestamp, s: calendar.Session) -> int:
    """0 pre-market, 1 regular, 2 after hours of session ``s``."""
    part = bisect.bisect_right([s.pre_open, s.open, s.close + pd.Timedelta(1, "ns"), s.post_close], stamp) - 1
    assert 0 <= part <= 2, stamp
    return part


@pytest.mark.parametrize("spec", ["1s", "5min", "7min", "1h"])
@pytest.mark.parametrize("case", CASES[:3], ids=[f"{s}-{d}" for s, d in CASES[:3]])
def test_time_bars_never_span_a_segment_edge(
    days: dict[tuple[str, dt.date], pd.DataFrame], case: tuple[str, dt.date], spec: str
) -> None:
    seconds = pd.Timedelta(seconds=BarSpec.parse(spec).size)
    s = calendar.session(case[1])
    bars = build_bars(days[case], spec, extended_hours=True)
    for bar in bars.itertuples():
        part = segment_of(bar.first_tick, s)
        segment_end = [s.open, s.close, s.post_close][part]
        grid_end = s.open + ((bar.timestamp - s.open) // seconds + 1) * seconds
        assert segment_of(bar.first_tick, s) == segment_of(bar.last_tick, s) == part
        closing_cross = part == 1 and bar.last_tick == s.close
        assert bar.timestamp <= bar.first_tick <= bar.last_tick
        assert bar.last_tick < min(grid_end, segment_end) or closing_cross
        starts_segment = bar.timestamp == [s.pre_open, s.open, s.close][part]
        assert starts_segment or (bar.timestamp - s.open) % seconds == pd.Timedelta(0), bar.timestamp


@pytest.mark.parametrize("case", CASES[1:3], ids=[f"{s}-{d}" for s, d in CASES[1:3]])
def test_half_day_bars_end_at_13(
    days: dict[tuple[str, dt.date], pd.DataFrame], case: tuple[str, dt.date]
) -> None:
    s = calendar.session(case[1])
    assert s.is_half_day and s.close.time() == dt.time(13, 0)
    for spec in SPECS:
        regular = build_bars(days[case], spec)
        assert (regular["last_tick"] <= s.close).all() and (regular["timestamp"] <= s.close).all(), spec
        assert (regular["first_tick"] >= s.open).all(), spec
        extended = build_bars(days[case], spec, extended_hours=True)
        if spec != "1d":
            straddle = (extended["first_tick"] <= s.close) & (extended["last_tick"] > s.close)
            assert not straddle.any(), spec
    hourly = build_bars(days[case], "1h")
    assert hourly["timestamp"].iloc[-1] == s.close - pd.Timedelta(minutes=30)
    after = build_bars(days[case], "1h", extended_hours=True)
    assert s.close in set(after["timestamp"])


@pytest.mark.parametrize("case", CASES, ids=[f"{s}-{d}" for s, d in CASES])
def test_no_bar_starts_at_midnight(
    days: dict[tuple[str, dt.date], pd.DataFrame], case: tuple[str, dt.date]
) -> None:
    s = calendar.session(case[1])
    for extended_hours, start in ((False, s.open), (True, s.pre_open)):
        daily = build_bars(days[case], "1d", extended_hours)
        assert list(daily["timestamp"]) == [start]
        assert daily["timestamp"].dt.tz_convert("UTC").dt.time.iloc[0] != dt.time(0, 0)
    for spec in TIME_SPECS:
        stamps = build_bars(days[case], spec)["timestamp"]
        assert (stamps.dt.tz_convert("UTC").dt.time != dt.time(0, 0)).all(), spec
        assert (stamps.dt.time != dt.time(0, 0)).all(), spec
    hourly = build_bars(days[case], "1h")["timestamp"]
    assert (hourly.dt.minute == 30).all() and hourly.iloc[0] == s.open


# --- (d) edges of the input -------------------------------------------------------------------------


@pytest.mark.parametrize("extended_hours", [False, True])
@pytest.mark.parametrize("spec", [*ONE_PER_FAMILY, "1d", "tick_imbalance"])
def test_empty_input_gives_empty_bars(spec: str, extended_hours: bool) -> None:
    empty = empty_frame(TICK_COLUMNS)
    assert_frame_equal(build_bars(empty, spec, extended_hours), empty_frame(BAR_COLUMNS))
    builder = BarBuilder("AAPL", spec, extended_hours)
    assert_frame_equal(builder.update(empty), empty_frame(BAR_COLUMNS))
    assert_frame_equal(builder.partial(), empty_frame(BAR_COLUMNS))
    assert_frame_equal(reference(empty, spec, extended_hours), empty_frame(BAR_COLUMNS))


@pytest.mark.parametrize("spec", ONE_PER_FAMILY)
def test_ticks_outside_the_session_give_no_bars(spec: str) -> None:
    outside = synthetic([EDGE_TICKS[i] for i in (0, 1, 2, 7, 8)])
    assert_frame_equal(build_bars(outside, spec), empty_frame(BAR_COLUMNS))
    assert len(build_bars(outside, spec, extended_hours=True)) > 0
    saturday = synthetic([("2025-01-04 10:00:00", 10.0, 1, "C"), ("2025-01-04 11:00:00", 10.0, 1, "C")])
    assert_frame_equal(build_bars(saturday, spec, extended_hours=True), empty_frame(BAR_COLUMNS))


@pytest.mark.parametrize("extended_hours", [False, True], ids=["regular", "extended"])
@pytest.mark.parametrize("spec", [*ONE_PER_FAMILY, "1d"])
def test_symbols_are_built_separately(market: Market, spec: str, extended_hours: bool) -> None:
    aapl, msft = (market.ticks(symbol, dt.date(2025, 1, 2)) for symbol in ("AAPL", "MSFT"))
    mixed = pd.concat([msft, aapl], ignore_index=True).sort_values(
        "timestamp", kind="stable", ignore_index=True
    )
    assert mixed["symbol"].iloc[:200].nunique() == 2, "the two symbols interleave"
    bars = build_bars(mixed, spec, extended_hours)
    alone = [build_bars(aapl, spec, extended_hours), build_bars(msft, spec, extended_hours)]
    assert_frame_equal(bars, pd.concat(alone, ignore_index=True), check_exact=True)
    assert list(bars["symbol"].unique()) == ["AAPL", "MSFT"]
    assert_bars_equal(bars, reference(mixed, spec, extended_hours), rtol=tolerance(spec))


# --- edge cases -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES[:2], ids=[f"{s}-{d}" for s, d in CASES[:2]])
def test_regular_session_includes_the_closing_cross(
    market: Market, days: dict[tuple[str, dt.date], pd.DataFrame], case: tuple[str, dt.date]
) -> None:
    ticks = days[case]
    official = market.daily(case[0], case[1], case[1]).iloc[0]
    bar = build_bars(ticks, "1d").iloc[0]
    regular = ticks[ticks["basis"] != "E"]  # the market's regular hours are [open, close]
    assert (bar["open"], bar["high"], bar["low"], bar["close"]) == tuple(
        official[["open", "high", "low", "close"]]
    )
    assert (bar["volume"], bar["trades"]) == (regular["size"].sum(), len(regular))


@pytest.mark.parametrize("day", ["2025-01-05", "2025-01-20"])
def test_ticks_on_a_closed_day_give_no_bars(day: str) -> None:
    ticks = synthetic([(f"{day} 10:00:00", 10.0, 1, "C"), (f"{day} 10:00:01", 10.1, 1, "C")])
    assert_frame_equal(build_bars(ticks, "5min", extended_hours=True), empty_frame(BAR_COLUMNS))


def test_microsecond_timestamps_give_the_same_bars(days: dict[tuple[str, dt.date], pd.DataFrame]) -> None:
    ticks = days[CASES[0]]
    micro = ticks.assign(timestamp=ticks["timestamp"].dt.as_unit("us"))
    assert_frame_equal(build_bars(micro, "5min"), build_bars(ticks, "5min"))


def test_vwap_of_a_bar_without_volume_is_nan() -> None:
    ticks = synthetic([("2025-01-02 10:00:01", 10.0, 0, "O"), ("2025-01-02 10:00:02", 10.5, 0, "O")])
    bars = build_bars(ticks, "1min")
    assert bars["volume"].iloc[0] == 0
    assert np.isnan(bars["vwap"].iloc[0])


@pytest.mark.parametrize("spec", ["1min", "1h", "1d"])
@pytest.mark.parametrize("extended_hours", [False, True], ids=["regular", "extended"])
def test_ticks_out_of_time_order_take_the_two_step_path_to_the_same_bars(
    two_days: pd.DataFrame, spec: str, extended_hours: bool
) -> None:
    """Time bars use one fused pass over ticks in time order; a late tick sends a batch through
    locate + time_bars instead, which must cut the same bars (checked on two ordered halves)."""
    cut = len(two_days) // 2
    swapped = two_days.iloc[[*range(cut - 1), cut, cut - 1, *range(cut + 1, len(two_days))]]
    assert not swapped["timestamp"].is_monotonic_increasing
    in_one = BarBuilder("AAPL", spec, extended_hours)
    out_of_order = pd.concat([in_one.update(swapped), in_one.partial()], ignore_index=True)
    halves = BarBuilder("AAPL", spec, extended_hours)
    parts = [halves.update(swapped.iloc[:cut]), halves.update(swapped.iloc[cut:]), halves.partial()]
    assert_frame_equal(out_of_order, pd.concat(parts, ignore_index=True), check_exact=True)
