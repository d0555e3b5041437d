"""``oss20.live`` in a notebook: a runtime of its own (the simulator on free ports and a collector
into the given store) feeds the dashboards' watchlist and chart; the values it shows are the
simulated market's own, and stopping it stops the collector and the simulator."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pandas as pd
import pytest

import oss20
from oss20.config import Settings
from oss20.market import Market

pytestmark = pytest.mark.integration
DAY = dt.date(2025, 1, 3)
SYMBOLS = ["AAPL", "KO"]


def test_the_live_view_shows_the_simulated_market_and_stops(tmp_path: Path) -> None:
    view = oss20.live(SYMBOLS, speed=120, day=DAY, settings=Settings(data_dir=str(tmp_path)))
    try:
        board = view.runtime.board
        deadline = time.monotonic() + 60
        while board.frame()["volume"].fillna(0).eq(0).any():
            assert time.monotonic() < deadline, "no trade reached the live view within 60 s"
            time.sleep(0.2)
        shown = board.frame().set_index("symbol")
        simulator = view.runtime.simulator
        assert simulator is not None and simulator.ports["level1"] != 5009, "free ports, not IQConnect's"
        market = Market(seed=simulator.config.seed, activity=simulator.config.activity)
        for symbol in SYMBOLS:
            trades = market.ticks(symbol, DAY)
            at_volume = trades[trades["total_volume"] == shown.loc[symbol, "volume"]]
            assert len(at_volume) >= 1, f"{symbol}'s shown volume is one the market reached"
            assert shown.loc[symbol, "last"] in set(trades["price"]), f"{symbol}'s last is a traded price"
    finally:
        view.stop()
    assert not view.runtime._collecting.is_alive(), "the collector thread ended"
    assert pd.Timestamp(view.runtime.live_day()).date() == DAY
