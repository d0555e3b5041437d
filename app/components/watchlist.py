"""The live watchlist: one row per symbol, patched in place about ten times a second."""

from __future__ import annotations

import panel as pn
import param
from bokeh.models.widgets.tables import NumberFormatter

from app.runtime import Runtime

FORMATTERS = {
    name: NumberFormatter(format=pattern, nan_format="")
    for name, pattern in {
        "last": "0,0.00[00]",
        "change": "+0,0.00",
        "bid": "0,0.00[00]",
        "ask": "0,0.00[00]",
        "spread": "0.00[00]",
        "volume": "0,0",
        "ticks_per_s": "0,0.0",
    }.items()
}


class Watchlist(pn.viewable.Viewer):
    """Last, change, bid, ask, spread, volume, ticks/s and quality per symbol, from the live board.

    Each refresh patches the columns that changed into the table's existing source (never a new
    table), so a browser receives a small diff about ten times a second.
    """

    period = param.Integer(default=100, bounds=(50, 5000), doc="Milliseconds between refreshes.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._shown = runtime.board.frame()
        self._table = pn.widgets.Tabulator(
            self._shown.assign(time=self._shown["time"].dt.strftime("%H:%M:%S")),
            show_index=False,
            disabled=True,
            formatters=FORMATTERS,
            sizing_mode="stretch_width",
            name="watchlist",
        )
        self._callback = pn.state.add_periodic_callback(self._refresh, period=self.period, start=True)

    def _refresh(self) -> None:
        frame = self._runtime.board.frame()
        changed = ~((frame == self._shown) | (frame.isna() & self._shown.isna()))
        columns = [name for name in frame.columns if name != "symbol" and changed[name].any()]
        if not columns:
            return
        shown = frame.assign(time=frame["time"].dt.strftime("%H:%M:%S"))
        rows = slice(0, len(frame))  # whole columns: one pandas write per column, not one per cell
        self._table.patch({name: [(rows, shown[name].tolist())] for name in columns}, as_index=False)
        self._shown = frame

    def __panel__(self) -> pn.viewable.Viewable:
        return self._table
