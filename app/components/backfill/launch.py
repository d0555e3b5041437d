"""Starting backfill work from a page: who may, and running it off the event loop so the page's
progress parts hear every chunk's outcome on the runtime's bus."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Collection, Sequence

import panel as pn

from app.auth import allowed, current_role
from app.runtime import Runtime
from oss20.backfill.chunks import Chunk
from oss20.backfill.executor import ChunkOutcome, run_chunks
from oss20.backfill.run import plan_backfill, run_backfill
from oss20.bus import CollectionEvent
from oss20.iqfeed.client import Endpoint, feed_time

REQUIRED = "trader"
"""The least role that may start a backfill or retry a chunk (admins may too)."""
CONCURRENCY = 4
"""History requests a backfill started here keeps in flight (the shared budget paces them)."""


def refused(runtime: Runtime, message: pn.pane.Alert) -> bool:
    """True, with a message, when this session's user may not start backfill work (checked on the
    server at every action: a hidden button is not a permission)."""
    if allowed(runtime, REQUIRED):
        return False
    message.param.update(
        object=f"Only a trader or an admin may start a backfill; you are a {current_role(runtime)}.",
        alert_type="danger",
        visible=True,
    )
    return True


def tell(runtime: Runtime, outcome: ChunkOutcome) -> None:
    """Put a chunk's outcome on the runtime's bus, when ``run_backfill`` cannot: without Redis it
    publishes to an in-process bus of its own that no page hears (with Redis it does so itself)."""
    counters = {"received": outcome.received, "stored": outcome.stored, "quarantined": outcome.quarantined}
    runtime.bus.publish(CollectionEvent(outcome.task_id, outcome.status, counters, message=outcome.error))


def backfill(
    runtime: Runtime, cells: Collection[tuple[str, str]], extended_hours: bool
) -> list[ChunkOutcome]:
    """Plan and fill every gap of the symbol-sessions ``cells`` ((symbol, ISO session) pairs) as the
    feed's clock sees them now, skipping windows another backfill is filling. Blocking: call it in
    a thread."""
    settings = runtime.feed_settings()
    now = asyncio.run(feed_time(Endpoint.from_settings(settings)))
    days = [dt.date.fromisoformat(day) for _, day in cells]
    symbols = sorted({symbol for symbol, _ in cells})
    wanted = {(symbol, dt.date.fromisoformat(day)) for symbol, day in cells}
    planned = plan_backfill(symbols, min(days), max(days), settings, now, extended_hours=extended_hours)
    chunks = [chunk for chunk in planned if chunk.key in wanted]
    if not chunks:
        return []
    on_done = None if settings.redis_url else (lambda outcome: tell(runtime, outcome))
    return run_backfill(chunks, settings, concurrency=CONCURRENCY, on_done=on_done)


def retry(runtime: Runtime, tasks: Sequence[tuple[str, Chunk]]) -> list[ChunkOutcome]:
    """Run recorded chunks again, in this process, under their own task ids (their attempts count
    up); each outcome goes to the runtime's bus. Blocking: call it in a thread."""
    return asyncio.run(
        run_chunks(
            tasks,
            runtime.feed_settings(),
            concurrency=CONCURRENCY,
            on_done=lambda outcome: tell(runtime, outcome),
        )
    )
