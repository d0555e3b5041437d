"""One stored symbol-day as the numpy columns every tier reads, converted from the frame once."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.schema import TZ
from oss20.validation import _kernels as K


@dataclass(frozen=True)
class DayTicks:
    """The ticks of ``symbol`` on ``day`` in time order; ``session`` is None off the calendar."""

    symbol: str
    day: dt.date
    session: calendar.Session | None
    ns: np.ndarray
    price: np.ndarray
    size: np.ndarray
    total_volume: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    aggressor: np.ndarray
    conditions: np.ndarray
    qualified: np.ndarray  # basis C or E: the prints that set last, high and low
    regular_c: np.ndarray  # basis C prints of the regular session, closing cross included

    @classmethod
    def from_frame(cls, symbol: str, day: dt.date, ticks: pd.DataFrame) -> DayTicks:
        ns = ticks["timestamp"].array.asi8
        is_c, is_e = _basis_masks(ticks["basis"].to_numpy())
        session = calendar.session(day) if calendar.is_session(day) else None
        regular = np.zeros(len(ns), bool)
        if session is not None:
            lo = np.searchsorted(ns, session.open.value)
            hi = np.searchsorted(ns, session.close.value, side="right")
            regular[lo:hi] = True
        return cls(
            symbol,
            day,
            session,
            ns,
            ticks["price"].to_numpy(np.float64),
            ticks["size"].to_numpy(np.int64),
            ticks["total_volume"].to_numpy(np.int64),
            ticks["bid"].to_numpy(np.float64),
            ticks["ask"].to_numpy(np.float64),
            ticks["aggressor"].to_numpy(),
            ticks["conditions"].to_numpy(),
            is_c | is_e,
            is_c & regular,
        )

    def __len__(self) -> int:
        return len(self.ns)

    @property
    def regular_bounds(self) -> tuple[int, int] | None:
        """The regular session's open and close in epoch ns."""
        return None if self.session is None else (self.session.open.value, self.session.close.value)

    @functools.cached_property
    def ohlc(self) -> tuple[float, float, float, float, int, float]:
        """Regular-session basis-C open, high, low, close; the day's volume and VWAP numerator."""
        return K.day_stats(self.price, self.size, self.regular_c)

    @property
    def midnight(self) -> int:
        return int(pd.Timestamp(self.day).tz_localize(TZ).value)


def _basis_masks(basis: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of basis C and E: one byte per row when every basis is one letter (twice as fast as two
    comparisons of Python strings)."""
    try:
        joined = "".join(basis.tolist()).encode("latin-1")
    except (TypeError, UnicodeEncodeError):  # a missing or odd basis somewhere: compare as objects
        joined = b""
    if len(joined) != len(basis):
        return basis == "C", basis == "E"
    letters = np.frombuffer(joined, np.uint8)
    return letters == ord("C"), letters == ord("E")
