"""One symbol-day: run the kernels for it (``run_day``), hold its rows (``Day``), build its frames.

Also the day's trading halt, drawn apart from the rest so that it does not depend on activity.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from oss20 import calendar
from oss20.market._kernels import (
    BASIS,
    CONDITIONS,
    CONTENTS,
    EVENTS_PER_TRADE,
    F64,
    I8,
    I16,
    I64,
    P_TRADE_EVENT,
    Q_B,
    US,
    carry,
    core_prints,
    detail_rows,
    trade_events,
)
from oss20.market.intraday import intensity, venue_tables
from oss20.market.path import DailyPath
from oss20.market.universe import Instrument, symbol_key
from oss20.schema import timestamps

Summary = tuple[float, float, float, float, int]
"""A day's (open, high, low, close, volume) over its basis-C prints: its daily bar."""

_HALT_PROBABILITY = 0.03


@dataclass(frozen=True)
class Day:
    """Every Level 1 update of one symbol-day as row arrays: the state after each (see ``_kernels.carry``)."""

    t_ns: I64  # UTC epoch ns
    contents: I8  # int8 code into CONTENTS; below Q_B on trade rows
    price: F64
    size: I64
    total_volume: I64
    venue: I16
    tick_id: I64
    basis: I8  # int8 code into BASIS
    cond: I8  # int8 code into CONDITIONS
    aggressor: I8
    bid: F64
    ask: F64
    bid_size: I64
    ask_size: I64
    open: F64
    high: F64
    low: F64
    prev_close: float

    def __len__(self) -> int:
        return len(self.t_ns)

    @property
    def trades(self) -> npt.NDArray[np.intp]:
        """Row indices of the trades."""
        return np.flatnonzero(self.contents < Q_B)


def halt_window(seed: int, symbol: str, sess: calendar.Session) -> tuple[int, int] | None:
    """(start, end) seconds from 04:00 of this symbol-day's halt, or None; activity-independent."""
    rng = np.random.default_rng([seed, symbol_key(symbol), sess.day.toordinal(), 0x48414C54])
    if rng.random() >= _HALT_PROBABILITY:
        return None
    pre_ns = sess.pre_open.value
    open_s = int((sess.open.value - pre_ns) // 10**9)
    close_s = int((sess.close.value - pre_ns) // 10**9)
    start = int(rng.integers(open_s + 900, close_s - 1800 - 900))
    return start, start + int(rng.integers(300, 901))


def run_day(
    inst: Instrument,
    path: DailyPath,
    sess: calendar.Session,
    halt: tuple[int, int] | None,
    seed: int,
    activity: float,
    full: bool,
) -> tuple[Summary, Day | None]:
    """Simulate one symbol-day: its (open, high, low, close, volume), and its rows when ``full``.

    Both answers come from the same draws (the rows only add draws from the detail stream), so
    a summary computed alone is exactly the summary of the rows.
    """
    day = sess.day
    p = DailyPath.position(day)
    rng = np.random.default_rng([seed, symbol_key(inst.symbol), day.toordinal()])
    tick = float(path.tick[p])
    prev_close = float(path.close_px[p - 1])
    ref = math.exp(path.log_close[p - 1])
    lot = 10 if ref < 1.0 else 1  # sub-$1 names trade and quote in bigger sizes

    pre_ns = sess.pre_open.value
    open_s = int((sess.open.value - pre_ns) // 10**9)
    close_s = int((sess.close.value - pre_ns) // 10**9)
    end_s = int((sess.post_close.value - pre_ns) // 10**9)
    open_us, close_us, end_us = open_s * US, close_s * US, end_s * US
    w, cum = intensity(open_s, close_s, end_s)
    if halt is not None:
        w = w.copy()
        w[halt[0] : halt[1]] = 0.0
        cum = np.concatenate(([0.0], np.cumsum(w)))
    mass = float(cum[-1])

    # segments [lo, hi]; the open and close microseconds are kept for the auction prints
    bounds = [(0, open_us - 1)]
    if halt is None:
        bounds.append((open_us + 1, close_us - 1))
    else:
        bounds += [(open_us + 1, halt[0] * US - 1), (halt[1] * US, close_us - 1)]
    bounds.append((close_us + 1, end_us - 1))
    seg_lo, seg_hi = (np.array(c, dtype=np.int64) for c in zip(*bounds, strict=True))

    expected = inst.trades_per_day * activity * EVENTS_PER_TRADE * mass
    n = int(rng.poisson(expected * P_TRADE_EVENT))
    mu = expected * (1 - P_TRADE_EVENT)  # quotes per unit of business time
    state = rng.bit_generator.random_raw(2)
    gen = np.random.Generator(np.random.PCG64(rng.bit_generator.random_raw()))
    u_open, u_close = cum[open_s] / mass, cum[close_s] / mass
    tu, kind, prints, anchor = trade_events(state, gen, n, mu, u_open, u_close)

    liquidity = inst.trades_per_day / 10_000
    spread_bps = 2.5 / math.sqrt(liquidity) * (1 + 5 / max(ref, 0.01))
    k_mean = max(ref * spread_bps * 1e-4 / tick, 1.0)
    levels = np.array(
        [u_open, u_close, math.log(prev_close), path.log_open[p], path.log_close[p], inst.volatility]
    )
    prices = np.array(
        [round(1 / tick), path.open_px[p], path.close_px[p], pre_ns, open_us, close_us], dtype=np.float64
    )
    mean_lots = 1 + inst.trades_per_day / 40_000
    shape = np.array([lot, k_mean - 1 + 0.15, 2 * k_mean + 0.15, inst.listing, math.log1p(-1 / mean_lots)])
    venues = venue_tables()
    m, n_prints = (len(tu) + 1, int(prints.sum())) if full else (0, 0)
    quotes = (np.empty(m), np.empty(m, np.int64), np.empty(m, np.int64))
    out = (
        np.empty(n_prints, np.float64),
        np.empty(n_prints, np.int64),
        np.empty(n_prints, np.int16),
        np.empty(n_prints, np.int8),
        np.empty(n_prints, np.int8),
        np.empty(n_prints, np.int8),
    )
    summary = core_prints(
        state, gen, full, tu, kind, prints, anchor, levels, prices, shape, venues, quotes, out
    )
    if not full:
        return summary, None
    p_price, p_size, p_venue, p_basis, p_cond, p_aggr = out
    clock = (w, cum, seg_lo, seg_hi)
    t_ns, contents, row_print, bid, ask, bid_size, ask_size, p_tick = detail_rows(
        state, gen, tu, kind, prints, anchor, quotes, mu, levels, prices, shape, clock, p_venue, venues[5]
    )
    carried = carry(row_print, contents, (p_price, p_size, p_venue, p_tick, p_basis, p_cond, p_aggr))
    price, size, venue, tick_id, basis, cond, aggressor, total_volume, open_, high, low = carried
    return summary, Day(
        t_ns=t_ns,
        contents=contents,
        price=price,
        size=size,
        total_volume=total_volume,
        venue=venue,
        tick_id=tick_id,
        basis=basis,
        cond=cond,
        aggressor=aggressor,
        bid=bid,
        ask=ask,
        bid_size=bid_size,
        ask_size=ask_size,
        open=open_,
        high=high,
        low=low,
        prev_close=prev_close,
    )


def day_frame(
    symbol: str, d: Day, rows: npt.NDArray[np.intp] | None, columns: Mapping[str, object]
) -> pd.DataFrame:
    """``columns`` of the day's rows (all of them, or those indexed by ``rows``).

    The row arrays already have the schema's dtypes, so the frame is built without the copies
    ``schema.conform`` would make (the unit tests check the dtypes).
    """

    def take(values: np.ndarray) -> np.ndarray:
        return values if rows is None else values[rows]

    n = len(d) if rows is None else len(rows)

    def column(name: str) -> np.ndarray | pd.DatetimeIndex:
        if name == "timestamp":
            return timestamps(take(d.t_ns))
        if name == "symbol":
            return np.full(n, symbol, dtype=object)
        if name == "close":
            return np.full(n, d.prev_close)
        if name in _CODED:
            field, table = _CODED[name]
            return table[take(getattr(d, field))]
        return take(getattr(d, _FIELD.get(name, name)))

    return pd.DataFrame({name: column(name) for name in columns}, copy=False)


# frame columns stored under another Day field, and the coded (string) ones
_FIELD = {"market_center": "venue"}
_CODED = {
    "basis": ("basis", BASIS),
    "conditions": ("cond", CONDITIONS),
    "contents": ("contents", CONTENTS),
}
