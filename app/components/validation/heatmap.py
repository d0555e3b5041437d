"""The quality-score heatmap (symbol x day) and its table: a click on a cell or a row selects that
symbol-day; new results reach both in place (a Pipe for the plot, patches for the table)."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
import param

from app.components.validation.results import ValidationResults
from app.components.validation.selection import DaySelection
from app.components.validation.tables import sync
from oss20.validation.overview import day_scores

EMPTY = (
    "**No validation results yet.** Store some days, then run "
    "`oss20 validate AAPL MSFT --start 2025-01-02 --end 2025-01-10` (or `oss20.quality(...)` in a "
    "notebook); results appear here as they are recorded."
)
CLIM_LOW = 50
"""Scores at or below this are full red: one failed check already costs 15-40 points, so the colours
spend their range where days differ."""
VDIMS = ["score", "status", "failed", "warned", "checks"]


class ScoreHeatmap(pn.viewable.Viewer):
    """Each symbol-day's 0-100 quality score as a colour (hover for its status and the checks that did
    not pass), and the same figures as a table."""

    height = param.Integer(default=260, bounds=(120, 2000), doc="Plot height in pixels.")

    def __init__(self, results: ValidationResults, selection: DaySelection, **params: Any) -> None:
        super().__init__(**params)
        self._selection = selection
        self._pipe = hv.streams.Pipe(data=day_scores(results.frame))
        self._pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="heatmap")
        self._table = pn.widgets.Tabulator(
            day_scores(results.frame),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            height=200,
            name="scores",
            css_classes=["oss20-scores"],
        )
        self._table.on_click(self._clicked)
        self._empty = pn.pane.Alert(EMPTY, alert_type="info", visible=False, name="empty")
        self._error = pn.pane.Alert("", alert_type="danger", visible=False, name="catalog error")
        results.param.watch(self._update, ["frame", "loaded", "error"])

    def _heatmap(self, data: pd.DataFrame) -> hv.HeatMap:
        return hv.HeatMap(data, kdims=["day", "symbol"], vdims=VDIMS).opts(
            cmap="RdYlGn",
            clim=(CLIM_LOW, 100),
            colorbar=True,
            tools=["hover", "tap"],
            xrotation=45,
            responsive=True,
            height=self.height,
            framewise=True,
            title="quality score per symbol-day (click a cell)",
        )

    def _update(self, *_events: param.parameterized.Event) -> None:
        results = self._results_of(_events)
        scores = day_scores(results.frame)
        self._error.param.update(object=results.error, visible=bool(results.error))
        self._empty.visible = results.loaded and not results.error and scores.empty
        self._pipe.send(scores)
        if self._pane.object is None and not scores.empty:
            self._pane.object = self._plot()
        sync(self._table, scores, ["symbol", "day"])

    def _plot(self) -> hv.DynamicMap:
        """The heatmap, made once the first scores are in (its axes are categorical only then)."""
        plot = hv.DynamicMap(self._heatmap, streams=[self._pipe])
        hv.streams.Tap(source=plot, x=None, y=None).add_subscriber(self._tapped)
        return plot

    @staticmethod
    def _results_of(events: tuple[param.parameterized.Event, ...]) -> ValidationResults:
        owner = events[0].obj
        assert isinstance(owner, ValidationResults)
        return owner

    def _tapped(self, x: object, y: object) -> None:
        if isinstance(x, str) and isinstance(y, str):
            self._selection.choose(y, x)

    def _clicked(self, event: Any) -> None:
        row = self._table.value.iloc[event.row]
        self._selection.choose(str(row["symbol"]), str(row["day"]))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._error,
            self._empty,
            self._pane,
            self._table,
            sizing_mode="stretch_width",
        )
