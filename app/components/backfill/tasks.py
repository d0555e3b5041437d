"""The backfill tasks one browser session follows: read from the catalog off the event loop about
once a second while chunks are at work (every few seconds otherwise), and the bus's collection
events, which say at once how each chunk ended."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import panel as pn
import param

from app.runtime import Runtime
from oss20.backfill.executor import KIND
from oss20.bus import CollectionEvent
from oss20.storage.catalog import CatalogUnavailable, TaskRecord

log = logging.getLogger(__name__)

READ_LIMIT = 2000
"""Most recent backfill tasks read (the run history and the budget look no further back)."""
IDLE_READ = 5.0
"""Seconds between catalog reads while no chunk is pending or running and no event came."""


class BackfillTasks(param.Parameterized):
    """Recent backfill tasks (newest first) and the outcomes the bus reported for them."""

    tasks = param.List(default=[], doc="Recent backfill TaskRecords, newest first.")
    outcomes = param.Dict(default={}, doc="Task id -> the CollectionEvent that reported its end.")
    error = param.String(default="", doc="Why the catalog could not be read, if so.")
    period = param.Integer(default=1000, bounds=(200, 60_000), doc="Milliseconds between two polls.")

    def __init__(self, runtime: Runtime, **params: Any) -> None:
        super().__init__(**params)
        self.runtime = runtime
        self._events = runtime.bus.subscribe(kinds=["collection"])
        self._read_at = 0.0
        pn.state.onload(self.read)
        self._callback = pn.state.add_periodic_callback(self.poll, period=self.period, start=True)
        pn.state.on_session_destroyed(lambda _context: self.close())

    def close(self) -> None:
        """Stop listening (the session is gone)."""
        self._callback.stop()
        self._events.close()

    def active(self) -> list[TaskRecord]:
        """Tasks pending or running."""
        return [t for t in self.tasks if t.status in ("pending", "running")]

    async def poll(self) -> None:
        """Fold the bus's outcomes in; read the catalog when something is at work or changed."""
        events = [e for e in self._events.drain() if isinstance(e, CollectionEvent)]
        if events:
            self.outcomes = {**self.outcomes, **{e.task_id: e for e in events}}
        if events or self.active() or time.monotonic() - self._read_at >= IDLE_READ:
            await self.read()

    async def read(self) -> None:
        """Read the recent backfill tasks now (off the event loop)."""
        self._read_at = time.monotonic()
        try:
            tasks = await asyncio.to_thread(lambda: self.runtime.catalog().tasks(kind=KIND, limit=READ_LIMIT))
        except CatalogUnavailable as err:
            log.warning("backfill tasks unreadable error=%s", err)
            self.error = f"The catalog could not be read: {err}"
            return
        self.error = ""
        if tasks != self.tasks:
            self.tasks = tasks
