"""Bars of a live tick stream: one builder per (symbol, spec), fed only ticks newer than it has seen.

Ticks that arrive late (a history fill behind the live stream) are left to the builders that
rebuild a day from stored ticks; the live builders keep to time order so their bars stay right.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pandas as pd

from oss20.bar_engine.builders import BarBuilder
from oss20.bar_engine.spec import BarSpec


class LiveBars:
    """Completed bars of every configured spec as tick batches stream in."""

    def __init__(self, specs: Sequence[str | BarSpec], extended_hours: bool = False) -> None:
        self.specs = [BarSpec.parse(s) for s in specs]
        self.extended_hours = extended_hours
        self._builders: dict[tuple[str, BarSpec], BarBuilder] = {}
        self._last_ns: dict[str, int] = {}

    def feed(self, symbol: str, ticks: pd.DataFrame) -> Iterator[tuple[BarSpec, pd.DataFrame]]:
        """Feed one symbol's ticks (time order); yield (spec, bars) for every spec that completed bars."""
        if not self.specs or ticks.empty:
            return
        stamps = ticks["timestamp"].to_numpy("int64")
        newer = stamps >= self._last_ns.get(symbol, stamps.min())
        if not newer.all():
            ticks = ticks.loc[newer]
            if ticks.empty:
                return
        self._last_ns[symbol] = int(stamps[newer].max())
        for spec in self.specs:
            builder = self._builders.get((symbol, spec))
            if builder is None:
                builder = self._builders[(symbol, spec)] = BarBuilder(symbol, spec, self.extended_hours)
            bars = builder.update(ticks)
            if len(bars):
                yield spec, bars
