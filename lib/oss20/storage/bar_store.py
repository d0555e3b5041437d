"""Bars in ArcticDB: one library per family, one symbol per (ticker, spec, trading day).

A day built from its stored ticks after the session is written whole and marked complete; bars
the collector appends live are marked incomplete, so readers know to rebuild that day from ticks.
Each day's metadata names its ``source``: ``ticks`` (built here) or ``feed`` (the feed's own 1-minute
and daily bars, filled where tick history no longer reaches: bar-only coverage).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from arcticdb.version_store.library import Library, ReadRequest

from oss20 import calendar
from oss20.bar_engine.spec import BarSpec
from oss20.schema import BAR_COLUMNS, TZ, conform, empty_frame
from oss20.storage import keys
from oss20.storage.arctic import library
from oss20.symbols import validate_symbol

STORED = [name for name in BAR_COLUMNS if name not in ("timestamp", "symbol")]
EXTENDED_PREFIX = "eth_"
TICKS = "ticks"
"""``source`` of bars built from stored ticks."""
FEED = "feed"
"""``source`` of the feed's own bars (HIT, HDT), stored where tick history no longer reaches."""


def interval_name(spec: BarSpec, extended_hours: bool) -> str:
    """The key part naming a spec (and whether extended hours are in): '5min', 'eth_volume:10000'."""
    return (EXTENDED_PREFIX if extended_hours else "") + spec.name


class BarStore:
    """Write, append and batch-read bars of any spec."""

    def __init__(self, uri: str) -> None:
        self.uri = uri
        self._libraries: dict[str, Library] = {}

    def _library(self, spec: BarSpec) -> Library:
        if spec.library not in self._libraries:
            self._libraries[spec.library] = library(self.uri, spec.library)
        return self._libraries[spec.library]

    def key(self, symbol: str, day: dt.date | str, spec: BarSpec, extended_hours: bool = False) -> str:
        return keys.key(spec.library, symbol, day, interval=interval_name(spec, extended_hours))

    def write(
        self,
        bars: pd.DataFrame,
        symbol: str,
        day: dt.date,
        spec: BarSpec,
        extended_hours: bool,
        complete: bool,
        source: str = TICKS,
    ) -> None:
        """Replace the stored bars of one symbol-day (idempotent); ``source`` says where they came from."""
        key = self.key(symbol, day, spec, extended_hours)
        meta = {"complete": complete, "spec": spec.name, "extended_hours": extended_hours, "source": source}
        self._library(spec).write(key, _to_disk(bars), metadata=meta, prune_previous_versions=True)

    def append(
        self, bars: pd.DataFrame, symbol: str, day: dt.date, spec: BarSpec, extended_hours: bool
    ) -> int:
        """Add live bars after the ones stored (older or equal ones are skipped); return rows added."""
        lib, key = self._library(spec), self.key(symbol, day, spec, extended_hours)
        meta = {"complete": False, "spec": spec.name, "extended_hours": extended_hours}
        frame = _to_disk(bars)
        if lib.has_symbol(key):
            last = lib.get_description(key).date_range[1]
            if not pd.isna(last):
                frame = frame[frame.index > pd.Timestamp(last).tz_convert(TZ)]
        if frame.empty:
            return 0
        lib.append(key, frame, metadata=meta, prune_previous_versions=True)
        return len(frame)

    def complete(self, symbol: str, day: dt.date, spec: BarSpec, extended_hours: bool = False) -> bool:
        """True when the stored day was built from the whole session's ticks."""
        lib, key = self._library(spec), self.key(symbol, day, spec, extended_hours)
        return lib.has_symbol(key) and bool((lib.read_metadata(key).metadata or {}).get("complete"))

    def source(self, symbol: str, day: dt.date, spec: BarSpec, extended_hours: bool = False) -> str | None:
        """Where the stored day's bars came from (``TICKS`` or ``FEED``), None when none are stored."""
        lib, key = self._library(spec), self.key(symbol, day, spec, extended_hours)
        if not lib.has_symbol(key):
            return None
        return str((lib.read_metadata(key).metadata or {}).get("source", TICKS))

    def read(
        self,
        symbols: Iterable[str],
        spec: BarSpec,
        first: dt.date | str,
        last: dt.date | str,
        extended_hours: bool = False,
    ) -> pd.DataFrame:
        """Stored bars of ``symbols`` over the sessions from ``first`` to ``last``, in one batch read."""
        lib = self._library(spec)
        days = calendar.sessions(calendar.to_date(first), calendar.to_date(last))
        requests = [
            ReadRequest(self.key(symbol, day, spec, extended_hours))
            for symbol in (validate_symbol(s) for s in symbols)
            for day in days
            if lib.has_symbol(self.key(symbol, day, spec, extended_hours))
        ]
        if not requests:
            return empty_frame(BAR_COLUMNS)
        parts = [_from_disk(item.data, item.symbol.split("/")[0]) for item in lib.read_batch(requests)]
        return conform(pd.concat(parts, ignore_index=True), BAR_COLUMNS)


def _to_disk(bars: pd.DataFrame) -> pd.DataFrame:
    return conform(bars, BAR_COLUMNS).loc[:, ["timestamp", *STORED]].set_index("timestamp")


def _from_disk(data: pd.DataFrame, symbol: str) -> pd.DataFrame:
    out = data.reset_index()
    out.insert(1, "symbol", symbol)
    for column in ("first_tick", "last_tick"):
        if out[column].dt.tz is None:
            out[column] = out[column].dt.tz_localize("UTC").dt.tz_convert(out["timestamp"].dt.tz)
    return out
