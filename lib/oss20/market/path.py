"""The daily price path: per (seed, symbol) one walk over every NYSE session of the calendar.

Each day's simulation starts from it (previous close, open, official close), and
``Market.fundamentals`` reads its closes, so it is computed once per symbol.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from oss20 import calendar
from oss20.market.universe import Instrument, symbol_key

ANCHOR = dt.date(2025, 1, 2)  # the day the path passes through Instrument.price
_MEAN_REVERSION = 1 / 500  # per session, on the log price around the anchor level
_GAP_SIGMA = 0.35  # overnight gap sd as a fraction of daily sigma


@lru_cache(maxsize=1)
def all_sessions() -> npt.NDArray[np.int64]:
    """Ordinals of every NYSE session the calendar knows (2006..2027)."""
    days = calendar.sessions(dt.date(1900, 1, 1), dt.date(2200, 1, 1))  # clipped to the calendar
    return np.array([d.toordinal() for d in days], dtype=np.int64)


@dataclass(frozen=True)
class DailyPath:
    """One symbol's daily path; position p = session index + 1, position 0 a virtual day before."""

    log_open: npt.NDArray[np.float64]
    log_close: npt.NDArray[np.float64]
    tick: npt.NDArray[np.float64]
    open_px: npt.NDArray[np.float64]  # opening print price, on the day's tick grid
    close_px: npt.NDArray[np.float64]  # official close (closing cross price), on the day's tick grid

    @staticmethod
    def position(day: dt.date) -> int:
        """The position of session ``day``; ValueError if it is not an NYSE trading day."""
        ordinals = all_sessions()
        i = int(np.searchsorted(ordinals, day.toordinal()))
        if i >= len(ordinals) or ordinals[i] != day.toordinal():
            raise ValueError(
                f"{day.isoformat()} is not an NYSE trading day (weekend, holiday or out of range)"
            )
        return i + 1


def _round_to_tick(price: npt.NDArray[np.float64], tick: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    ticks = np.maximum(np.rint(price / tick), 1.0)
    return np.where(tick >= 0.01, np.round(ticks * tick, 2), np.round(ticks * tick, 4))


def daily_path(seed: int, inst: Instrument) -> DailyPath:
    """Log closes over all sessions: an OU walk around log(price), zero at the anchor day."""
    ordinals = all_sessions()
    n = len(ordinals) + 1
    anchor = int(np.searchsorted(ordinals, ANCHOR.toordinal())) + 1
    rng = np.random.default_rng([seed, symbol_key(inst.symbol), 0x50415448])
    eps = rng.standard_normal(n) * inst.volatility
    gaps = rng.standard_normal(n) * (_GAP_SIGMA * inst.volatility)
    phi = 1.0 - _MEAN_REVERSION
    x = np.zeros(n)
    # x[a + k] = phi * x[a + k - 1] + eps, solved in closed form forwards and backwards
    k = np.arange(1, n - anchor, dtype=np.float64)
    if len(k):
        x[anchor + 1 :] = phi**k * np.cumsum(phi**-k * eps[anchor + 1 :])
    k = np.arange(1, anchor + 1, dtype=np.float64)
    x[anchor - 1 :: -1] = phi**k * np.cumsum(phi**-k * eps[anchor - 1 :: -1])
    log_close = math.log(inst.price) + x
    log_open = np.empty(n)
    log_open[1:] = log_close[:-1] + gaps[1:]
    log_open[0] = log_close[0] - gaps[0]
    ref = np.exp(np.concatenate(([log_close[0]], log_close[:-1])))
    tick = np.where(ref >= 1.0, 0.01, 0.0001)
    return DailyPath(
        log_open=log_open,
        log_close=log_close,
        tick=tick,
        open_px=_round_to_tick(np.exp(log_open), tick),
        close_px=_round_to_tick(np.exp(log_close), tick),
    )
