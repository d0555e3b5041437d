"""The live board folds tick events and cached quotes into one row per symbol, thread-safely."""

from __future__ import annotations

import numpy as np
import pandas as pd

from oss20.bus import TickEvent
from oss20.live_board import COLUMNS, RATE_WINDOW, LiveBoard
from oss20.market import Market
from tests.conftest import DAY


def events(market: Market, symbol: str, rows: slice) -> TickEvent:
    return TickEvent.from_frame(symbol, market.ticks(symbol, DAY).iloc[rows])


def test_the_latest_trade_sets_last_and_the_quote_sets_change(market: Market) -> None:
    board = LiveBoard(["AAPL", "KO"])
    ticks = market.ticks("AAPL", DAY)
    assert (
        board.add([events(market, "AAPL", slice(0, 50)), events(market, "MSFT", slice(0, 5))], now=100.0)
        == 50
    )
    board.quote({"AAPL": {"bid": 1.0, "ask": 1.5, "close": 200.0, "total_volume": 10}})
    frame = board.frame(now=100.0)
    assert list(frame.columns) == COLUMNS and list(frame["symbol"]) == ["AAPL", "KO"]
    aapl = frame.iloc[0]
    assert aapl["last"] == ticks["price"].iloc[49] and aapl["change"] == aapl["last"] - 200.0
    assert (aapl["bid"], aapl["ask"], aapl["spread"]) == (1.0, 1.5, 0.5)
    assert aapl["volume"] == ticks["total_volume"].iloc[49] and aapl["time"] == ticks["timestamp"].iloc[49]
    assert aapl["ticks_per_s"] == 50 / RATE_WINDOW
    assert board.frame(now=100.0 + RATE_WINDOW + 1).iloc[0]["ticks_per_s"] == 0
    assert np.isnan(frame.iloc[1]["last"]) and pd.isna(frame.iloc[1]["time"])


def test_an_older_batch_does_not_move_last_back(market: Market) -> None:
    board = LiveBoard(["AAPL"])
    board.add([events(market, "AAPL", slice(100, 120))])
    board.add([events(market, "AAPL", slice(0, 10))])
    assert board.frame().iloc[0]["last"] == market.ticks("AAPL", DAY)["price"].iloc[119]


def test_quality_flags_come_from_validation_statuses() -> None:
    board = LiveBoard(["AAPL", "KO"])
    board.grade({"KO": "fail", "ZZZ": "pass"})
    assert board.frame()["quality"].tolist() == ["", "fail"]
