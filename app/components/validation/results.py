"""The validation results one browser session shows: read from the catalog off the event loop, then
kept current from the bus's validation events, folded in once a second."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pandas as pd
import panel as pn
import param

from app.runtime import Runtime
from oss20 import validate
from oss20.bus import ValidationEvent
from oss20.config import Settings
from oss20.storage.catalog import CatalogUnavailable
from oss20.validation.overview import RESULT_COLUMNS, apply_outcomes, empty_results

log = logging.getLogger(__name__)


class ValidationResults(param.Parameterized):
    """Every recorded check (``overview.RESULT_COLUMNS``), the symbol-days the latest batch of
    events touched, and each symbol's live status from the cache (``validation:{symbol}:status``).

    Parts watch ``frame`` and bring what they show up to date by patching; nothing here blocks the
    server's event loop (catalog and cache reads run in a thread).
    """

    frame = param.DataFrame(default=empty_results(), doc="Recorded checks, one row per check.")
    touched = param.List(default=[], doc="(symbol, ISO day) pairs the latest events changed.")
    statuses = param.Dict(default={}, doc="Symbol -> its live validation status from the cache.")
    loaded = param.Boolean(default=False, doc="True once the catalog has been read.")
    error = param.String(default="", doc="Why the catalog could not be read, if it could not.")
    period = param.Integer(default=1000, bounds=(100, 60_000), doc="Milliseconds between two batches.")

    def __init__(self, runtime: Runtime, **params: Any) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._events = runtime.bus.subscribe(kinds=["validation"])
        pn.state.onload(self._load)
        self._callback = pn.state.add_periodic_callback(self._poll, period=self.period, start=True)
        pn.state.on_session_destroyed(lambda _context: self.close())

    @property
    def settings(self) -> Settings:
        """Where the results and the validated ticks are read from (the runtime's settings)."""
        return self._runtime.settings

    def close(self) -> None:
        """Stop listening to the bus (the session is gone)."""
        self._callback.stop()
        self._events.close()

    async def _load(self) -> None:
        try:
            frame = await asyncio.to_thread(validate.results, settings=self._runtime.settings)
        except (CatalogUnavailable, ValueError, OSError) as err:
            log.warning("validation results unreadable error=%s", err)
            self.param.update(error=f"the catalog could not be read: {err}", loaded=True)
            return
        self.param.update(frame=frame[RESULT_COLUMNS], error="", loaded=True)

    async def _poll(self) -> None:
        outcomes = [e for e in self._events.drain() if isinstance(e, ValidationEvent)]
        if outcomes:
            frame, touched = apply_outcomes(self.frame, outcomes)
            self.param.update(frame=frame, touched=sorted(touched))
        statuses = await asyncio.to_thread(self._read_statuses, self._symbols(self.frame))
        if statuses != self.statuses:
            self.statuses = statuses

    def _symbols(self, frame: pd.DataFrame) -> list[str]:
        return sorted(set(self._runtime.symbols) | set(frame["symbol"]))

    def _read_statuses(self, symbols: list[str]) -> dict[str, dict[str, Any]]:
        statuses = {s: self._runtime.cache.validation_status(s) for s in symbols}
        return {s: status for s, status in statuses.items() if status}
