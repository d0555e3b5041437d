"""System health: the collector's state and counters, the live latency and rate, and the services
the platform stands on, as numbers and badges updated in place."""

from __future__ import annotations

import math

import panel as pn
import param

from app.runtime import Runtime

COUNTERS = ("received", "stored", "history", "quarantined", "malformed", "flushes")
SERVICES = ("redis", "catalog", "arcticdb")


def _number(name: str, fmt: str) -> pn.indicators.Number:
    return pn.indicators.Number(name=name, value=0, format=fmt, font_size="20pt", title_size="10pt")


class SystemHealth(pn.viewable.Viewer):
    """Collector state and counters (from its collection events on the bus, embedded or Redis), ticks/s
    over the watchlist, the latency from the collector reading a tick to this server holding it, and
    whether Redis, the catalog and ArcticDB answer."""

    period = param.Integer(default=500, bounds=(100, 10_000), doc="Milliseconds between refreshes.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._status = pn.pane.Markdown("collector: waiting for its first report", name="status")
        self._numbers = {name: _number(name, "{value:,}") for name in COUNTERS}
        self._live = {
            "ticks/s": _number("ticks/s", "{value:,.0f}"),
            "latency p50 ms": _number("latency p50 ms", "{value:.1f}"),
            "latency p99 ms": _number("latency p99 ms", "{value:.1f}"),
        }
        self._services = {
            name: pn.indicators.BooleanStatus(value=False, color="success", width=16, height=16, name=name)
            for name in SERVICES
        }
        self._details = {name: pn.pane.Str("probing...", name=f"{name} detail") for name in SERVICES}
        self._callback = pn.state.add_periodic_callback(self._refresh, period=self.period, start=True)

    def _refresh(self) -> None:
        runtime = self._runtime
        frame = runtime.frame()
        p50, p99 = runtime.board.latency_ms()
        for number, value in zip(
            self._live.values(), (float(frame["ticks_per_s"].sum()), p50, p99), strict=True
        ):
            if not math.isnan(value) and number.value != value:
                number.value = value
        for name, service in runtime.services.items():
            self._services[name].value = service.up
            self._services[name].color = "success" if service.up else "danger"
            self._details[name].object = f"{name}: {'up' if service.up else 'DOWN'} · {service.detail}"
        report = runtime.collection
        if report is None:
            return
        self._status.object = f"collector: **{report.status}** · task `{report.task_id[:8]}`"
        for name, number in self._numbers.items():
            value = int(report.counters.get(name, 0))
            if number.value != value:
                number.value = value

    def __panel__(self) -> pn.viewable.Viewable:
        services = pn.Column(
            *(pn.Row(self._services[name], self._details[name]) for name in SERVICES), name="services"
        )
        return pn.Column(
            self._status,
            pn.Row(*self._numbers.values()),
            pn.Row(*self._live.values()),
            services,
            name="health",
        )
