"""Prometheus metrics of the collector, in a registry of its own so several can live in one process."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class CollectorMetrics:
    """Counters a job runner or Grafana watches: ticks in, stored, quarantined, and how long batches take."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.received = Counter("oss20_ticks_received", "Ticks received, by source.", ["source"], registry=r)
        self.stored = Counter("oss20_ticks_stored", "Ticks newly stored in ArcticDB.", registry=r)
        self.quarantined = Counter(
            "oss20_ticks_quarantined", "Ticks rejected by tier 1, by rule.", ["reason"], registry=r
        )
        self.warnings = Counter(
            "oss20_tier1_warnings", "Ticks stored with a tier-1 warning, by rule.", ["rule"], registry=r
        )
        self.malformed = Counter("oss20_malformed_lines", "Feed lines that could not be parsed.", registry=r)
        self.publish_failures = Counter(
            "oss20_publish_failures", "Bus events and cache writes that could not be delivered.", registry=r
        )
        self.reconnects = Counter(
            "oss20_feed_reconnects", "Level 1 reconnects after a drop or stall.", registry=r
        )
        self.history_fills = Counter("oss20_history_fills", "History requests for missed ticks.", registry=r)
        self.batch_latency = Histogram(
            "oss20_batch_latency_seconds",
            "From a feed batch read off the socket (parse included) to its ticks journaled and published.",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.flush_seconds = Histogram(
            "oss20_flush_seconds", "Time to write one flush to ArcticDB.", buckets=LATENCY_BUCKETS, registry=r
        )
        self.journal_pending = Gauge(
            "oss20_journal_pending_entries", "Journal entries not yet checkpointed.", registry=r
        )
        self.catalog_up = Gauge("oss20_catalog_up", "1 when the catalog answered last time.", registry=r)

    def count_reasons(self, reasons: Mapping[str, int]) -> None:
        for reason, n in reasons.items():
            self.quarantined.labels(reason=reason).inc(n)

    def count_warnings(self, warnings: Mapping[str, int]) -> None:
        for rule, n in warnings.items():
            self.warnings.labels(rule=rule).inc(n)

    def serve(self, port: int, host: str = "127.0.0.1") -> int:
        """Expose /metrics over HTTP on ``port`` (0 picks a free one); return the port."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        bound = int(server.server_address[1])
        log.info("metrics serving host=%s port=%d", host, bound)
        return bound

    def value(self, name: str, **labels: str) -> float:
        """The current value of one sample (tests and the terminal view read it)."""
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found
