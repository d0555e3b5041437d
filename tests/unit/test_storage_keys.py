"""Storage keys: the system design's layout, and nothing but valid parts gets in."""

from __future__ import annotations

import datetime as dt

import pytest

from oss20.storage import keys


def test_every_library_has_the_design_layout() -> None:
    day = dt.date(2025, 1, 2)
    assert keys.key(keys.TICKS, "AAPL", day) == "equity/AAPL/2025-01-02"
    assert keys.key(keys.TICKS, "spy", "20250102", asset_class="index") == "index/SPY/2025-01-02"
    assert keys.key(keys.TIME_BARS, "MSFT", day, interval="5min") == "MSFT/5min/2025-01-02"
    assert keys.key(keys.VOLUME_BARS, "MSFT", day, interval="volume:10000") == "MSFT/volume:10000/2025-01-02"
    assert keys.key("bars_dollar_bars", "BRK.B", day, interval="dollar:1e6") == "BRK.B/dollar:1e6/2025-01-02"
    assert keys.key("metadata_tier2", "KO", day, interval="1d", tier=2) == "KO/1d/2025-01-02/tier2"
    assert keys.malformed_key(day) == "malformed/2025-01-02"


@pytest.mark.parametrize(
    "symbol", ["", " ", "../etc", "AAPL/2025", "A*", "AAPL;DROP", "a b", "TOOLONGSYMBOL1"]
)
def test_bad_symbols_are_rejected_with_the_reason(symbol: str) -> None:
    with pytest.raises(ValueError, match="not a valid ticker"):
        keys.key(keys.TICKS, symbol, "2025-01-02")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"library": "tick_data", "day": "2025-13-01"}, "not a date"),
        ({"library": "tick_data", "asset_class": "crypto/../x"}, "unknown asset class"),
        ({"library": "bars_time_bars", "interval": ""}, "not a bar interval"),
        ({"library": "bars_time_bars", "interval": "5min/../x"}, "not a bar interval"),
        ({"library": "metadata_tier1", "interval": "1d", "tier": 3}, "holds tier 1"),
        ({"library": "users", "interval": "1d"}, "unknown library"),
    ],
)
def test_bad_parts_are_rejected(kwargs: dict[str, object], message: str) -> None:
    args = {"symbol": "AAPL", "day": "2025-01-02", **kwargs}
    with pytest.raises(ValueError, match=message):
        keys.key(**args)  # type: ignore[arg-type]


def test_tick_keys_parse_back_and_only_canonical_ones_do() -> None:
    parsed = keys.parse_tick_key("equity/AAPL/2025-01-02")
    assert (parsed.asset_class, parsed.symbol, parsed.day) == ("equity", "AAPL", dt.date(2025, 1, 2))
    for text in (
        "equity/aapl/2025-01-02",
        "equity/AAPL/20250102",
        "AAPL/2025-01-02",
        "equity/AAPL/x/2025-01-02",
    ):
        with pytest.raises(ValueError):
            keys.parse_tick_key(text)
