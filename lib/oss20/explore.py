"""A selection of stored ticks, read a page at a time: the library half of the data explorer.

A ``Selection`` names a symbol, a range of sessions and column ``Filters``. A ``TickPager`` over it
knows how many stored ticks match and reads any page of them from ArcticDB by row range, so a grid
can walk millions of rows while the server holds one page and the browser one page's rows.
``write_ticks`` is the export that both the explorer and ``oss20 ticks`` use (every tick column,
in ``schema.TICK_COLUMNS`` order).

>>> from oss20.storage.arctic import TickStore
>>> store = TickStore(oss20.connection.current().resolved_arctic_uri)
>>> pager = TickPager(store, Selection.parse("AAPL", "2025-01-02", filters=Filters(size_min=100)))
>>> pager.total
3232
>>> pager.page(0, 3)[["timestamp", "price", "size"]]
                         timestamp     price  size
0 2025-01-02 05:09:16.731826-05:00  245.7300   100
1 2025-01-02 05:25:21.262869-05:00  245.7344   100
2 2025-01-02 06:13:09.271270-05:00  246.3100   100
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import IO, Any

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.schema import TICK_COLUMNS, empty_frame
from oss20.storage.arctic import TickStore
from oss20.symbols import validate_symbol

EXPORT_FORMATS = ("csv", "parquet")
CONDITION = re.compile(r"^[0-9A-F]{2}$")
CHART_COLUMNS = ("price", "size", "basis")
"""The tick columns a price chart reads: the points, and what bars are built from."""


@dataclass(frozen=True)
class Filters:
    """Which ticks of a selection to keep: all of the given conditions hold (unset ones always do).

    ``market_centers`` keeps ticks of those centers (empty: any); ``price_*`` and ``size_*`` are
    inclusive bounds; ``condition`` is one two-hex-digit trade condition code (e.g. "3D",
    intermarket sweep) that a tick's concatenated ``conditions`` must contain.
    """

    market_centers: tuple[int, ...] = ()
    price_min: float | None = None
    price_max: float | None = None
    size_min: int | None = None
    size_max: int | None = None
    condition: str = ""

    def __post_init__(self) -> None:
        for name, low, high in (
            ("price", self.price_min, self.price_max),
            ("size", self.size_min, self.size_max),
        ):
            if low is not None and high is not None and low > high:
                raise ValueError(f"the {name} range is inverted: minimum {low} > maximum {high}")
        if self.condition and not CONDITION.fullmatch(self.condition):
            raise ValueError(
                f"not a trade condition code: {self.condition!r}; expected two hex digits such as 3D or 87"
            )

    @property
    def active(self) -> bool:
        """True when at least one filter is set."""
        return bool(self.columns())

    def columns(self) -> list[str]:
        """The tick columns the set filters look at (none when no filter is set)."""
        wanted = {
            "market_center": bool(self.market_centers),
            "price": self.price_min is not None or self.price_max is not None,
            "size": self.size_min is not None or self.size_max is not None,
            "conditions": bool(self.condition),
        }
        return [name for name, used in wanted.items() if used]

    def mask(self, ticks: pd.DataFrame) -> np.ndarray:
        """Which rows of ``ticks`` (holding at least ``columns()``) pass every set filter."""
        keep = np.ones(len(ticks), bool)
        if self.market_centers:
            keep &= np.isin(ticks["market_center"].to_numpy(), self.market_centers)
        for name, low, high in (
            ("price", self.price_min, self.price_max),
            ("size", self.size_min, self.size_max),
        ):
            values = ticks[name].to_numpy() if low is not None or high is not None else None
            if values is not None and low is not None:
                keep &= values >= low
            if values is not None and high is not None:
                keep &= values <= high
        if self.condition:
            keep &= _has_condition(ticks["conditions"], self.condition)
        return keep


def _has_condition(conditions: pd.Series, code: str) -> np.ndarray:
    """Whether each concatenated condition string holds ``code`` at a two-digit boundary.

    A day holds few distinct condition strings: each is looked at once, not once per tick.
    """
    codes, uniques = pd.factorize(conditions, use_na_sentinel=False)
    held = np.array([code in _pairs(str(text)) for text in uniques], bool)
    return held[codes] if len(held) else np.zeros(len(conditions), bool)


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2].upper() for i in range(0, len(text) - 1, 2)}


@dataclass(frozen=True)
class Selection:
    """One symbol's ticks on the sessions from ``first`` to ``last``, narrowed by ``filters``."""

    symbol: str
    first: dt.date
    last: dt.date
    filters: Filters = field(default_factory=Filters)

    @classmethod
    def parse(
        cls,
        symbol: str,
        first: dt.date | str,
        last: dt.date | str | None = None,
        filters: Filters | None = None,
    ) -> Selection:
        """Check what a person typed: a valid ticker, dates in order, at least one trading day.

        Raises ValueError saying what was wrong and what would be right.
        """
        ticker = validate_symbol(symbol)
        start = calendar.to_date(first)
        end = calendar.to_date(last) if last is not None else start
        if end < start:
            raise ValueError(f"the range ends ({end}) before it starts ({start}): swap the dates")
        if not calendar.sessions(start, end):
            raise ValueError(f"no NYSE trading day from {start} to {end} (weekend or holiday)")
        return cls(ticker, start, end, filters or Filters())

    @property
    def days(self) -> list[dt.date]:
        """The trading days of the selection, oldest first."""
        return calendar.sessions(self.first, self.last)


@dataclass
class _Day:
    """One stored day of a selection: its stored rows and, when filtered, the rows that match."""

    day: dt.date
    rows: int
    matches: np.ndarray | None  # positions of matching rows; None when every row matches

    @property
    def count(self) -> int:
        return self.rows if self.matches is None else len(self.matches)


class TickPager:
    """How many stored ticks match a selection, and any page of them in time order.

    Counts come from ArcticDB's descriptions; with filters, only the filtered columns are read
    once (a few columns of a day of a million ticks take a few hundred ms), and pages are read
    by row range. ``grow()`` takes in rows stored since (the live day), without re-reading.
    """

    def __init__(self, store: TickStore, selection: Selection) -> None:
        self.store = store
        self.selection = selection
        self._days = [self._load(day, 0, store.count(selection.symbol, day)) for day in selection.days]

    @property
    def total(self) -> int:
        """Matching ticks over the whole selection."""
        return sum(d.count for d in self._days)

    @property
    def last_rows(self) -> int:
        """Stored rows of the selection's last day that the pager has taken in (matching or not)."""
        return self._days[-1].rows

    def grow(self) -> int:
        """Take in ticks stored since the pager was made (or last grew) on the selection's last day;
        return how many new ticks match."""
        last = self._days[-1]
        rows = self.store.count(self.selection.symbol, last.day)
        if rows <= last.rows:
            return 0
        fresh = self._load(last.day, last.rows, rows)
        before = last.count
        if last.matches is not None and fresh.matches is not None:
            last.matches = np.concatenate([last.matches, fresh.matches])
        last.rows = rows
        return last.count - before

    def page(self, start: int, stop: int) -> pd.DataFrame:
        """Matching ticks ``start`` to ``stop`` (exclusive) of the selection, every tick column."""
        parts = []
        offset = 0
        for day in self._days:
            lo, hi = max(start - offset, 0), min(stop - offset, day.count)
            offset += day.count
            if lo >= hi:
                continue
            parts.append(self._read(day, lo, hi))
        frames = [p for p in parts if len(p)]
        if not frames:
            return empty_frame(TICK_COLUMNS)
        return pd.concat(frames, ignore_index=True)

    def frame(self) -> pd.DataFrame:
        """Every matching tick of the selection (the export)."""
        return self.page(0, self.total)

    def stored_days(self) -> list[dt.date]:
        """The selection's days that hold stored ticks."""
        return [d.day for d in self._days if d.rows]

    def _load(self, day: dt.date, start: int, stop: int) -> _Day:
        filters = self.selection.filters
        if not filters.active:
            return _Day(day, stop, None)
        held = self.store.read_rows(self.selection.symbol, day, start, stop, filters.columns())
        return _Day(day, stop, start + np.flatnonzero(filters.mask(held)))

    def _read(self, day: _Day, lo: int, hi: int) -> pd.DataFrame:
        """Matching rows ``lo`` to ``hi`` of one day: one read of the stored rows they span."""
        symbol = self.selection.symbol
        if day.matches is None:
            return self.store.read_rows(symbol, day.day, lo, hi)
        wanted = day.matches[lo:hi]
        first = int(wanted[0])
        span = self.store.read_rows(symbol, day.day, first, int(wanted[-1]) + 1)
        return span.iloc[wanted - first].reset_index(drop=True)


def write_ticks(ticks: pd.DataFrame, format: str, sink: str | IO[Any]) -> None:
    """Write a tick frame as ``format`` ("csv" or "parquet") to a path or file, every tick column.

    CSV timestamps keep their offset (``2025-01-02 09:30:00.000123-05:00``); Parquet keeps dtypes.
    """
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown format {format!r}; expected {' or '.join(EXPORT_FORMATS)}")
    frame = ticks.loc[:, list(TICK_COLUMNS)]
    if format == "csv":
        frame.to_csv(sink, index=False)
    else:
        frame.to_parquet(sink, index=False)


def why_empty(pager: TickPager) -> str:
    """Why a pager holds no ticks, with what is stored instead, for a person to act on.

    Empty when the pager holds some.
    """
    if pager.total:
        return ""
    selection, store = pager.selection, pager.store
    symbol = selection.symbol
    span = f"{selection.first}" + (f" to {selection.last}" if selection.last != selection.first else "")
    if pager.stored_days():
        return f"none of the ticks stored for {symbol} on {span} pass the filters"
    days = store.days(symbol)
    if days:
        latest = ", ".join(d.isoformat() for d in days[-5:])
        return f"no ticks stored for {symbol} on {span}; its latest stored days: {latest}"
    known = store.symbols()
    listed = ", ".join(known[:30]) + (" ..." if len(known) > 30 else "")
    return f"unknown symbol {symbol}: no ticks stored for it; stored symbols: {listed or 'none yet'}"
