"""Run backfill chunks: ask history for each chunk's window, pass tier 1, merge into ArcticDB on the
tick identity, and record the chunk's fate in collection_tasks.

Chunks of one symbol-day run one after another (a merge reads and rewrites the day); different
symbol-days run side by side, with at most ``concurrency`` history requests in flight, every one of
them through the shared request budget. Running a chunk twice stores nothing twice: the merge keys
on (symbol, day, market center, TickID).
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import pandas as pd

from oss20.backfill.budget import CountedBudget, RequestBudget, open_budget
from oss20.backfill.chunks import Chunk
from oss20.config import Settings
from oss20.iqfeed.client import Endpoint, HistoryClient, IQFeedError, Throttled
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import Catalog, open_catalog
from oss20.validation.tier1 import Tier1State, check_ticks

log = logging.getLogger(__name__)

KIND = "backfill"
"""The collection_tasks kind of a backfill chunk."""


def owner() -> str:
    """``host:pid`` of this process, kept with each task it records (a dead owner's tasks are free)."""
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass(frozen=True)
class ChunkOutcome:
    """What one chunk did: done (with its counts) or failed (with the error)."""

    task_id: str
    chunk: Chunk
    status: str
    received: int = 0
    stored: int = 0
    quarantined: int = 0
    error: str = ""
    requests: int = 0
    """History requests sent for it (retries included)."""
    throttles: int = 0
    """Throttle replies among those requests."""


def record(catalog: Catalog, chunks: Iterable[Chunk]) -> list[tuple[str, Chunk]]:
    """Record each chunk as a pending backfill task; return (task id, chunk) pairs in the same order."""
    return [
        (
            catalog.create_task(
                KIND,
                [chunk.symbol],
                params={
                    "session": chunk.session.isoformat(),
                    "deadline": chunk.deadline.isoformat(),
                    "expected_trades": chunk.expected_trades,
                    "reason": chunk.reason,
                    "owner": owner(),
                },
                window=(chunk.start, chunk.end),
            ),
            chunk,
        )
        for chunk in chunks
    ]


def request_end(end: pd.Timestamp) -> pd.Timestamp:
    """The end to ask history for so that it covers ``end``: IQFeed takes whole seconds and answers
    up to the second it is given, so a chunk ending at 11:59:59.999999 asks through 12:00:00 (the
    ticks beyond ``end`` are dropped again); asking for 11:59:59 would lose that second's ticks.
    Never past midnight, which would ask for the next session too."""
    ceiled = end.ceil("s")
    return ceiled if ceiled.date() == end.date() else end


async def run_chunks(
    tasks: Sequence[tuple[str, Chunk]],
    settings: Settings,
    *,
    concurrency: int = 8,
    budget: RequestBudget | None = None,
    on_done: Callable[[ChunkOutcome], None] | None = None,
) -> list[ChunkOutcome]:
    """Fill every recorded chunk; ``on_done`` hears each outcome as it comes (progress bars, the bus)."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be at least 1, got {concurrency}")
    groups: dict[tuple[object, ...], list[tuple[str, Chunk]]] = {}
    for task_id, chunk in tasks:
        groups.setdefault(chunk.key, []).append((task_id, chunk))
    requests = asyncio.Semaphore(concurrency)
    store = TickStore(settings.resolved_arctic_uri)
    endpoint = Endpoint.from_settings(settings)
    counted = CountedBudget(budget or open_budget(settings))
    with open_catalog(settings.resolved_catalog_url) as catalog:
        async with HistoryClient(endpoint, connections=concurrency, budget=counted) as history:

            async def run_group(group: list[tuple[str, Chunk]]) -> list[ChunkOutcome]:
                outcomes = []
                for task_id, chunk in group:
                    outcome = await _fill(task_id, chunk, history, counted, requests, store, catalog)
                    outcomes.append(outcome)
                    if on_done is not None:
                        on_done(outcome)
                return outcomes

            done = await asyncio.gather(*(run_group(group) for group in groups.values()))
    return [outcome for group in done for outcome in group]


def store_ticks(ticks: pd.DataFrame, store: TickStore) -> tuple[int, int]:
    """Pass history's ``ticks`` through tier 1, merge the clean ones on the tick identity and quarantine
    the rejects: (ticks newly stored, ticks quarantined). The clean ticks go to the store as tier 1's
    columns (no frame between them)."""
    result = check_ticks(ticks, Tier1State())
    clean = result.clean
    stored = store.merge(clean) if len(clean) else 0
    if len(result.rejected):
        store.put_quarantine(result.rejected)
    return stored, len(result.rejected)


async def _fill(
    task_id: str,
    chunk: Chunk,
    history: HistoryClient,
    budget: CountedBudget,
    requests: asyncio.Semaphore,
    store: TickStore,
    catalog: Catalog,
) -> ChunkOutcome:
    """Fill one chunk: a chunk lies within one session, so history is asked once (and again on each
    throttle reply, which the client retries)."""
    catalog.update_task(task_id, status="running", attempts_increment=True)
    with budget.tally() as tally:
        try:
            async with requests:
                ticks = await history.ticks(chunk.symbol, chunk.start, request_end(chunk.end))
            inside = (ticks["timestamp"] <= chunk.end).to_numpy()
            if not inside.all():  # history answers whole seconds: drop what lies past the chunk
                ticks = ticks[inside]
        except (IQFeedError, OSError, TimeoutError, EOFError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            log.warning("backfill chunk failed task=%s symbol=%s error=%s", task_id, chunk.symbol, error)
            catalog.update_task(task_id, status="failed", error=error)
            throttles = tally.slots if isinstance(exc, Throttled) else max(0, tally.slots - 1)
            return ChunkOutcome(
                task_id, chunk, "failed", error=error, requests=tally.slots, throttles=throttles
            )
    stored, quarantined = await asyncio.to_thread(store_ticks, ticks, store)
    counters = {"received": len(ticks), "stored": stored, "quarantined": quarantined, "requests": tally.slots}
    catalog.update_task(task_id, status="done", counters=counters)
    log.info(
        "backfill chunk done task=%s symbol=%s start=%s end=%s %s",
        task_id,
        chunk.symbol,
        chunk.start,
        chunk.end,
        " ".join(f"{k}={v}" for k, v in counters.items()),
    )
    return ChunkOutcome(
        task_id,
        chunk,
        "done",
        len(ticks),
        stored,
        quarantined,
        requests=tally.slots,
        throttles=tally.slots - 1,
    )
