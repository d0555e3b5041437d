"""System health: what the collector reports at every flush, as numbers that update in place."""

from __future__ import annotations

import panel as pn
import param

from app.runtime import Runtime

COUNTERS = ("received", "stored", "history", "quarantined", "malformed", "flushes")


class SystemHealth(pn.viewable.Viewer):
    """The collector's state and counters (from its collection events on the bus, embedded or Redis)."""

    period = param.Integer(default=500, bounds=(100, 10_000), doc="Milliseconds between refreshes.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._status = pn.pane.Markdown("collector: waiting for its first report", name="status")
        self._numbers = {
            name: pn.indicators.Number(
                name=name, value=0, format="{value:,}", font_size="20pt", title_size="10pt"
            )
            for name in COUNTERS
        }
        self._callback = pn.state.add_periodic_callback(self._refresh, period=self.period, start=True)

    def _refresh(self) -> None:
        report = self._runtime.collection
        if report is None:
            return
        self._status.object = f"collector: **{report.status}** · task `{report.task_id[:8]}`"
        for name, number in self._numbers.items():
            value = int(report.counters.get(name, 0))
            if number.value != value:
                number.value = value

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._status, pn.Row(*self._numbers.values()), name="health")
