"""The coverage heatmap (symbol x session, one colour per state) and the range it covers: a click on
a cell selects that symbol-session's gaps; a new look redraws the existing plot through a Pipe."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
import param

from app.components.backfill.state import Coverage
from oss20.backfill.overview import STATE_COLOURS, STATES

LEGEND = " ".join(
    f'<span style="background:{colour};color:white;padding:1px 6px;border-radius:3px">{state}</span>'
    for state, colour in STATE_COLOURS.items()
)


class RangePicker(pn.viewable.Viewer):
    """Inputs for the symbols and sessions to look at, and the button that looks."""

    def __init__(self, coverage: Coverage, **params: Any) -> None:
        super().__init__(**params)
        find = pn.widgets.Button(name="Find gaps", button_type="primary", disabled=coverage.param.busy)
        find.on_click(coverage.refresh)
        self._inputs = pn.Column(
            pn.widgets.TextInput.from_param(coverage.param.symbols, name="Symbols", placeholder="AAPL,MSFT"),
            pn.widgets.TextInput.from_param(
                coverage.param.first, name="First session", placeholder="YYYY-MM-DD"
            ),
            pn.widgets.TextInput.from_param(
                coverage.param.last, name="Last session", placeholder="YYYY-MM-DD"
            ),
            pn.widgets.Checkbox.from_param(
                coverage.param.extended_hours, name="Extended hours (04:00-20:00)"
            ),
            find,
            name="range",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self._inputs


class CoverageHeatmap(pn.viewable.Viewer):
    """Each symbol-session's coverage (full, partial, bar-only, missing, unreachable) as a colour,
    with its gaps and missing trades on hover; the range is looked at when the page opens."""

    height = param.Integer(default=240, bounds=(120, 2000), doc="Plot height in pixels.")

    def __init__(self, coverage: Coverage, **params: Any) -> None:
        super().__init__(**params)
        self._coverage = coverage
        self._pipe = hv.streams.Pipe(data=coverage.grid)
        self._pane = pn.pane.HoloViews(None, sizing_mode="stretch_width", name="coverage")
        self._error = pn.pane.Alert("", alert_type="danger", visible=False, name="coverage error")
        self._status = pn.pane.Markdown("Looking for gaps...", name="coverage status")
        coverage.param.watch(self._update, ["grid", "error", "busy", "loaded"])
        pn.state.onload(coverage.refresh)

    def _heatmap(self, data: pd.DataFrame) -> hv.HeatMap:
        present = [s for s in STATES if s in set(data["state"])]
        return hv.HeatMap(data, kdims=["session", "symbol"], vdims=["state", "gaps", "expected_trades"]).opts(
            cmap={s: STATE_COLOURS[s] for s in present},
            color_levels=len(present) or 1,
            tools=["hover", "tap"],
            xrotation=45,
            responsive=True,
            height=self.height,
            framewise=True,
            title="coverage per symbol-session (click a cell to select its gaps)",
        )

    def _update(self, *_events: param.parameterized.Event) -> None:
        c = self._coverage
        self._error.param.update(object=c.error, visible=bool(c.error))
        if c.busy:
            self._status.object = "Looking for gaps..."
        elif c.loaded and not c.error:
            counts = c.grid["state"].value_counts()
            summary = ", ".join(f"{state} {counts[state]}" for state in STATES if state in counts)
            self._status.object = f"{len(c.gaps)} gaps as of {c.now} (the feed's clock): {summary}."
        if c.grid.empty:
            return
        self._pipe.send(c.grid)
        if self._pane.object is None:
            self._pane.object = self._plot()

    def _plot(self) -> hv.DynamicMap:
        """The heatmap, made once the first grid is in (its axes are categorical only then)."""
        plot = hv.DynamicMap(self._heatmap, streams=[self._pipe])
        hv.streams.Tap(source=plot, x=None, y=None).add_subscriber(self._tapped)
        return plot

    def _tapped(self, x: object, y: object) -> None:
        if isinstance(x, str) and isinstance(y, str):
            self._coverage.choose(y, x)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._error,
            self._status,
            pn.pane.HTML(LEGEND, name="legend"),
            self._pane,
            sizing_mode="stretch_width",
        )
