"""A backfill from start to end: find the gaps, plan the chunks, record them, fill them, report.

Gaps tick history still reaches become tick chunks; sessions it no longer reaches become bar chunks
(``plan_fills``), filled with the feed's 1-minute and daily bars by ``oss20.backfill.bars.fill_bars``.

Chunks are filled by the local pool, or on the Dask cluster at ``settings.dask_scheduler`` when one
is configured (``OSS20_DASK_SCHEDULER``); both store the same ticks and give the same outcomes.

Progress goes to the caller (``on_done``, e.g. a progress bar), to the bus as collection events
(one per chunk, task id = the chunk's), so dashboards follow a backfill run from anywhere, and to the
Prometheus counters of ``oss20.metrics.BackfillMetrics``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from oss20.backfill.chunks import BarChunk, Chunk
from oss20.backfill.coverage import find
from oss20.backfill.dask_executor import run_on_dask
from oss20.backfill.executor import ChunkOutcome, record, run_chunks
from oss20.backfill.planner import in_flight, plan, plan_bars
from oss20.bus import CollectionEvent, open_bus
from oss20.config import Settings
from oss20.metrics import BackfillMetrics, backfill_metrics
from oss20.storage.catalog import open_catalog


@dataclass(frozen=True)
class Plan:
    """What a backfill would do: tick chunks within history's reach, bar chunks beyond it."""

    ticks: list[Chunk]
    bars: list[BarChunk]


def plan_fills(
    symbols: Sequence[str],
    first: dt.date,
    last: dt.date,
    settings: Settings,
    now: pd.Timestamp,
    *,
    feed: bool = True,
    extended_hours: bool = False,
) -> Plan:
    """The tick chunks of every reachable gap not already being filled, and one bar chunk per session
    out of tick history's reach whose feed bars are not stored yet."""
    gaps = find(symbols, first, last, settings, now, extended_hours, feed)
    with open_catalog(settings.resolved_catalog_url) as catalog:
        busy = in_flight(catalog)
    return Plan(plan(gaps, busy), plan_bars(gaps))


def plan_backfill(
    symbols: Sequence[str],
    first: dt.date,
    last: dt.date,
    settings: Settings,
    now: pd.Timestamp,
    *,
    feed: bool = True,
    extended_hours: bool = False,
) -> list[Chunk]:
    """The chunks that would fill every reachable gap of ``symbols`` not already being filled."""
    return plan_fills(symbols, first, last, settings, now, feed=feed, extended_hours=extended_hours).ticks


def run_backfill(
    chunks: Sequence[Chunk],
    settings: Settings,
    *,
    concurrency: int = 8,
    on_done: Callable[[ChunkOutcome], None] | None = None,
    metrics: BackfillMetrics | None = None,
) -> list[ChunkOutcome]:
    """Record ``chunks`` in collection_tasks and fill them (on the Dask cluster when
    ``settings.dask_scheduler`` is set, else in this process); every outcome also goes to the bus and
    to ``metrics`` (default: the process's ``backfill_metrics()``)."""
    with open_catalog(settings.resolved_catalog_url) as catalog:
        tasks = record(catalog, chunks)
    counts = backfill_metrics() if metrics is None else metrics
    counts.chunks_planned.inc(len(tasks))
    bus = open_bus(settings.redis_url)

    def report(outcome: ChunkOutcome) -> None:
        counters = {
            "received": outcome.received,
            "stored": outcome.stored,
            "quarantined": outcome.quarantined,
        }
        bus.publish(CollectionEvent(outcome.task_id, outcome.status, counters, message=outcome.error))
        (counts.chunks_done if outcome.status == "done" else counts.chunks_failed).inc()
        counts.ticks_stored.inc(outcome.stored)
        counts.requests_sent(outcome.requests, outcome.throttles, settings.history_rate)
        if on_done is not None:
            on_done(outcome)

    try:
        if settings.dask_scheduler:
            return run_on_dask(tasks, settings, concurrency=concurrency, on_done=report)
        return asyncio.run(run_chunks(tasks, settings, concurrency=concurrency, on_done=report))
    finally:
        counts.idle()
        bus.flush(2.0)
        bus.close()
