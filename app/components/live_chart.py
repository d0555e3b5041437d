"""The live intraday chart of one symbol: candles from the live bars, volume below, trades as points.

Every refresh streams only the new bars and trades into the plots' existing sources and patches the
bar still forming; changing the symbol replaces the sources' data once. Times are drawn as New York
wall-clock time.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import panel as pn
import param
from bokeh.layouts import column
from bokeh.models import ColumnDataSource, HoverTool
from bokeh.plotting import figure

from app.runtime import Runtime
from oss20.live_series import Cursor, SeriesUpdate
from oss20.schema import TZINFO

UP, DOWN, TRADE = "#2e8b57", "#c0392b", "#1f5f8b"
KEEP_POINTS = 1500
"""Trades kept on the chart (older points roll off)."""


def wall_ms(epoch_ns: np.ndarray) -> np.ndarray:
    """Epoch ns (UTC) as New York wall-clock ms, what a Bokeh datetime axis shows unchanged."""
    if len(epoch_ns) == 0:
        return np.array([], dtype=np.float64)
    stamps = np.asarray(epoch_ns, dtype="datetime64[ns]")
    local = pd.DatetimeIndex(stamps, tz="UTC").tz_convert(TZINFO).tz_localize(None)
    return local.asi8 / 1e6


def _bars(update_bars: dict[str, np.ndarray], half_width_ms: float) -> dict[str, np.ndarray]:
    start = wall_ms(update_bars["timestamp"])
    opens, closes = update_bars["open"], update_bars["close"]
    return {
        "time": start + half_width_ms,
        "open": opens,
        "high": update_bars["high"],
        "low": update_bars["low"],
        "close": closes,
        "volume": update_bars["volume"],
        "color": np.where(closes >= opens, UP, DOWN),
    }


class LiveChart(pn.viewable.Viewer):
    """Candles, volume and trades of ``symbol`` today, streaming as the collector stores them."""

    symbol = param.Selector(objects=[], doc="The symbol shown.")
    period = param.Integer(default=500, bounds=(100, 5000), doc="Milliseconds between refreshes.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        self._runtime = runtime
        self.param.symbol.objects = runtime.symbols
        params.setdefault("symbol", runtime.symbols[0])
        super().__init__(**params)
        self._half_ms = runtime.series.interval_ms / 2
        empty_bars = {name: [] for name in ("time", "open", "high", "low", "close", "volume", "color")}
        self._bars = ColumnDataSource(dict(empty_bars), name="oss20-live-bars")
        self._forming = ColumnDataSource(dict(empty_bars), name="oss20-forming-bar")
        self._trades = ColumnDataSource({"time": [], "price": [], "size": []}, name="oss20-live-trades")
        self._cursor = Cursor()
        self._pane = pn.pane.Bokeh(self._figures(), sizing_mode="stretch_width", name="chart")
        self._callback = pn.state.add_periodic_callback(self._refresh, period=self.period, start=True)
        self._refresh()

    def _figures(self) -> object:
        width = self._half_ms * 1.6
        price = figure(
            x_axis_type="datetime", height=320, sizing_mode="stretch_width", tools="xpan,xwheel_zoom,reset"
        )
        for source in (self._bars, self._forming):
            price.segment("time", "high", "time", "low", color="color", source=source)
            price.vbar("time", width, "open", "close", fill_color="color", line_color="color", source=source)
        points = price.scatter("time", "price", source=self._trades, size=3, alpha=0.5, color=TRADE)
        price.add_tools(
            HoverTool(renderers=[points], tooltips=[("price", "@price{0,0.00}"), ("size", "@size{0,0}")])
        )
        price.yaxis.axis_label = "price"
        volume = figure(
            x_axis_type="datetime", height=140, sizing_mode="stretch_width", x_range=price.x_range, tools=""
        )
        for source in (self._bars, self._forming):
            volume.vbar("time", width, 0, "volume", fill_color="color", line_color="color", source=source)
        volume.yaxis.axis_label = "volume"
        return column(price, volume, sizing_mode="stretch_width")

    @param.depends("symbol", watch=True)
    def _switch(self) -> None:
        self._cursor = Cursor()
        update = self._runtime.series.since(self.symbol, self._cursor)
        self._cursor = update.cursor
        self._bars.data = _bars(update.bars, self._half_ms)
        self._trades.data = self._points(update)
        self._show_forming(update)

    def _refresh(self) -> None:
        update = self._runtime.series.since(self.symbol, self._cursor)
        self._cursor = update.cursor
        if len(update.bars["timestamp"]):
            self._bars.stream(_bars(update.bars, self._half_ms))
        if len(update.trades["timestamp"]):
            self._trades.stream(self._points(update), rollover=KEEP_POINTS)
        self._show_forming(update)

    def _points(self, update: SeriesUpdate) -> dict[str, np.ndarray]:
        trades = update.trades
        return {"time": wall_ms(trades["timestamp"]), "price": trades["price"], "size": trades["size"]}

    def _show_forming(self, update: SeriesUpdate) -> None:
        forming = update.forming
        if forming is None:
            if len(self._forming.data["time"]):
                self._forming.data = {name: [] for name in self._forming.data}
            return
        columns = {name: np.array([value]) for name, value in forming.items()}
        self._forming.data = _bars(columns, self._half_ms)

    def __panel__(self) -> pn.viewable.Viewable:
        picker = pn.widgets.Select.from_param(self.param.symbol, name="Symbol", width=160)
        return pn.Column(picker, self._pane, sizing_mode="stretch_width")
