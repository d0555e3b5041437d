"""Bar-only fills: where tick history no longer reaches (~180 days), the feed's own 1-minute (HIT) and
daily (HDT) bars of a session go into the bar store instead, marked ``source=feed``, so coverage reads
the session as bar-only and ``oss20.bars`` serves them.

Each bar chunk is one symbol-session and costs two history requests (HIT 60 s from pre-market to after
hours, HDT of the day), both through the shared request budget; it is recorded in collection_tasks
(kind ``bars``) like a tick chunk, and its outcome feeds the backfill metrics. Writes replace the
symbol-day's bars, so running a chunk twice stores the same bars once.

Stored per session: ``1min`` (regular hours) and ``eth_1min`` (04:00-20:00) time bars, and one ``1d``
bar labelled at the regular open. IQFeed's bars carry no dollar volume, VWAP or first and last tick
times: those are NaN and NaT. The daily bar's ``trades`` is the sum of the day's 1-minute bars'.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.backfill.budget import CountedBudget, open_budget
from oss20.backfill.chunks import BarChunk
from oss20.backfill.executor import owner
from oss20.bar_engine.spec import BarSpec
from oss20.config import Settings
from oss20.iqfeed.client import Endpoint, HistoryClient, IQFeedError, Throttled
from oss20.metrics import BackfillMetrics, backfill_metrics
from oss20.schema import BAR_COLUMNS, TIMESTAMP, conform
from oss20.storage.bar_store import FEED, BarStore
from oss20.storage.catalog import Catalog, open_catalog

log = logging.getLogger(__name__)

KIND = "bars"
"""The collection_tasks kind of a bar chunk."""
MINUTE = BarSpec.parse("1min")
DAILY = BarSpec.parse("1d")
REQUESTS = 2
"""History requests a bar chunk asks (HIT and HDT), retries aside."""


@dataclass(frozen=True)
class BarOutcome:
    """What one bar chunk did: done with the bars stored, or failed with the error."""

    task_id: str
    chunk: BarChunk
    status: str
    minute_bars: int = 0
    daily_bars: int = 0
    error: str = ""
    requests: int = 0
    throttles: int = 0


def minute_bars(feed: pd.DataFrame, symbol: str) -> pd.DataFrame:
    """HIT 60 s bars (labelled by their end) as ``BAR_COLUMNS`` bars labelled by their start."""
    return _bars(
        symbol,
        feed["timestamp"] - pd.Timedelta(minutes=1),
        feed,
        feed["trades"].to_numpy(np.int64),
    )


def daily_bar(feed: pd.DataFrame, symbol: str, day: dt.date, trades: int) -> pd.DataFrame:
    """The HDT bar of ``day`` (none if the feed has none) as one ``BAR_COLUMNS`` bar at the regular open."""
    row = feed[pd.to_datetime(feed["date"]).dt.date == day]
    stamps = pd.Series([calendar.session(day).open] * len(row), dtype=TIMESTAMP)
    return _bars(symbol, stamps, row, np.full(len(row), trades, np.int64))


def _bars(symbol: str, starts: pd.Series, feed: pd.DataFrame, trades: np.ndarray) -> pd.DataFrame:
    n = len(feed)
    unknown = pd.Series(pd.NaT, index=range(n), dtype=TIMESTAMP)
    frame = pd.DataFrame(
        {
            "timestamp": starts.reset_index(drop=True).astype(TIMESTAMP),
            "symbol": pd.Series([symbol] * n, dtype=object),
            **{c: feed[c].to_numpy(np.float64) for c in ("open", "high", "low", "close")},
            "volume": feed["volume"].to_numpy(np.int64),
            "dollar_volume": np.full(n, np.nan),
            "vwap": np.full(n, np.nan),
            "trades": trades,
            "first_tick": unknown,
            "last_tick": unknown,
        }
    )
    return conform(frame, BAR_COLUMNS)


def record(catalog: Catalog, chunks: Sequence[BarChunk]) -> list[tuple[str, BarChunk]]:
    """Record each bar chunk as a pending ``bars`` task over its session's extended hours."""
    return [
        (
            catalog.create_task(
                KIND,
                [chunk.symbol],
                params={"session": chunk.session.isoformat(), "reason": chunk.reason, "owner": owner()},
                window=(calendar.session(chunk.session).pre_open, calendar.session(chunk.session).post_close),
            ),
            chunk,
        )
        for chunk in chunks
    ]


def fill_bars(
    chunks: Sequence[BarChunk],
    settings: Settings,
    *,
    concurrency: int = 8,
    on_done: Callable[[BarOutcome], None] | None = None,
    metrics: BackfillMetrics | None = None,
) -> list[BarOutcome]:
    """Record ``chunks`` in collection_tasks and store each session's feed bars; outcomes in order."""
    counts = backfill_metrics() if metrics is None else metrics
    with open_catalog(settings.resolved_catalog_url) as catalog:
        tasks = record(catalog, chunks)
        counts.chunks_planned.inc(len(tasks))

        def report(outcome: BarOutcome) -> None:
            (counts.chunks_done if outcome.status == "done" else counts.chunks_failed).inc()
            counts.bars_stored.inc(outcome.minute_bars + outcome.daily_bars)
            counts.requests_sent(outcome.requests, outcome.throttles, settings.history_rate)
            if on_done is not None:
                on_done(outcome)

        try:
            return asyncio.run(_run(tasks, settings, catalog, concurrency, report))
        finally:
            counts.idle()


async def _run(
    tasks: Sequence[tuple[str, BarChunk]],
    settings: Settings,
    catalog: Catalog,
    concurrency: int,
    report: Callable[[BarOutcome], None],
) -> list[BarOutcome]:
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    store = BarStore(settings.resolved_arctic_uri)
    budget = CountedBudget(open_budget(settings))
    slots = asyncio.Semaphore(concurrency)
    async with HistoryClient(
        Endpoint.from_settings(settings), connections=concurrency, budget=budget
    ) as history:

        async def one(task_id: str, chunk: BarChunk) -> BarOutcome:
            async with slots:
                outcome = await _fill(task_id, chunk, history, budget, store, catalog)
            report(outcome)
            return outcome

        return list(await asyncio.gather(*(one(task_id, chunk) for task_id, chunk in tasks)))


async def _fill(
    task_id: str,
    chunk: BarChunk,
    history: HistoryClient,
    budget: CountedBudget,
    store: BarStore,
    catalog: Catalog,
) -> BarOutcome:
    """Ask the session's 1-minute and daily bars and store them, marked as the feed's."""
    catalog.update_task(task_id, status="running", attempts_increment=True)
    session = calendar.session(chunk.session)
    with budget.tally() as tally:
        try:
            feed_minutes = await history.interval_bars(
                chunk.symbol, 60, session.pre_open + pd.Timedelta(minutes=1), session.post_close
            )
            feed_daily = await history.daily(chunk.symbol, chunk.session, chunk.session)
        except (IQFeedError, OSError, TimeoutError, EOFError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("bar chunk failed task=%s symbol=%s error=%s", task_id, chunk.symbol, error)
            catalog.update_task(task_id, status="failed", error=error)
            throttles = tally.slots - (REQUESTS - 1 if isinstance(exc, Throttled) else REQUESTS)
            return BarOutcome(
                task_id, chunk, "failed", error=error, requests=tally.slots, throttles=max(0, throttles)
            )
    eth = minute_bars(feed_minutes, chunk.symbol)
    regular = eth[(eth["timestamp"] >= session.open) & (eth["timestamp"] < session.close)]
    daily = daily_bar(feed_daily, chunk.symbol, chunk.session, int(eth["trades"].sum()))
    await asyncio.to_thread(_write, store, chunk, eth, regular, daily)
    counters = {"minute_bars": len(eth), "daily_bars": len(daily), "requests": tally.slots}
    catalog.update_task(task_id, status="done", counters=counters)
    log.info(
        "bar chunk done task=%s symbol=%s session=%s %s",
        task_id,
        chunk.symbol,
        chunk.session,
        " ".join(f"{k}={v}" for k, v in counters.items()),
    )
    return BarOutcome(
        task_id, chunk, "done", len(eth), len(daily), requests=tally.slots, throttles=tally.slots - REQUESTS
    )


def _write(
    store: BarStore, chunk: BarChunk, eth: pd.DataFrame, regular: pd.DataFrame, daily: pd.DataFrame
) -> None:
    """Replace the session's 1-minute (regular and extended hours) and daily bars with the feed's."""
    symbol, day = chunk.symbol, chunk.session
    store.write(regular, symbol, day, MINUTE, extended_hours=False, complete=True, source=FEED)
    store.write(eth, symbol, day, MINUTE, extended_hours=True, complete=True, source=FEED)
    store.write(daily, symbol, day, DAILY, extended_hours=False, complete=True, source=FEED)
