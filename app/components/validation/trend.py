"""Each symbol's quality score over the days, one line per symbol, fed through a Pipe so new
results redraw the lines of the existing plot."""

from __future__ import annotations

from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
import param

from app.components.validation.results import ValidationResults
from oss20.validation.overview import day_scores

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)
"""Category10: one colour per symbol."""


class ScoreTrend(pn.viewable.Viewer):
    """Score per symbol over days (lines with hoverable points)."""

    height = param.Integer(default=260, bounds=(120, 2000), doc="Plot height in pixels.")

    def __init__(self, results: ValidationResults, **params: Any) -> None:
        super().__init__(**params)
        self._pipe = hv.streams.Pipe(data=self._points(results.frame))
        self._plot = hv.DynamicMap(self._lines, streams=[self._pipe]) * hv.DynamicMap(
            self._markers, streams=[self._pipe]
        )
        results.param.watch(lambda event: self._pipe.send(self._points(event.new)), "frame")

    @staticmethod
    def _points(frame: pd.DataFrame) -> pd.DataFrame:
        """Scores with a datetime axis and a colour per symbol (stable: by the symbols' sorted order)."""
        scores = day_scores(frame)
        symbols = sorted(set(scores["symbol"]))
        colour = {s: PALETTE[i % len(PALETTE)] for i, s in enumerate(symbols)}
        return scores.assign(date=pd.to_datetime(scores["day"]), colour=scores["symbol"].map(colour))[
            ["symbol", "date", "day", "score", "status", "colour"]
        ]

    def _lines(self, data: pd.DataFrame) -> hv.Overlay:
        """Each symbol's consecutive days joined by segments (one glyph for any number of symbols)."""
        ordered = data.sort_values(["symbol", "date"], kind="stable")
        following = ordered.groupby("symbol")[["date", "score"]].shift(-1)
        joined = ordered.assign(date1=following["date"], score1=following["score"]).dropna(subset=["date1"])
        last = ordered.groupby("symbol").tail(1)
        segments = hv.Segments(joined, kdims=["date", "score", "date1", "score1"], vdims=["colour"])
        labels = hv.Labels(last, kdims=["date", "score"], vdims=["symbol"])
        return segments.opts(color="colour", line_width=2) * labels.opts(
            text_color="black", text_align="left", yoffset=3, text_font_size="9pt"
        )

    def _markers(self, data: pd.DataFrame) -> hv.Scatter:
        return hv.Scatter(data, kdims=["date"], vdims=["score", "symbol", "day", "status", "colour"]).opts(
            color="colour",
            size=8,
            tools=["hover"],
            responsive=True,
            height=self.height,
            ylim=(0, 105),
            framewise=True,
            title="quality score per symbol over days",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.pane.HoloViews(self._plot, sizing_mode="stretch_width", name="trend")
