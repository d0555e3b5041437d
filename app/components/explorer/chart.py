"""Candlesticks over the tick prints, and volume below, zooming together (one shared time axis).

Bars are built from the selection's stored ticks with the picked spec by one ``BarBuilder``, so
on the live day the same builder keeps going: completed bars are streamed into the plots'
sources (HoloViews ``Buffer``), the bar still open is replaced on its own (a one-row ``Pipe``),
and new prints are streamed too; nothing is redrawn from scratch. More than ``RASTERIZE_ABOVE``
prints are rasterized with datashader on the server (re-aggregated on every zoom) instead of
being sent to the browser one by one. The chart shows every stored print; the filters narrow the
grid and the export. Times are New York wall-clock.
"""

from __future__ import annotations

import asyncio
import functools
import operator

import holoviews as hv
import pandas as pd
import panel as pn
import param
from bokeh.models import NumeralTickFormatter
from holoviews.operation.datashader import rasterize

from app.components.explorer.state import ExplorerState
from oss20.bar_engine import BarBuilder, BarSpec
from oss20.charts import COLORS, SHAPES, points, shapes
from oss20.explore import CHART_COLUMNS, Selection
from oss20.storage.arctic import TickStore

RASTERIZE_ABOVE = 50_000
"""Prints beyond which the tick points are rasterized on the server rather than drawn one by one."""


def read_ticks(store: TickStore, selection: Selection, last_rows: int) -> pd.DataFrame:
    """The chart's columns of every stored tick of the selection, its last day up to ``last_rows``."""
    frames = [
        store.read_rows(selection.symbol, day, 0, last_rows, CHART_COLUMNS)
        if day == selection.last
        else store.read(selection.symbol, day, CHART_COLUMNS)
        for day in selection.days
    ]
    return pd.concat(frames, ignore_index=True)


class _Series:
    """One drawn part of the bars of one direction: completed bars in a Buffer (streamed into the
    plot's source), the open one in a Pipe (a one-row replacement)."""

    def __init__(self, key: tuple[str, str], done: pd.DataFrame, still_open: pd.DataFrame) -> None:
        element, dims = SHAPES[key[0]]
        color = COLORS[key[1]]
        self.done = hv.streams.Buffer(done, length=max(100_000, 2 * len(done)), index=False)
        self.open = hv.streams.Pipe(data=still_open)
        self.layers = [
            hv.DynamicMap(lambda data: element(data, kdims=dims), streams=[stream]).opts(
                color=color, line_color=color, alpha=1.0 if stream is self.done else 0.5
            )
            for stream in (self.done, self.open)
        ]


class PriceChart(pn.viewable.Viewer):
    """Candles, tick prints and volume of the selection, with linked zoom; follows the live day.

    Needs HoloViews' Bokeh backend selected (``hv.extension("bokeh")``, as the page does).
    """

    height = param.Integer(default=520, bounds=(200, 2000), doc="Pixels for price and volume together.")
    width = param.Integer(default=1050, bounds=(300, 4000), doc="Pixels across.")

    def __init__(self, state: ExplorerState, **params: object) -> None:
        super().__init__(**params)
        self._state = state
        self._pane = pn.pane.HoloViews(
            None, sizing_mode="stretch_width", min_height=self.height, name="chart"
        )
        self._note = pn.pane.Markdown("", name="chart-note")
        self._builder: BarBuilder | None = None
        self._series: dict[tuple[str, str], _Series] = {}
        self._prints: hv.streams.Buffer | hv.streams.Pipe | None = None
        self._held: pd.DataFrame | None = None  # every print, when rasterized (re-aggregated whole)
        self._rows = 0  # rows of the selection's last day drawn
        self._prints_drawn = 0
        self._busy = False
        state.param.watch(self._draw, ["pager", "spec"])
        state.param.watch(self._follow, ["stored"])

    async def _draw(self, *_: object) -> None:
        """Read the selection's ticks and build bars (in a thread), then draw them in a new plot."""
        pager, spec = self._state.pager, self._state.spec
        if pager is None:
            self._builder, self._series, self._prints = None, {}, None
            self._pane.object, self._note.object = None, ""
            return
        self._busy = True
        try:
            rows = pager.last_rows
            ticks = await asyncio.to_thread(read_ticks, pager.store, pager.selection, rows)
            builder = BarBuilder(pager.selection.symbol, spec)
            bars = await asyncio.to_thread(builder.update, ticks)
        finally:
            self._busy = False
        if pager is not self._state.pager or spec != self._state.spec:
            return
        self._builder, self._rows = builder, rows
        self._pane.object = self._plot(bars, builder.partial(), ticks, spec)
        self._prints_drawn = len(ticks)
        self._note.object = self._describe(spec)
        if self._state.stored > self._rows:
            await self._follow()

    def _plot(
        self, bars: pd.DataFrame, still_open: pd.DataFrame, ticks: pd.DataFrame, spec: BarSpec
    ) -> hv.Layout:
        done, open_ = shapes(bars, spec), shapes(still_open, spec)
        self._series = {key: _Series(key, done[key], open_[key]) for key in done}
        dots = points(ticks)
        if len(dots) > RASTERIZE_ABOVE:
            self._held = dots
            self._prints = hv.streams.Pipe(data=dots)
            prints = rasterize(hv.DynamicMap(hv.Points, streams=[self._prints])).opts(
                cmap="Blues", alpha=0.6, cnorm="eq_hist"
            )
        else:
            self._held = None
            self._prints = hv.streams.Buffer(dots, length=max(RASTERIZE_ABOVE * 2, len(dots)), index=False)
            prints = hv.DynamicMap(hv.Points, streams=[self._prints]).opts(color="#1f5f8b", size=2, alpha=0.4)
        parts = {
            name: [
                layer for (part, _), series in self._series.items() if part == name for layer in series.layers
            ]
            for name in SHAPES
        }
        price = functools.reduce(operator.mul, [prints, *parts["wicks"], *parts["bodies"]]).opts(
            hv.opts.Overlay(height=int(self.height * 0.7), width=self.width, ylabel="price", xlabel="")
        )
        bars_volume = functools.reduce(operator.mul, parts["volume"]).opts(
            hv.opts.Overlay(
                height=int(self.height * 0.3),
                width=self.width,
                ylabel="volume",
                xlabel="time (New York)",
                yformatter=NumeralTickFormatter(format="0.[0]a"),
            )
        )
        return (
            (price + bars_volume)
            .cols(1)
            .opts(
                *(
                    getattr(hv.opts, kind)(width=self.width)
                    for kind in ("Points", "Image", "Segments", "Rectangles")
                ),
                hv.opts.Layout(shared_axes=True, merge_tools=True),
            )
        )

    def _describe(self, spec: BarSpec) -> str:
        how = "drawn one by one" if self._held is None else "rasterized with datashader"
        return f"{spec.name} bars from {self._prints_drawn:,} prints ({how}); the last bar is still open"

    async def _follow(self, *_: object) -> None:
        """Stream the prints stored since the last draw into the plots (the live day)."""
        pager, builder = self._state.pager, self._builder
        if pager is None or builder is None or self._busy or self._state.stored <= self._rows:
            return
        selection, start, stop = pager.selection, self._rows, self._state.stored
        self._busy = True
        try:
            fresh = await asyncio.to_thread(
                pager.store.read_rows, selection.symbol, selection.last, start, stop, CHART_COLUMNS
            )
            completed = await asyncio.to_thread(builder.update, fresh)
        finally:
            self._busy = False
        if builder is not self._builder:
            return
        self._rows = stop
        spec = builder.spec
        done, open_ = shapes(completed, spec), shapes(builder.partial(), spec)
        for key, series in self._series.items():
            if len(done[key]):
                series.done.send(done[key])
            series.open.send(open_[key])
        self._stream_prints(points(fresh))
        self._prints_drawn += len(fresh)
        self._note.object = self._describe(spec)

    def _stream_prints(self, new: pd.DataFrame) -> None:
        if not len(new) or self._prints is None:
            return
        if isinstance(self._prints, hv.streams.Buffer):
            self._prints.send(new)
        else:
            self._held = pd.concat([self._held, new], ignore_index=True)
            self._prints.send(self._held)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._note, self._pane, name="price-chart")
