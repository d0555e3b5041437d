"""BarSpec: what a quant writes parses into one value, prints back canonically and fails clearly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from oss20.bar_engine import BarSpec

DEFAULTS = {
    "expected_ticks": 1000.0,
    "bar_span": 20.0,
    "tick_span": 1000.0,
    "min_ticks": 100.0,
    "max_ticks": 10_000.0,
}


@pytest.mark.parametrize(
    ("text", "family", "measure", "size"),
    [
        ("1s", "time", "time", 1.0),
        ("30sec", "time", "time", 30.0),
        ("5min", "time", "time", 300.0),
        ("5m", "time", "time", 300.0),
        ("1h", "time", "time", 3600.0),
        ("1d", "time", "time", 86_400.0),
        (" 15MIN ", "time", "time", 900.0),
        ("tick:500", "threshold", "tick", 500.0),
        ("volume:10000", "threshold", "volume", 10_000.0),
        ("dollar:1e6", "threshold", "dollar", 1e6),
        ("dollar:2.5e6", "threshold", "dollar", 2.5e6),
        ("volume:0.5", "threshold", "volume", 0.5),
        ("Tick:1e3", "threshold", "tick", 1000.0),
    ],
)
def test_time_and_threshold_specs_parse(text: str, family: str, measure: str, size: float) -> None:
    spec = BarSpec.parse(text)
    assert (spec.family, spec.measure, spec.size) == (family, measure, size)
    assert spec.is_daily == (size == 86_400 and family == "time")


@pytest.mark.parametrize("measure", ["tick", "volume", "dollar"])
@pytest.mark.parametrize("family", ["imbalance", "run"])
def test_information_specs_parse_with_default_parameters(family: str, measure: str) -> None:
    spec = BarSpec.parse(f"{measure}_{family}")
    assert (spec.family, spec.measure) == (family, measure)
    assert {name: getattr(spec, name) for name in DEFAULTS} == DEFAULTS
    assert BarSpec.parse(f"{measure}_{family}()") == spec


@pytest.mark.parametrize(
    ("text", "changed"),
    [
        ("dollar_imbalance(expected_ticks=500, bar_span=10)", {"expected_ticks": 500.0, "bar_span": 10.0}),
        ("volume_run(expected_ticks=200)", {"expected_ticks": 200.0}),
        (
            "tick_imbalance( min_ticks = 5 ,max_ticks=1e5, tick_span=50, expected_ticks=40)",
            {"min_ticks": 5.0, "max_ticks": 1e5, "tick_span": 50.0, "expected_ticks": 40.0},
        ),
        ("TICK_RUN(bar_span=1,tick_span=1)", {"bar_span": 1.0, "tick_span": 1.0}),
    ],
)
def test_information_parameters(text: str, changed: dict[str, float]) -> None:
    spec = BarSpec.parse(text)
    assert {name: getattr(spec, name) for name in DEFAULTS} == DEFAULTS | changed


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("1s", "1s"),
        ("90s", "90s"),
        ("300s", "5min"),
        ("5m", "5min"),
        ("60min", "1h"),
        ("3600s", "1h"),
        ("1d", "1d"),
        ("86400s", "1d"),
        ("tick:500", "tick:500"),
        ("tick:1e3", "tick:1000"),
        ("volume:10000", "volume:10000"),
        ("volume:0.5", "volume:0.5"),
        ("tick_imbalance", "tick_imbalance"),
        ("volume_run(expected_ticks=1000)", "volume_run"),
        (
            "dollar_imbalance(expected_ticks=500, bar_span=10)",
            "dollar_imbalance(expected_ticks=500,bar_span=10)",
        ),
        ("dollar_run(bar_span=10, expected_ticks=500)", "dollar_run(expected_ticks=500,bar_span=10)"),
    ],
)
def test_canonical_names(text: str, name: str) -> None:
    spec = BarSpec.parse(text)
    assert spec.name == str(spec) == name
    assert BarSpec.parse(spec.name) == spec


DOCUMENTED = [
    "1s",
    "5min",
    "1h",
    "1d",
    "tick:500",
    "volume:10000",
    "dollar:1e6",
    "tick_imbalance",
    "volume_imbalance",
    "dollar_imbalance",
    "tick_run",
    "volume_run",
    "dollar_run",
    "dollar_imbalance(expected_ticks=500, bar_span=10)",
    "volume_run(expected_ticks=200, min_ticks=50, max_ticks=5000, tick_span=300)",
]


@pytest.mark.parametrize("text", DOCUMENTED)
def test_documented_specs_round_trip_through_their_name(text: str) -> None:
    spec = BarSpec.parse(text)
    again = BarSpec.parse(spec.name)
    assert again == spec and hash(again) == hash(spec) and again.name == spec.name
    assert BarSpec.parse(spec) is spec


@settings(max_examples=100, deadline=None)
@given(
    st.one_of(
        st.sampled_from([1, 2, 5, 10, 15, 30, 45, 60, 90, 120, 300, 420, 900, 1800, 3600, 86_400]).map(
            lambda s: f"{s}s"
        ),
        st.builds(
            lambda m, n: f"{m}:{n}", st.sampled_from(["tick", "volume", "dollar"]), st.integers(1, 999_999)
        ),
        st.builds(
            lambda m, f, lo, extra, top, spans: (
                f"{m}_{f}(min_ticks={lo},expected_ticks={lo + extra},max_ticks={lo + extra + top},"
                f"bar_span={spans[0]},tick_span={spans[1]})"
            ),
            st.sampled_from(["tick", "volume", "dollar"]),
            st.sampled_from(["imbalance", "run"]),
            st.integers(1, 5000),
            st.integers(0, 5000),
            st.integers(0, 50_000),
            st.tuples(st.integers(1, 10_000), st.integers(1, 10_000)),
        ),
    )
)
def test_generated_specs_round_trip(text: str) -> None:
    spec = BarSpec.parse(text)
    assert BarSpec.parse(spec.name) == spec


@pytest.mark.parametrize(
    "text", ["volume:1234567", "dollar:2500000.5", "tick_run(expected_ticks=1234567, max_ticks=2000000)"]
)
def test_name_keeps_every_digit(text: str) -> None:
    spec = BarSpec.parse(text)
    assert BarSpec.parse(spec.name) == spec


@pytest.mark.parametrize(
    ("text", "library"),
    [
        ("1s", "bars_time_bars"),
        ("5min", "bars_time_bars"),
        ("1d", "bars_time_bars"),
        ("tick:500", "bars_tick_bars"),
        ("volume:10000", "bars_volume_bars"),
        ("dollar:1e6", "bars_dollar_bars"),
        ("tick_imbalance", "bars_tick_imbalance_bars"),
        ("volume_imbalance", "bars_volume_imbalance_bars"),
        ("dollar_imbalance(expected_ticks=500, bar_span=10)", "bars_dollar_imbalance_bars"),
        ("tick_run", "bars_tick_run_bars"),
        ("volume_run", "bars_volume_run_bars"),
        ("dollar_run", "bars_dollar_run_bars"),
    ],
)
def test_library_names(text: str, library: str) -> None:
    assert BarSpec.parse(text).library == library


def test_specs_are_values() -> None:
    assert BarSpec.parse("60min") == BarSpec.parse("1h") == BarSpec("time", "time", 3600.0)
    assert len({BarSpec.parse(t) for t in ("5min", "300s", "5m", "tick:500", "tick:5e2")}) == 2
    with pytest.raises(AttributeError):
        BarSpec.parse("5min").size = 60.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0min", r"time bars run from 1s to 1h, or are 1d; got '0min'"),
        ("0s", r"got '0s'"),
        ("7h", r"time bars run from 1s to 1h, or are 1d; got '7h'"),
        ("90min", r"got '90min'"),
        ("2d", r"got '2d'"),
        ("tick:0", r"positive, finite whole size"),
        ("tick:1.5", r"positive, finite whole size"),
        ("volume:0", r"positive, finite size"),
        ("dollar:0.0", r"positive, finite size"),
        ("volume:-5", r"not a bar spec: 'volume:-5'"),
        ("dollar:1e-3", r"not a bar spec"),
        ("tick:", r"not a bar spec"),
        ("banana", r"not a bar spec: 'banana'; expected e.g. '1s'"),
        ("", r"not a bar spec"),
        ("5 min", r"not a bar spec"),
        ("time_imbalance", r"not a bar spec"),
        ("tick_imbalance(expected_ticks=500", r"not a bar spec"),
        (
            "tick_imbalance(foo=1)",
            r"bad parameter 'foo=1' in 'tick_imbalance\(foo=1\)'; known: expected_ticks",
        ),
        ("tick_imbalance(expected_ticks=-5)", r"bad parameter"),
        ("volume_run(expected_ticks)", r"bad parameter"),
        (
            "tick_run(min_ticks=5000, expected_ticks=100)",
            r"needs 0 < min_ticks <= expected_ticks <= max_ticks",
        ),
        ("tick_run(expected_ticks=5)", r"min_ticks <= expected_ticks"),
        ("tick_run(expected_ticks=20000)", r"expected_ticks <= max_ticks"),
        ("tick_run(min_ticks=0, expected_ticks=0)", r"0 < min_ticks"),
        ("volume_imbalance(bar_span=0.5)", r"EWMA spans of at least 1"),
        ("dollar_run(tick_span=0)", r"EWMA spans of at least 1"),
    ],
)
def test_absurd_specs_raise_clear_value_errors(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BarSpec.parse(text)


@pytest.mark.parametrize("text", ["tick:0", "tick:1.5", "volume:0"])
def test_threshold_errors_quote_the_spec(text: str) -> None:
    with pytest.raises(ValueError, match=text):
        BarSpec.parse(text)


def test_infinite_tick_threshold_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        BarSpec.parse("tick:1e400")


@pytest.mark.parametrize("text", ["dollar:1e400", "volume:1e999"])
def test_infinite_thresholds_are_rejected(text: str) -> None:
    with pytest.raises(ValueError):
        BarSpec.parse(text)


def test_malformed_parameter_number_names_the_parameter() -> None:
    with pytest.raises(ValueError, match="expected_ticks"):
        BarSpec.parse("tick_imbalance(expected_ticks=1.2.3)")
