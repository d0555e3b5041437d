"""The market page's live watchlist and intraday chart in a notebook (what ``oss20.live`` returns)."""

from __future__ import annotations

import panel as pn

from app.components.live_chart import LiveChart
from app.components.watchlist import Watchlist
from app.runtime import Runtime


class LiveView(pn.viewable.Viewer):
    """A watchlist patched about ten times a second above the chosen symbol's live candles, fed by a
    runtime of its own (the collector on the simulator, or a collector elsewhere through Redis)."""

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self.runtime = runtime
        self.watchlist = Watchlist(runtime)
        self.chart = LiveChart(runtime)

    def stop(self) -> None:
        """Stop the feeders, and the collector and simulator this view started."""
        self.runtime.close()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self.watchlist, pn.Row(self.chart.param.symbol), self.chart, sizing_mode="stretch_width"
        )
