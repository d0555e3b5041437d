"""Prometheus metrics of the collector and of backfill runs, each in a registry of its own so several can
live in one process."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


@dataclass
class Metrics:
    """A registry of its own, served over HTTP and read by name."""

    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

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


@dataclass
class CollectorMetrics(Metrics):
    """Counters a job runner or Grafana watches: ticks in, stored, quarantined, and how long batches take."""

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
        self.feed_sick = Counter(
            "oss20_feed_sick",
            "Spells of IQConnect's link to DTN lost (Not Connected, a reconnect).",
            registry=r,
        )
        self.feed_recovered = Counter(
            "oss20_feed_recovered",
            "Sick spells over: every symbol re-watched and its silence filled.",
            registry=r,
        )
        self.symbol_stalls = Counter(
            "oss20_symbol_stalls", "Symbols re-watched after a silence far past their usual gap.", registry=r
        )
        self.server_disconnects = Counter(
            "oss20_feed_server_disconnects", "S,SERVER DISCONNECTED lines seen on a live stream.", registry=r
        )
        self.rewatches = Counter("oss20_feed_rewatches", "Symbols watched again (r then w).", registry=r)
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


BUDGET_WINDOW = 10.0
"""Seconds of history requests the budget gauge averages over."""


@dataclass
class BackfillMetrics(Metrics):
    """Counters of backfill runs (chunks, ticks, history requests, throttles) and the budget in use.

    ``run_backfill`` feeds them from each chunk's outcome, on the caller's side for the local pool
    and the Dask cluster alike, so one process's registry shows the whole run. ``backfill_metrics()``
    is the process's own; tests pass a fresh one.
    """

    def __post_init__(self) -> None:
        r = self.registry
        self.chunks_planned = Counter(
            "oss20_backfill_chunks_planned", "Backfill chunks recorded to be filled.", registry=r
        )
        self.chunks_done = Counter("oss20_backfill_chunks_done", "Backfill chunks filled.", registry=r)
        self.chunks_failed = Counter(
            "oss20_backfill_chunks_failed",
            "Backfill chunks that failed (error kept in the catalog).",
            registry=r,
        )
        self.ticks_stored = Counter(
            "oss20_backfill_ticks_stored", "Ticks a backfill stored that the store lacked.", registry=r
        )
        self.bars_stored = Counter(
            "oss20_backfill_bars_stored", "1-minute and daily bars stored for bar-only sessions.", registry=r
        )
        self.history_requests = Counter(
            "oss20_backfill_history_requests",
            "History requests a backfill sent through the shared budget, retries included.",
            registry=r,
        )
        self.throttles = Counter(
            "oss20_backfill_throttles",
            "IQFeed throttle replies a backfill got (each retried after a backoff until retries ran out).",
            registry=r,
        )
        self.budget_in_use = Gauge(
            "oss20_backfill_budget_in_use",
            f"History requests per second of the last {BUDGET_WINDOW:g} s as a share of the budget's rate.",
            registry=r,
        )
        self._sent: deque[tuple[float, int]] = deque()

    def requests_sent(self, requests: int, throttles: int, rate: float, now: float | None = None) -> None:
        """Count ``requests`` sent (``throttles`` of them answered with a throttle) and set the gauge
        against the budget's ``rate`` (requests per second)."""
        self.history_requests.inc(requests)
        self.throttles.inc(throttles)
        now = time.monotonic() if now is None else now
        self._sent.append((now, requests))
        while self._sent and self._sent[0][0] < now - BUDGET_WINDOW:
            self._sent.popleft()
        self.budget_in_use.set(sum(n for _, n in self._sent) / BUDGET_WINDOW / rate)

    def idle(self) -> None:
        """A run ended: no request of it is in flight, so none of the budget is in use."""
        self._sent.clear()
        self.budget_in_use.set(0.0)


@cache
def backfill_metrics() -> BackfillMetrics:
    """This process's backfill metrics (one registry, so counters add up across runs)."""
    return BackfillMetrics()
