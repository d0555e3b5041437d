"""Bars of a live tick stream: one builder per (symbol, spec), fed only ticks newer than it has seen.

Ticks that arrive late (a history fill behind the live stream) are left to the builders that
rebuild a day from stored ticks; the live builders keep to time order so their bars stay right.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from oss20.bar_engine.builders import BarBuilder
from oss20.bar_engine.spec import BarSpec


class LiveBars:
    """Completed bars of every configured spec as tick batches stream in."""

    def __init__(self, specs: Sequence[str | BarSpec], extended_hours: bool = False) -> None:
        self.specs = [BarSpec.parse(s) for s in specs]
        self.extended_hours = extended_hours
        self._builders: dict[tuple[str, BarSpec], BarBuilder] = {}
        self._last_ns: dict[str, int] = {}

    def feed(
        self, symbol: str, times: np.ndarray, prices: np.ndarray, sizes: np.ndarray, qualified: np.ndarray
    ) -> Iterator[tuple[BarSpec, dict[str, np.ndarray]]]:
        """Feed one symbol's trades as columns (epoch ns, price, size, qualifies for last), in time order.

        Yields (spec, bars) for every spec whose bars these trades completed, the bars as
        ``builders.bar_frame`` columns (times as epoch ns).
        """
        if not self.specs or len(times) == 0:
            return
        newer = times >= self._last_ns.get(symbol, times.min())
        if not newer.all():
            times, prices, sizes, qualified = times[newer], prices[newer], sizes[newer], qualified[newer]
            if len(times) == 0:
                return
        self._last_ns[symbol] = int(times.max())
        for spec in self.specs:
            builder = self._builders.get((symbol, spec))
            if builder is None:
                builder = self._builders[(symbol, spec)] = BarBuilder(symbol, spec, self.extended_hours)
            bars = builder.completed(times, prices, sizes, qualified)
            if bars is not None:
                yield spec, bars
