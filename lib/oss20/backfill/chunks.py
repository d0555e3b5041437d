"""Backfill chunks: one symbol's window of tick history sized for one IQFeed reply, or one session's
1-minute and daily bars where tick history no longer reaches."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Chunk:
    """Ticks of ``symbol`` from ``start`` to ``end`` (tz-aware, inclusive) of one ``session``.

    ``deadline`` is the last day its ticks are still in IQFeed's tick history; ``expected_trades``
    comes from the feed's 1-minute bars (None when the feed was not asked).
    """

    symbol: str
    session: dt.date
    start: pd.Timestamp
    end: pd.Timestamp
    deadline: dt.date
    expected_trades: int | None = None
    reason: str = ""

    @property
    def key(self) -> tuple[str, dt.date]:
        """The symbol-day it writes: chunks of one key are merged one after another."""
        return self.symbol, self.session


@dataclass(frozen=True)
class BarChunk:
    """The feed's 1-minute and daily bars of ``symbol``'s ``session``, for a session tick history no
    longer reaches (its gaps' ``reason`` and the trades they miss come along for the plan's table)."""

    symbol: str
    session: dt.date
    expected_trades: int | None = None
    reason: str = ""
