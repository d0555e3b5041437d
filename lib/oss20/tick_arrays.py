"""Ticks as aligned numpy columns: the collector's hot path, with no pandas between socket and journal.

A ``TickArrays`` holds exactly ``schema.TICK_COLUMNS`` with their dtypes, except ``timestamp``, which
is int64 nanoseconds since the epoch (UTC; ``schema.NAT`` for a missing time). Building a DataFrame
costs tens of microseconds whatever its length, so the live path keeps columns and builds one frame
per flush instead of several per socket read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from oss20.schema import NS_PER_DAY, TICK_COLUMNS, conform, group_rows, timestamps, wall_from_utc

_NAMES = tuple(TICK_COLUMNS)
_DTYPES = {name: np.dtype(np.int64 if name == "timestamp" else dtype) for name, dtype in TICK_COLUMNS.items()}


class TickArrays:
    """Trades as columns named and typed as ``schema.TICK_COLUMNS`` (timestamps as UTC epoch ns).

    >>> import oss20.market as m
    >>> ticks = TickArrays.from_frame(m.Market(seed=1).ticks("AAPL", "2025-01-02").head(3))
    >>> len(ticks), ticks["price"].dtype.name
    (3, 'float64')
    """

    __slots__ = ("_groups", "columns")

    def __init__(self, columns: Mapping[str, np.ndarray]) -> None:
        lengths = {len(values) for values in columns.values()}
        if set(columns) != set(_NAMES) or len(lengths) != 1:
            raise ValueError(
                f"TickArrays needs columns {list(_NAMES)} of one length; got "
                f"{ {name: len(values) for name, values in columns.items()} }"
            )
        wrong = {name: str(v.dtype) for name, v in columns.items() if v.dtype != _DTYPES[name]}
        if wrong:
            raise TypeError(f"TickArrays columns have the wrong dtypes {wrong}; expected {_DTYPES}")
        self.columns = {name: columns[name] for name in _NAMES}
        self._groups: list[tuple[str, dt.date, np.ndarray]] | None = None

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> TickArrays:
        """The columns of a tick frame, conformed to ``TICK_COLUMNS`` (KeyError names what is missing)."""
        ticks = conform(frame, TICK_COLUMNS)
        columns = {name: ticks[name].to_numpy() for name in _NAMES if name != "timestamp"}
        stamps = ticks["timestamp"].array
        columns["timestamp"] = (stamps if stamps.unit == "ns" else stamps.as_unit("ns")).asi8
        return cls(columns)

    @classmethod
    def concat(cls, parts: Sequence[TickArrays]) -> TickArrays:
        """One TickArrays of ``parts`` in order (no copy for a single part)."""
        if len(parts) == 1:
            return parts[0]
        if not parts:
            return cls.new_empty()
        return cls({name: np.concatenate([p.columns[name] for p in parts]) for name in _NAMES})

    @classmethod
    def new_empty(cls) -> TickArrays:
        return cls({name: np.empty(0, dtype) for name, dtype in _DTYPES.items()})

    def __len__(self) -> int:
        return len(self.columns["timestamp"])

    def __getitem__(self, name: str) -> np.ndarray:
        return self.columns[name]

    def take(self, rows: np.ndarray) -> TickArrays:
        """The ticks at ``rows`` (integer positions or a boolean mask)."""
        return TickArrays({name: values[rows] for name, values in self.columns.items()})

    def frame(self) -> pd.DataFrame:
        """A tick frame (``TICK_COLUMNS``, timestamps in America/New_York)."""
        stamps = timestamps(self.columns["timestamp"])
        data = {name: stamps if name == "timestamp" else values for name, values in self.columns.items()}
        return pd.DataFrame(data, copy=False)

    def wall_ns(self) -> np.ndarray:
        """New York wall-clock ns of each tick (``// NS_PER_DAY`` is its trading day number)."""
        return wall_from_utc(self.columns["timestamp"])

    def by_symbol_day(self) -> list[tuple[str, dt.date, np.ndarray]]:
        """(symbol, trading day, row indices) per symbol-day, in order of first appearance (kept)."""
        if self._groups is None:
            self._groups = group_rows(self.columns["symbol"], self.wall_ns() // NS_PER_DAY)
        return self._groups
