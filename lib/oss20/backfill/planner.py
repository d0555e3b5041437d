"""Split gaps into chunks IQFeed can serve, soonest out of reach first, skipping what is in flight.

Pure, but for ``in_flight``, which reads the catalog's backfill tasks that are pending or running
and still alive (a task a killed backfill left behind stops counting once its heartbeat is stale).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import os
import socket
from collections.abc import Iterable

import pandas as pd

from oss20.backfill.chunks import BarChunk, Chunk
from oss20.backfill.gaps import BAR_ONLY, TICK_HISTORY_DAYS, Gap
from oss20.storage.catalog import Catalog

CHUNK_TRADES = 200_000
"""Most trades one chunk should bring (one reply of a few tens of MB; a retry repeats little)."""
CHUNK_MINUTES = 60
"""Length of a chunk when the feed's bars were not asked (nothing says how busy the window is)."""
STALE_AFTER = pd.Timedelta(minutes=10)
"""A pending or running task not heard from for this long belongs to a backfill that died."""
IN_FLIGHT_LIMIT = 100_000
ONE_US = pd.Timedelta(microseconds=1)

Window = tuple[str, pd.Timestamp, pd.Timestamp]


def owner_alive(owner: str) -> bool:
    """False only when ``owner`` (``host:pid``) names a process of this host that is gone."""
    host, _, pid = owner.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def plan(gaps: Iterable[Gap], in_flight: Iterable[Window] = ()) -> list[Chunk]:
    """Chunks of every reachable gap, ranked by the day their ticks fall out of history (soonest
    first), without the parts of windows another backfill is already filling."""
    busy: dict[str, list[tuple[pd.Timestamp, pd.Timestamp]]] = {}
    for symbol, start, end in in_flight:
        busy.setdefault(symbol, []).append((start, end))
    chunks = [
        chunk
        for gap in gaps
        if gap.reachable
        for chunk in split(gap)
        if not any(chunk.start <= end and start <= chunk.end for start, end in busy.get(chunk.symbol, ()))
    ]
    return sorted(chunks, key=lambda c: (c.deadline, c.symbol, c.start))


def plan_bars(gaps: Iterable[Gap]) -> list[BarChunk]:
    """One bar chunk per symbol-session with gaps tick history no longer reaches and whose bars were
    not filled yet (gaps not ``bar-only``), oldest session first."""
    cells: dict[tuple[str, dt.date], list[Gap]] = {}
    for gap in gaps:
        if not gap.reachable and gap.reason != BAR_ONLY:
            cells.setdefault((gap.symbol, gap.session), []).append(gap)
    return [
        BarChunk(
            symbol,
            session,
            None
            if any(g.expected_trades is None for g in cell)
            else sum(g.expected_trades or 0 for g in cell),
            ", ".join(dict.fromkeys(g.reason for g in cell)),
        )
        for (symbol, session), cell in sorted(cells.items(), key=lambda item: (item[0][1], item[0][0]))
    ]


def split(gap: Gap) -> list[Chunk]:
    """``gap`` cut into whole-minute chunks of about ``CHUNK_TRADES`` trades (or ``CHUNK_MINUTES``)."""
    minutes = max(1, math.ceil((gap.end - gap.start) / pd.Timedelta(minutes=1)))
    if gap.expected_trades is not None:
        parts = max(1, math.ceil(gap.expected_trades / CHUNK_TRADES))
    else:
        parts = math.ceil(minutes / CHUNK_MINUTES)
    parts = min(parts, minutes)
    bounds = [gap.start + pd.Timedelta(minutes=minutes * i // parts) for i in range(parts)] + [gap.end]
    deadline = gap.session + dt.timedelta(days=TICK_HISTORY_DAYS)
    return [
        Chunk(
            gap.symbol,
            gap.session,
            lo,
            hi - ONE_US,  # gaps end exclusive, history requests end inclusive
            deadline,
            None if gap.expected_trades is None else round(gap.expected_trades / parts),
            gap.reason,
        )
        for lo, hi in itertools.pairwise(bounds)
    ]


def in_flight(catalog: Catalog, now: pd.Timestamp | None = None) -> list[Window]:
    """Windows of backfill tasks pending or running whose owner lives: heard from within
    ``STALE_AFTER``, and, when it ran on this host, its process still there (a backfill killed a
    moment ago frees its windows at once)."""
    now = pd.Timestamp.now(tz="UTC") if now is None else now
    windows: list[Window] = []
    for status in ("pending", "running"):
        for task in catalog.tasks(status=status, kind="backfill", limit=IN_FLIGHT_LIMIT):
            heard = task.heartbeat_at or task.updated_at
            if (
                now - pd.Timestamp(heard) > STALE_AFTER
                or task.window_start is None
                or task.window_end is None
                or not owner_alive(str(task.params.get("owner", "")))
            ):
                continue
            for symbol in task.symbols:
                windows.append((symbol, pd.Timestamp(task.window_start), pd.Timestamp(task.window_end)))
    return windows
