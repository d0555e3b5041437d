"""Stored ticks against the ground truth: one order (symbol, time, identity) and the schema's columns."""

from __future__ import annotations

import pandas as pd

from oss20.schema import TICK_COLUMNS

ORDER = ["symbol", "timestamp", "market_center", "tick_id"]


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` in ``ORDER`` (stable: feed order kept within a tie) with the tick columns only."""
    return frame.sort_values(ORDER, kind="stable").reset_index(drop=True)[list(TICK_COLUMNS)]
