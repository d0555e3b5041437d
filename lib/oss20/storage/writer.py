"""The collector's storage writer: a process of its own that moves journaled ticks into ArcticDB.

Merging a flush (pandas, ArcticDB) takes a good part of a second at full speed; in the collector's
process it would hold the GIL the event loop needs to read, validate and publish within
milliseconds. The writer reads the flushed entries straight from the journal files (the collector
sends only where they lie), so nothing big crosses the process boundary. It dies with the
collector, and a new one starts on the next flush: the journal and idempotent merges make a
write cut short harmless.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import logging
import multiprocessing
import os
import signal
import sys
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oss20.bar_engine.builders import bar_frame
from oss20.bar_engine.spec import BarSpec
from oss20.storage.arctic import TickStore
from oss20.storage.bar_store import BarStore
from oss20.storage.journal import JournalRecord, read_ticks

log = logging.getLogger(__name__)

_PR_SET_PDEATHSIG = 1


@dataclass
class Flush:
    """What one flush stores: journaled ticks (by location), rejects, malformed lines and live bars."""

    records: list[JournalRecord] = field(default_factory=list)
    rejected: list[pd.DataFrame] = field(default_factory=list)
    malformed: list[dict[str, object]] = field(default_factory=list)
    bars: list[tuple[str, dt.date, BarSpec, dict[str, np.ndarray]]] = field(default_factory=list)
    extended_hours: bool = False


class StoreWriter:
    """Stores flushes in a child process, one at a time; ``submit`` returns a future of ``store_flush``."""

    def __init__(self, uri: str, asset_class: str) -> None:
        self.uri, self.asset_class = uri, asset_class
        self.restarts = 0
        self._pool: ProcessPoolExecutor | None = None
        self._pid: Future[int] | None = None

    def start(self) -> None:
        """Start the writer process now (it takes a second to import) rather than at the first flush."""
        self._executor()

    @property
    def pid(self) -> int | None:
        """The current writer process's id (waiting for it to start), None when there is none."""
        if self._pool is None or _broken(self._pool) or self._pid is None:
            return None
        try:
            return self._pid.result()
        except BrokenProcessPool:
            return None

    def submit(self, flush: Flush) -> Future[tuple[int, int]]:
        """Queue ``flush``; a writer that died (killed, crashed) is replaced first."""
        return self._executor().submit(store_flush, flush)

    def compact(self) -> Future[None]:
        """Compact every symbol-day the writer appended to."""
        return self._executor().submit(_compact)

    def close(self) -> None:
        """Let the writer finish what it was given, then end it."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is not None and _broken(self._pool):
            log.warning("storage writer died, starting a new one")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
            self.restarts += 1
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_open_stores,
                initargs=(self.uri, self.asset_class, os.getpid()),
            )
            self._pid = self._pool.submit(os.getpid)
        return self._pool


def _broken(pool: ProcessPoolExecutor) -> bool:
    return bool(getattr(pool, "_broken", False))


_ticks: TickStore | None = None
_bars: BarStore | None = None


WRITER_NICENESS = 10
"""The writer's batch work yields the CPU to the collector's event loop (and the feed) when they want it."""


def _open_stores(uri: str, asset_class: str, collector: int) -> None:
    """In the writer process: die with the collector, give way on the CPU, open the stores once."""
    global _ticks, _bars
    if sys.platform == "linux":
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != collector:  # it died before the signal was armed: never write beside its successor
        os._exit(1)
    os.nice(WRITER_NICENESS)
    _ticks, _bars = TickStore(uri, asset_class), BarStore(uri)


def store_flush(flush: Flush) -> tuple[int, int]:
    """In the writer process: store ``flush``, ticks first (idempotent: a retry stores nothing twice).

    Returns (ticks read from the journal, ticks new to storage).
    """
    if _ticks is None or _bars is None:
        raise BrokenProcessPool("the storage writer has no stores open")
    ticks = read_ticks(flush.records)
    stored = _ticks.merge(ticks)
    if flush.rejected:
        _ticks.put_quarantine(pd.concat(flush.rejected, ignore_index=True))
    if flush.malformed:
        _ticks.put_malformed(pd.DataFrame(flush.malformed))
    by_key: dict[tuple[str, dt.date, BarSpec], list[dict[str, np.ndarray]]] = {}
    for symbol, day, spec, columns in flush.bars:
        by_key.setdefault((symbol, day, spec), []).append(columns)
    for (symbol, day, spec), parts in by_key.items():
        joined = {name: np.concatenate([part[name] for part in parts]) for name in parts[0]}
        _bars.append(bar_frame(joined), symbol, day, spec, flush.extended_hours)
    return len(ticks), stored


def _compact() -> None:
    if _ticks is not None:
        _ticks.compact()
