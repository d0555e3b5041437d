"""The tier view of one symbol-day: every check of tiers 1-4 with its status and figures, and a
drill-down that marks the chosen check's offending ticks on the day's price chart and lists them.

The day is read in a thread (never on the server's event loop); its chart is fed through Pipes,
so choosing another check or day redraws the existing plot.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import holoviews as hv
import pandas as pd
import panel as pn
import param
from holoviews.operation.downsample import downsample1d

from app.components.validation.results import ValidationResults
from app.components.validation.selection import DaySelection
from oss20 import validate
from oss20.storage.catalog import CatalogUnavailable
from oss20.validation.offenders import empty_offenders, offending_ranges, truncation_note
from oss20.validation.overview import SEVERITY, day_scores

CHECK_COLUMNS = ["tier", "check", "status", "message", "metrics"]
CHOOSE = "Choose a symbol-day: click a heatmap cell, an alert or a score row, or type one in the sidebar."
MARK_COLOURS = {"fail": "#d62728", "warn": "#ff7f0e", "pass": "#2ca02c"}


class TierView(pn.viewable.Viewer):
    """Checks of the selected symbol-day by tier; the chosen check's offending ticks on the chart."""

    height = param.Integer(default=320, bounds=(150, 2000), doc="Price chart height in pixels.")

    def __init__(self, results: ValidationResults, selection: DaySelection, **params: Any) -> None:
        super().__init__(**params)
        self._results = results
        self._selection = selection
        self._inspection: validate.DayInspection | None = None
        self._generation = 0
        self._message = pn.pane.Alert(CHOOSE, alert_type="info", name="tier message")
        self._summary = pn.pane.Markdown("", name="day summary")
        self._checks = pn.widgets.Tabulator(
            pd.DataFrame(columns=CHECK_COLUMNS),
            show_index=False,
            disabled=True,
            groupby=["tier"],
            sizing_mode="stretch_width",
            name="checks",
            css_classes=["oss20-checks"],
        )
        self._checks.on_click(self._clicked)
        self._check = pn.widgets.Select(name="Offending ticks of", options={}, width=320)
        self._check.param.watch(lambda _event: self._show_check(), "value")
        self._prices = hv.streams.Pipe(data=pd.DataFrame({"time": pd.to_datetime([]), "price": []}))
        self._marks = hv.streams.Pipe(data=self._mark_frame(empty_offenders(), "fail"))
        self._spans = hv.streams.Pipe(data=pd.DataFrame({"x0": pd.to_datetime([]), "x1": pd.to_datetime([])}))
        self._chart = (
            downsample1d(hv.DynamicMap(self._curve, streams=[self._prices]), width=1200)
            * hv.DynamicMap(self._vspans, streams=[self._spans])
            * hv.DynamicMap(self._scatter, streams=[self._marks])
        )
        self._note = pn.pane.Markdown("", name="offender note")
        self._offenders = pn.widgets.Tabulator(
            self._table_frame(empty_offenders()),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            height=240,
            name="offending ticks",
            css_classes=["oss20-offenders"],
        )
        self._body = pn.Column(
            self._summary,
            self._checks,
            self._check,
            pn.pane.HoloViews(self._chart, sizing_mode="stretch_width", name="price chart"),
            self._note,
            self._offenders,
            visible=False,
            sizing_mode="stretch_width",
        )
        selection.param.watch(self._select, ["symbol", "day"])
        results.param.watch(self._touched, "touched")

    async def _select(self, *_events: param.parameterized.Event) -> None:
        await self._load(self._selection.symbol, self._selection.day)

    async def _touched(self, event: param.parameterized.Event) -> None:
        inspection = self._inspection
        if inspection is not None and (inspection.symbol, inspection.day.isoformat()) in set(event.new):
            await self._load(inspection.symbol, inspection.day.isoformat())

    async def _load(self, symbol: str, day: str) -> None:
        """Read the symbol-day in a thread; the latest request wins when several overlap."""
        self._generation += 1
        generation = self._generation
        if not symbol.strip() or not day.strip():
            self._say(CHOOSE, "info")
            return
        self._say(f"reading {symbol.strip().upper()} {day.strip()} ...", "info")
        try:
            inspection = await asyncio.to_thread(
                validate.inspect_day, symbol, day.strip(), self._results.settings
            )
        except (ValueError, CatalogUnavailable, OSError) as err:
            if generation == self._generation:
                self._say(str(err), "warning")
            return
        if generation == self._generation:
            self._show(inspection)

    def _say(self, text: str, kind: str) -> None:
        self._inspection = None
        self._message.param.update(object=text, alert_type=kind, visible=True)
        self._body.visible = False

    def _show(self, inspection: validate.DayInspection) -> None:
        self._inspection = inspection
        results = inspection.results
        scores = day_scores(results).iloc[0]
        self._summary.object = (
            f"### {inspection.symbol} {inspection.day}: score {scores['score']} ({scores['status']})\n"
            f"{len(inspection.ticks):,} stored ticks, {len(inspection.quarantined):,} quarantined"
        )
        self._checks.value = pd.DataFrame(
            {
                "tier": results["tier"],
                "check": results["check"],
                "status": results["status"],
                "message": [str(d.get("message", "")) for d in results["details"]],
                "metrics": [json.dumps(m, default=str) for m in results["metrics"]],
            }
        ).reset_index(drop=True)
        worst = results.assign(severity=results["status"].map(SEVERITY)).sort_values(
            ["severity", "tier"], ascending=[False, True], kind="stable"
        )
        options = {
            f"tier {t} {c} ({s})": f"{t}:{c}"
            for t, c, s in zip(worst["tier"], worst["check"], worst["status"], strict=True)
        }
        self._prices.send(
            pd.DataFrame(
                {
                    "time": inspection.ticks["timestamp"].dt.tz_localize(None),
                    "price": inspection.ticks["price"],
                }
            )
        )
        self._message.visible = False
        self._body.visible = True
        self._check.options = options
        if self._check.value == next(iter(options.values()), None):
            self._show_check()
        else:
            self._check.value = next(iter(options.values()), None)

    def _show_check(self) -> None:
        inspection, chosen = self._inspection, self._check.value
        if inspection is None or not chosen:
            return
        tier_text, check = str(chosen).split(":", 1)
        tier = int(tier_text)
        row = inspection.results[
            (inspection.results["tier"] == tier) & (inspection.results["check"] == check)
        ]
        details, status = row["details"].iloc[0], str(row["status"].iloc[0])
        offenders = inspection.offenders(tier, check)
        ranges = offending_ranges(details)
        self._marks.send(self._mark_frame(offenders, status))
        self._spans.send(
            pd.DataFrame(
                {
                    "x0": pd.to_datetime([s.tz_localize(None) for s, _ in ranges]),
                    "x1": pd.to_datetime([e.tz_localize(None) for _, e in ranges]),
                }
            )
        )
        self._offenders.value = self._table_frame(offenders)
        notes = [f"**{len(offenders)} offending ticks** of tier {tier} {check} ({status})"]
        if ranges:
            notes.append(f"{len(ranges)} time ranges shaded on the chart")
        if truncation := truncation_note(details):
            notes.append(f"the catalog keeps the {truncation}")
        self._note.object = "; ".join(notes)

    def _clicked(self, event: Any) -> None:
        row = self._checks.value.iloc[event.row]
        self._check.value = f"{row['tier']}:{row['check']}"

    @staticmethod
    def _mark_frame(offenders: pd.DataFrame, status: str) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "time": offenders["timestamp"].dt.tz_localize(None),
                "price": offenders["price"],
                "tick_id": offenders["tick_id"],
                "market_center": offenders["market_center"],
                "reason": offenders["reason"],
                "colour": MARK_COLOURS.get(status, MARK_COLOURS["fail"]),
            }
        )

    @staticmethod
    def _table_frame(offenders: pd.DataFrame) -> pd.DataFrame:
        return offenders.assign(
            row=offenders["row"].astype("Float64").fillna(-1).astype("int64"),
            timestamp=offenders["timestamp"].dt.strftime("%H:%M:%S.%f"),
        ).rename(columns={"timestamp": "time"})

    def _curve(self, data: pd.DataFrame) -> hv.Curve:
        return hv.Curve(data, kdims=["time"], vdims=["price"]).opts(
            responsive=True, height=self.height, color="#1f5f8b", framewise=True, tools=["xwheel_zoom"]
        )

    @staticmethod
    def _vspans(data: pd.DataFrame) -> hv.VSpans:
        return hv.VSpans(data, kdims=["x0", "x1"]).opts(color="#ff7f0e", alpha=0.2)

    @staticmethod
    def _scatter(data: pd.DataFrame) -> hv.Scatter:
        return hv.Scatter(
            data, kdims=["time"], vdims=["price", "tick_id", "market_center", "reason", "colour"]
        ).opts(color="colour", size=10, marker="x", line_width=3, tools=["hover"])

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._message, self._body, sizing_mode="stretch_width")
