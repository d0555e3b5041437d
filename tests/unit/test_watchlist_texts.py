"""The watchlist's texts: the board's rows formatted as the page shows them, missing values empty."""

from __future__ import annotations

import numpy as np
import pandas as pd

from app.components.watchlist import texts
from oss20.live_board import COLUMNS
from oss20.schema import TZINFO


def test_numbers_times_and_missing_values_are_formatted_per_column() -> None:
    frame = pd.DataFrame(
        [
            {
                "symbol": "AAPL",
                "last": 1228.5,
                "change": -1.234,
                "bid": 228.5201,
                "ask": 228.521,
                "spread": 0.0009,
                "volume": 12_345_678,
                "ticks_per_s": 1234.56,
                "time": pd.Timestamp("2025-01-16 09:31:05.25", tz=TZINFO),
                "quality": "pass",
            },
            {
                "symbol": "KO",
                "last": np.nan,
                "change": np.nan,
                "bid": np.nan,
                "ask": np.nan,
                "spread": np.nan,
                "volume": 0,
                "ticks_per_s": 0.0,
                "time": pd.NaT,
                "quality": "",
            },
        ],
        columns=COLUMNS,
    )
    assert texts(frame) == [
        [
            "AAPL",
            "1,228.50",
            "-1.23",
            "228.5201",
            "228.521",
            "0.0009",
            "12,345,678",
            "1,234.6",
            "09:31:05",
            "pass",
        ],
        ["KO", "", "", "", "", "", "0", "0.0", "", ""],
    ]


def test_a_positive_change_shows_its_sign() -> None:
    frame = pd.DataFrame(
        [{name: np.nan for name in COLUMNS} | {"symbol": "A", "change": 0.5, "time": pd.NaT}]
    )
    frame["quality"] = ""
    assert texts(frame)[0][COLUMNS.index("change")] == "+0.50"
