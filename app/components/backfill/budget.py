"""The history-request budget in use: backfill requests per second lately against the shared rate,
as a gauge, recomputed every second (the rate falls back as the window moves on)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn
import param

from app.components.backfill.tasks import BackfillTasks
from oss20.backfill.overview import BUDGET_WINDOW, budget_in_use


class BudgetGauge(pn.viewable.Viewer):
    """Requests per second of the last ``BUDGET_WINDOW`` over ``settings.history_rate``."""

    period = param.Integer(default=1000, bounds=(200, 60_000), doc="Milliseconds between two readings.")

    def __init__(self, tasks: BackfillTasks, **params: Any) -> None:
        super().__init__(**params)
        self._tasks = tasks
        self._limit = tasks.runtime.settings.history_rate
        self._gauge = pn.indicators.Gauge(
            name="history requests/s",
            value=0,
            bounds=(0, self._limit),
            format="{value} req/s",
            colors=[(0.8, "#2ca02c"), (0.95, "#ffbf00"), (1, "#d62728")],
            height=220,
            width=200,
            title_size=12,
            custom_opts={  # the title under the value, not over it, in a sidebar-wide gauge
                "title": {"offsetCenter": [0, "75%"]},
                "detail": {"offsetCenter": [0, "40%"], "fontSize": 18},
            },
        )
        self._text = pn.pane.Markdown("", name="budget")
        self._update()
        self._callback = pn.state.add_periodic_callback(self._update, period=self.period, start=True)
        pn.state.on_session_destroyed(lambda _context: self._callback.stop())

    def _update(self) -> None:
        use = budget_in_use(self._tasks.tasks, pd.Timestamp.now(tz="UTC"), self._limit)
        self._gauge.value = round(min(use.rate, self._limit), 1)
        self._text.object = (
            f"{use.requests} backfill requests in the last {BUDGET_WINDOW.total_seconds():g} s: "
            f"{use.rate:.1f} a second, {use.share:.0%} of the {self._limit:g}/s budget every worker shares."
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._gauge, self._text)
