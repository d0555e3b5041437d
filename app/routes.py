"""Plain HTTP routes next to the dashboards: /health for probes and /metrics for Prometheus.

Neither needs a login (load balancers and scrapers do not log in) and neither shows a secret.
"""

from __future__ import annotations

import math

import panel as pn
import tornado.web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from app.runtime import Runtime

SERVER_METRICS = CollectorRegistry()
SESSIONS = Gauge("oss20_dashboard_sessions", "Browser sessions open on this server.", registry=SERVER_METRICS)
SESSIONS.set_function(lambda: pn.state.session_info.get("live", 0))
LATENCY = Gauge(
    "oss20_dashboard_tick_latency_ms",
    "From the collector reading a tick to this server holding it, by quantile (recent ticks).",
    ["quantile"],
    registry=SERVER_METRICS,
)


def health_report(runtime: Runtime) -> dict[str, object]:
    """The collector's state, each service's probe, and 'ok' only when every service answers."""
    services = {name: status.as_dict() for name, status in runtime.services.items()}
    report = runtime.collection
    up = bool(services) and all(status["up"] for status in services.values())
    p50, p99 = runtime.board.latency_ms()
    return {
        "status": "ok" if up else "degraded",
        "collector": report.status if report is not None else "unknown",
        "services": services,
        "latency_ms": {"p50": None if math.isnan(p50) else p50, "p99": None if math.isnan(p99) else p99},
        "symbols": runtime.symbols,
    }


class HealthHandler(tornado.web.RequestHandler):
    """GET /health: JSON, 200 when every service answers, else 503."""

    def initialize(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def get(self) -> None:
        report = health_report(self.runtime)
        self.set_status(200 if report["status"] == "ok" else 503)
        self.write(report)


class MetricsHandler(tornado.web.RequestHandler):
    """GET /metrics: this server's metrics and, when embedded, its collector's, in Prometheus' format."""

    def initialize(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def get(self) -> None:
        p50, p99 = self.runtime.board.latency_ms()
        LATENCY.labels("0.5").set(p50)
        LATENCY.labels("0.99").set(p99)
        registries = [SERVER_METRICS]
        if self.runtime.collector is not None:
            registries.append(self.runtime.collector.metrics.registry)
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.write(b"".join(generate_latest(registry) for registry in registries))
