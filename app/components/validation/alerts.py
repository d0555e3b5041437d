"""Open alerts: the checks of recent days that failed or warned, and each symbol's live status from
the cache; patched in place as results come in (an alert that clears is marked resolved)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from app.components.validation.results import ValidationResults
from app.components.validation.selection import DaySelection
from app.components.validation.tables import sync
from oss20.validation.overview import open_alerts

STATUS_COLUMNS = ["symbol", "day", "score", "status", "failed", "warned"]


class OpenAlerts(pn.viewable.Viewer):
    """Failing and warning checks of the ``days`` most recent days (a click selects the symbol-day),
    and the live status each symbol's latest validation left in the cache."""

    days = param.Integer(default=5, bounds=(1, 366), doc="How many of the most recent days to list.")

    def __init__(self, results: ValidationResults, selection: DaySelection, **params: Any) -> None:
        super().__init__(**params)
        self._selection = selection
        self._alerts = pn.widgets.Tabulator(
            open_alerts(results.frame, self.days),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            height=260,
            sorters=[{"field": "status", "dir": "asc"}, {"field": "day", "dir": "desc"}],
            name="alerts",
            css_classes=["oss20-alerts"],
        )
        self._alerts.on_click(self._clicked)
        self._live = pn.widgets.Tabulator(
            self._live_frame(results.statuses),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            name="live status",
            css_classes=["oss20-live"],
        )
        results.param.watch(
            lambda event: sync(
                self._alerts,
                open_alerts(event.new, self.days),
                ["symbol", "day", "tier", "check"],
                {"status": "resolved"},
            ),
            "frame",
        )
        results.param.watch(
            lambda event: sync(self._live, self._live_frame(event.new), ["symbol"]), "statuses"
        )

    @staticmethod
    def _live_frame(statuses: dict[str, dict[str, Any]]) -> pd.DataFrame:
        rows = [
            {
                "symbol": symbol,
                "day": str(status.get("day", "")),
                "score": int(status.get("score", 0)),
                "status": str(status.get("status", "")),
                "failed": ", ".join(status.get("failed", [])),
                "warned": ", ".join(status.get("warned", [])),
            }
            for symbol, status in sorted(statuses.items())
        ]
        return pd.DataFrame(rows, columns=STATUS_COLUMNS)

    def _clicked(self, event: Any) -> None:
        row = self._alerts.value.iloc[event.row]
        self._selection.choose(str(row["symbol"]), str(row["day"]))

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._alerts,
            pn.pane.Markdown("**Live status** (each symbol's latest validated day, from the cache)"),
            self._live,
            sizing_mode="stretch_width",
        )
