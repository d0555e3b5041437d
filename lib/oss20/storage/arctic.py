"""Ticks in ArcticDB, one symbol per (asset class, ticker, trading day), merged on tick identity.

A symbol-day is the unit of storage: live flushes, journal replays and backfills all go
through ``TickStore.merge``, which stores each (market center, TickID) of a day at most once,
so any of them can be repeated without storing a tick twice.

The merge works on columns (``TickArrays``): the identities of a day this process has stored or
read are kept in a numba hash set (``IdentitySet``), so a batch is deduplicated in one compiled
pass, and the frame ArcticDB writes is built once from the new rows. A symbol-day nothing is
stored for yet is a plain ``write``; later ticks are an ``append`` (or an ``update`` of the window
when they reach back before the last stored tick).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import arcticdb as adb
import numpy as np
import pandas as pd
from arcticdb.config import set_config_int
from arcticdb.version_store.library import Library, ReadRequest

from oss20 import calendar
from oss20.schema import (
    REJECTED_COLUMNS,
    TICK_COLUMNS,
    TIMESTAMP,
    TZ,
    conform,
    empty_frame,
    identity,
    symbol_days,
    tick_identity,
    timestamps,
)
from oss20.storage import keys
from oss20.symbols import validate_symbol
from oss20.tick_arrays import TickArrays
from oss20.validation.identity_set import IdentitySet

log = logging.getLogger(__name__)

STORED_COLUMNS = [name for name in TICK_COLUMNS if name not in ("timestamp", "symbol")]
"""Tick columns kept on disk: the timestamp is the index and the symbol is in the key."""

COMPACT_EVERY = 120
"""Live appends to one symbol-day between compactions (about two minutes at one flush a second)."""

ROWS_PER_SEGMENT = 100_000


@cache
def open_arctic(uri: str) -> adb.Arctic:
    """One ``Arctic`` per URI per process (ArcticDB wants a single LMDB environment per path).

    Version maps are re-read on every operation: another process (or store) may have written
    and pruned since, and a cached map would point at versions that no longer exist.
    """
    set_config_int("VersionMap.ReloadInterval", 0)
    if uri.startswith("lmdb://"):
        Path(uri.removeprefix("lmdb://").split("?", 1)[0]).mkdir(parents=True, exist_ok=True)
    return adb.Arctic(uri)


def library(uri: str, name: str) -> Library:
    """The named library, created on first use."""
    return open_arctic(uri).get_library(name, create_if_missing=True)


@dataclass
class _Known:
    """What this process knows a stored symbol-day holds: its version, identities and last time (ns)."""

    version: int
    ids: IdentitySet
    last: int
    appends: int = 0


class TickStore:
    """Read and merge ticks in the ``tick_data`` library (and quarantine what tier 1 rejects)."""

    def __init__(self, uri: str, asset_class: str = "equity") -> None:
        self.uri = uri
        self.asset_class = asset_class
        self.ticks = library(uri, keys.TICKS)
        self.quarantine = library(uri, keys.QUARANTINE)
        self._known: dict[str, _Known] = {}
        self._newest = dt.date.min
        self._lock = threading.Lock()

    def key(self, symbol: str, day: dt.date | str) -> str:
        return keys.key(keys.TICKS, symbol, day, asset_class=self.asset_class)

    def merge(self, ticks: pd.DataFrame | TickArrays) -> int:
        """Store the ticks not stored yet, per symbol-day; return how many were new.

        ``ticks`` is a ``TICK_COLUMNS`` frame or its columns (``TickArrays``, as tier 1 hands
        them on). Ticks may belong to several symbols and days and arrive in any order. Identity
        is (symbol, trading day, market center, TickID); a tick already stored is skipped.

        >>> import tempfile, oss20.market as m
        >>> store = TickStore(f"lmdb://{tempfile.mkdtemp()}")
        >>> day = m.Market(seed=1).ticks("AAPL", "2025-01-02").head(1000)
        >>> store.merge(day.head(600)), store.merge(day), store.merge(day)
        (600, 400, 0)
        """
        if len(ticks) == 0:
            return 0
        arrays = ticks if isinstance(ticks, TickArrays) else TickArrays.from_frame(ticks)
        groups = arrays.by_symbol_day()
        with self._lock:
            if len(groups) == 1:
                return self._merge_day(groups[0][0], groups[0][1], arrays)
            return sum(self._merge_day(symbol, day, arrays.take(rows)) for symbol, day, rows in groups)

    def _merge_day(self, symbol: str, day: dt.date, part: TickArrays) -> int:
        key = self.key(symbol, day)
        self._forget_before(day)
        known = self._state(key)
        ids = identity(part["market_center"], part["tick_id"])
        if len(ids) and int(ids.min()) < 0:
            raise ValueError(
                f"{key}: ticks with a negative market center or TickID cannot be merged "
                f"(e.g. identity {int(ids.min())}); tier 1 quarantines them"
            )
        seen = IdentitySet(2 * len(ids)) if known is None else known.ids
        try:
            repeat = seen.add(ids)  # repeats within the batch count too: the first one is kept
            if repeat.all():
                return 0
            new = _disk_frame(part, np.flatnonzero(~repeat) if repeat.any() else None)
            stamps = cast(pd.DatetimeIndex, new.index).asi8
            first, last = int(stamps[0]), int(stamps[-1])
            if known is None:
                item = self.ticks.write(key, new, prune_previous_versions=True)
                self._known[key] = _Known(item.version, seen, last)
                return len(new)
            if first >= known.last:
                item = self.ticks.append(key, new, prune_previous_versions=True)
            else:
                window = (new.index[0], new.index[-1])
                held = self.ticks.read(key, date_range=window).data
                merged = pd.concat([held, new]).sort_index(kind="stable")
                item = self.ticks.update(key, merged, date_range=window, prune_previous_versions=True)
        except BaseException:
            # the identities were added before the write: forget the day, so the next merge reads it
            self._known.pop(key, None)
            raise
        known.version = item.version
        known.last = max(known.last, last)
        known.appends += 1
        if known.appends >= COMPACT_EVERY:
            self._compact(key, known)
        return len(new)

    def _forget_before(self, day: dt.date) -> None:
        """Drop what this process remembers of symbol-days older than yesterday (reloaded if touched)."""
        if day > self._newest:
            self._newest = day
            for key in [k for k in self._known if (day - keys.parse_tick_key(k).day).days > 1]:
                known = self._known.pop(key)
                if known.appends:
                    self._compact(key, known)

    def _state(self, key: str) -> _Known | None:
        """This process's view of ``key``, reloaded when another writer has moved its version on."""
        if not self.ticks.has_symbol(key):
            self._known.pop(key, None)
            return None
        version = self.ticks.read_metadata(key).version
        known = self._known.get(key)
        if known is None or known.version != version:
            held = self.ticks.read(key, columns=["market_center", "tick_id"]).data
            ids = IdentitySet(2 * len(held))
            ids.add(tick_identity(held))
            last = int(held.index.asi8[-1]) if len(held) else np.iinfo(np.int64).min
            known = _Known(version, ids, last)
            self._known[key] = known
        return known

    def _compact(self, key: str, known: _Known) -> None:
        item = self.ticks.compact_data(key, ROWS_PER_SEGMENT, prune_previous_versions=True)
        known.version, known.appends = item.version, 0

    def compact(self, symbol: str | None = None) -> None:
        """Compact every symbol-day this process appended to (or one symbol's) into full segments."""
        with self._lock:
            for key, known in list(self._known.items()):
                if known.appends and (symbol is None or key.split("/")[1] == symbol):
                    self._compact(key, known)

    def segments(self, symbol: str, day: dt.date | str) -> int:
        """How many row slices the stored symbol-day is made of (one per append until compacted)."""
        return int(self.ticks.compact_data_explain_plan(self.key(symbol, day)).num_row_slices_before)

    def read(
        self,
        symbol: str,
        day: dt.date | str,
        columns: Sequence[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """One stored symbol-day as a tick frame (empty if nothing is stored)."""
        return self.read_range([symbol], day, day, columns, start, end)

    def read_range(
        self,
        symbols: Iterable[str],
        first: dt.date | str,
        last: dt.date | str,
        columns: Sequence[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Ticks of ``symbols`` on the sessions from ``first`` to ``last``, in one batch read.

        ``columns`` and the ``start``/``end`` times (tz-aware, or naive in America/New_York)
        are pushed down to ArcticDB. Rows are ordered by symbol, then time.
        """
        wanted = _columns(columns)
        window = (_aware(start), _aware(end)) if start is not None or end is not None else None
        names = [validate_symbol(s) for s in symbols]
        requests = [
            ReadRequest(self.key(symbol, day), date_range=window, columns=wanted)
            for symbol in names
            for day in calendar.sessions(calendar.to_date(first), calendar.to_date(last))
            if self.ticks.has_symbol(self.key(symbol, day))
        ]
        if not requests:
            return _frame_columns(empty_frame(TICK_COLUMNS), columns)
        results = self.ticks.read_batch(requests)
        parts = [_from_disk(item.data, item.symbol.split("/")[1]) for item in results]
        return _frame_columns(pd.concat(parts, ignore_index=True), columns)

    def read_rows(
        self, symbol: str, day: dt.date | str, start: int, stop: int, columns: Sequence[str] | None = None
    ) -> pd.DataFrame:
        """Rows ``start`` to ``stop`` (exclusive) of one stored symbol-day in stored (time) order.

        Only the segments holding those rows are read: a page of a day of millions of ticks costs
        what the page costs. Empty if nothing is stored.
        """
        wanted = _columns(columns)
        key = self.key(symbol, day)
        if stop <= start or not self.ticks.has_symbol(key):
            return _frame_columns(empty_frame(TICK_COLUMNS), columns)
        data = self.ticks.read(key, row_range=(start, stop), columns=wanted).data
        return _frame_columns(_from_disk(data, validate_symbol(symbol)), columns)

    def symbols(self) -> list[str]:
        """Every symbol with at least one stored day, sorted."""
        names = {keys.parse_tick_key(k).symbol for k in self.ticks.list_symbols()}
        return sorted(names)

    def days(self, symbol: str) -> list[dt.date]:
        """Trading days of ``symbol`` that hold stored ticks, oldest first."""
        pattern = keys.tick_key_pattern(symbol, self.asset_class)
        return sorted(keys.parse_tick_key(k).day for k in self.ticks.list_symbols(regex=pattern))

    def last_tick(self, symbol: str, day: dt.date | str) -> pd.Timestamp | None:
        """Time of the latest stored tick of ``symbol`` on ``day``, or None."""
        key = self.key(symbol, day)
        if not self.ticks.has_symbol(key):
            return None
        end = self.ticks.get_description(key).date_range[1]
        return None if pd.isna(end) else pd.Timestamp(end).tz_convert(TZ)

    def count(self, symbol: str, day: dt.date | str) -> int:
        key = self.key(symbol, day)
        return int(self.ticks.get_description(key).row_count) if self.ticks.has_symbol(key) else 0

    def put_quarantine(self, rejected: pd.DataFrame) -> int:
        """Keep tier-1 rejects (tick columns plus ``reason``) per symbol-day; return rows kept."""
        if rejected.empty:
            return 0
        for symbol, day, part in symbol_days(rejected):
            key = keys.key(keys.QUARANTINE, symbol, day, asset_class=self.asset_class)
            self.quarantine.append(key, _rows(part.drop(columns="symbol")))
        return len(rejected)

    def put_malformed(self, lines: pd.DataFrame) -> int:
        """Keep unparseable feed lines (``received``, ``line``, ``reason``) per day; return rows kept."""
        if lines.empty:
            return 0
        for day, part in lines.groupby(lines["received"].dt.date, sort=False):
            self.quarantine.append(keys.malformed_key(day), _rows(part))
        return len(lines)

    def quarantined(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        key = keys.key(keys.QUARANTINE, symbol, day, asset_class=self.asset_class)
        if not self.quarantine.has_symbol(key):
            return empty_frame(REJECTED_COLUMNS)
        kept = _local(self.quarantine.read(key).data, "timestamp")
        kept.insert(1, "symbol", validate_symbol(symbol))
        return kept

    def malformed(self, day: dt.date | str) -> pd.DataFrame:
        key = keys.malformed_key(day)
        if not self.quarantine.has_symbol(key):
            return empty_frame({"received": TIMESTAMP, "line": object, "reason": object})
        return _local(self.quarantine.read(key).data, "received")


def _to_disk(part: pd.DataFrame) -> pd.DataFrame:
    """Timestamp as the index, no symbol column, rows in time order (stable: feed order kept)."""
    out = part.loc[:, ["timestamp", *STORED_COLUMNS]].set_index("timestamp")
    return out.sort_index(kind="stable")


def _disk_frame(ticks: TickArrays, rows: np.ndarray | None = None) -> pd.DataFrame:
    """``_to_disk`` of the ticks at ``rows`` (all when None), built once from the columns: one
    gather per column (none when every row is kept in time order already), no intermediate frames."""
    stamps = ticks["timestamp"] if rows is None else ticks["timestamp"][rows]
    if len(stamps) > 1 and bool((stamps[1:] < stamps[:-1]).any()):
        order = np.argsort(stamps, kind="stable")
        rows = order if rows is None else rows[order]
        stamps = stamps[order]
    index = timestamps(stamps).rename("timestamp")
    data = {name: ticks[name] if rows is None else ticks[name][rows] for name in STORED_COLUMNS}
    return pd.DataFrame(data, index=index, copy=False)


def _rows(part: pd.DataFrame) -> pd.DataFrame:
    """Quarantine rows keep arrival order under a plain row index (they need not be in time order)."""
    return part.reset_index(drop=True)


def _local(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """ArcticDB gives time columns (not the index) back as naive UTC: make them America/New_York again."""
    stamps = frame[column]
    if stamps.dt.tz is None:
        frame[column] = stamps.dt.tz_localize("UTC").dt.tz_convert(TZ)
    return frame


def _from_disk(data: pd.DataFrame, symbol: str) -> pd.DataFrame:
    out = data.reset_index()
    out.insert(1, "symbol", symbol)
    return out


def _columns(columns: Sequence[str] | None) -> list[str] | None:
    if columns is None:
        return None
    unknown = [c for c in columns if c not in TICK_COLUMNS]
    if unknown:
        raise ValueError(f"unknown tick columns {unknown}; expected some of {list(TICK_COLUMNS)}")
    return [c for c in columns if c in STORED_COLUMNS]


def _frame_columns(frame: pd.DataFrame, columns: Sequence[str] | None) -> pd.DataFrame:
    full = conform(frame, {**TICK_COLUMNS} if columns is None else _subset(columns))
    return full.reset_index(drop=True)


def _subset(columns: Sequence[str]) -> dict[str, object]:
    names = ["timestamp", "symbol", *[c for c in columns if c not in ("timestamp", "symbol")]]
    return {name: TICK_COLUMNS[name] for name in names}


def _aware(stamp: pd.Timestamp | str | None) -> pd.Timestamp | None:
    if stamp is None:
        return None
    value = pd.Timestamp(stamp)
    return value.tz_localize(TZ) if value.tzinfo is None else value.tz_convert(TZ)
