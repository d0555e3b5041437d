"""A deterministic synthetic US equity market: the ground truth the IQFeed simulator serves.

``Market(seed, activity)`` turns (symbol, trading day) into every Level 1 update of the
extended day (04:00-20:00 ET): trades with the quote in force, and the quote changes between
them. The same (seed, symbol, day, activity) always gives the same frames, TickIDs included,
in any process, so whatever a collector stored can be compared tick by tick with the truth.

How a day is made (numba kernels, no per-trade Python loops):

- Daily path: per (seed, symbol) one log-price walk over every NYSE session of the calendar,
  anchored at ``Instrument.price`` on 2025-01-02, with weak mean reversion so twenty years stay
  plausible. Open = previous close times a small overnight gap. The official close (closing
  cross price) and the opening print are that path rounded to the day's tick.
- Events: quote changes and trades arrive as Poisson streams whose intensity is U-shaped
  in regular hours and a few per cent of it in pre-market and after-hours; its cumulative
  intensity is the "business time" of a Brownian bridge for the mid price (prev close ->
  open -> close -> close), so volatility follows activity.
- Two random streams: the core draws trade events, the last quote before each (its anchor)
  and every print; the detail stream fills in the other quotes (Poisson and bridged given the
  anchors), quote sizes and TickIDs. Daily bars run the core alone, so they cost a few ms a
  day and still agree exactly with the trades.
- Quotes sit around the mid on the day's tick grid (0.01 at or above $1, 0.0001 below); trades
  hit the quote in force (buys at the ask, sells at the bid), off-exchange NTRF prints often at
  sub-penny prices inside the spread, intermarket sweeps walk the book across lit venues in
  one microsecond.
- TickIDs are sequences per (symbol, day, market center) with gaps, as in real IQFeed data.

Everything is documented in ../shared/IQFEED_PROTOCOL.md ("Tick identity, and what real trade
data looks like"). Market center and trade condition codes beyond the ones named there are ours.
"""

from __future__ import annotations

import datetime as dt
import math
import os
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from numba import njit

from oss20 import calendar
from oss20.schema import LEVEL1_COLUMNS, TICK_COLUMNS, TZ

__all__ = ["MARKET_CENTERS", "SECURITY_TYPE_EQUITY", "TRADE_CONDITIONS", "UNIVERSE", "Instrument", "Market"]

SECURITY_TYPE_EQUITY = 1
"""IQFeed's SST code for equities; ETFs are listed as equities too."""


@dataclass(frozen=True)
class Instrument:
    """One tradable symbol and the parameters its synthetic days are drawn from."""

    symbol: str
    name: str
    asset_class: str  # "equity" or "etf"
    price: float  # price level (the close) on 2025-01-02
    trades_per_day: int  # regular-session trades per full day at activity 1.0
    volatility: float  # daily sigma of log returns
    listing: int  # listing market center code (see MARKET_CENTERS)


# Market centers. 5, 11 and 19 are the codes seen in the real feed (IQFEED_PROTOCOL.md);
# the others are ours, chosen for the remaining venues seen printing AAPL.
MARKET_CENTERS: dict[int, str] = {
    5: "NASDAQ",
    6: "NYSE",
    7: "NYSE American",
    8: "NASDAQ BX",
    9: "NASDAQ PSX",
    10: "NYSE National (NSX)",
    11: "NYSE Arca",
    12: "Cboe BZX",
    13: "Cboe BYX",
    14: "Cboe EDGX",
    15: "Cboe EDGA",
    16: "IEX",
    17: "MEMX",
    18: "MIAX Pearl",
    19: "NTRF (FINRA/Nasdaq TRF Carteret)",
    20: "NYSE TRF (FINRA/NYSE TRF)",
    21: "NTRF Chicago (FINRA/Nasdaq TRF Chicago)",
    22: "NYSE Chicago (CHX)",
}

# Trade conditions, two hex digits each; a print's conditions are its codes concatenated in
# ascending order ("3D87", "0517", "1787"). 01, 05, 17, 3D and 87 are DTN's codes as seen in
# the real feed; every other code here is ours (the simulator's STC table serves this dict).
TRADE_CONDITIONS: dict[str, str] = {
    "01": "REGULAR",
    "05": "AVERAGE PRICE TRADE",
    "17": "FORM T (EXTENDED HOURS)",
    "3D": "INTERMARKET SWEEP",
    "87": "ODD LOT",
    # ours:
    "02": "ACQUISITION",
    "03": "BUNCHED TRADE",
    "04": "CASH SALE",
    "06": "NEXT DAY",
    "07": "SELLER",
    "08": "DERIVATIVELY PRICED",
    "09": "PRIOR REFERENCE PRICE",
    "1A": "OPENING PRINT (MARKET CENTER OPENING TRADE)",
    "1B": "REOPENING PRINT",
    "1C": "CLOSING PRINT (MARKET CENTER OFFICIAL CLOSE)",
    "20": "SOLD OUT OF SEQUENCE",
    "21": "SOLD LAST",
    "29": "TRADE THROUGH EXEMPT",
    "30": "CONTINGENT TRADE",
    "31": "QUALIFIED CONTINGENT TRADE",
}

_NASDAQ, _NYSE, _ARCA, _NTRF = 5, 6, 11, 19

UNIVERSE: dict[str, Instrument] = {
    i.symbol: i
    for i in (
        Instrument("AAPL", "APPLE INC", "equity", 243.85, 200_000, 0.016, _NASDAQ),
        Instrument("MSFT", "MICROSOFT CORP", "equity", 418.58, 120_000, 0.014, _NASDAQ),
        Instrument("NVDA", "NVIDIA CORP", "equity", 138.31, 220_000, 0.030, _NASDAQ),
        Instrument("AMZN", "AMAZON.COM INC", "equity", 220.22, 120_000, 0.020, _NASDAQ),
        Instrument("GOOGL", "ALPHABET INC CL A", "equity", 189.43, 100_000, 0.018, _NASDAQ),
        Instrument("META", "META PLATFORMS INC CL A", "equity", 599.24, 90_000, 0.022, _NASDAQ),
        Instrument("TSLA", "TESLA INC", "equity", 379.28, 210_000, 0.035, _NASDAQ),
        Instrument("AMD", "ADVANCED MICRO DEVICES INC", "equity", 120.63, 100_000, 0.030, _NASDAQ),
        Instrument("INTC", "INTEL CORP", "equity", 19.92, 80_000, 0.030, _NASDAQ),
        Instrument("JPM", "JPMORGAN CHASE & CO", "equity", 237.72, 50_000, 0.013, _NYSE),
        Instrument("XOM", "EXXON MOBIL CORP", "equity", 107.85, 50_000, 0.013, _NYSE),
        Instrument("JNJ", "JOHNSON & JOHNSON", "equity", 143.82, 35_000, 0.010, _NYSE),
        Instrument("KO", "COCA-COLA CO", "equity", 62.16, 30_000, 0.009, _NYSE),
        Instrument("PFE", "PFIZER INC", "equity", 26.33, 45_000, 0.014, _NYSE),
        Instrument("F", "FORD MOTOR CO", "equity", 9.95, 40_000, 0.018, _NYSE),
        Instrument("SPY", "SPDR S&P 500 ETF TRUST", "etf", 584.64, 220_000, 0.009, _ARCA),
        Instrument("QQQ", "INVESCO QQQ TRUST SERIES 1", "etf", 510.23, 180_000, 0.011, _NASDAQ),
        Instrument("IWM", "ISHARES RUSSELL 2000 ETF", "etf", 220.96, 80_000, 0.012, _ARCA),
        Instrument("XLF", "FINANCIAL SELECT SECTOR SPDR", "etf", 47.62, 30_000, 0.011, _ARCA),
        Instrument("GLD", "SPDR GOLD SHARES", "etf", 245.42, 25_000, 0.009, _ARCA),
        # a fictional sub-$1 name: quotes and trades on a 0.0001 grid
        Instrument("PNNY", "PENNY EXAMPLE CORP (SYNTHETIC)", "equity", 0.4321, 15_000, 0.045, _NASDAQ),
    )
}

# Shares outstanding (millions), for the fundamental message only.
_SHARES_MM: dict[str, float] = {
    "AAPL": 15_037, "MSFT": 7_434, "NVDA": 24_490, "AMZN": 10_515, "GOOGL": 5_833, "META": 2_524,
    "TSLA": 3_210, "AMD": 1_621, "INTC": 4_330, "JPM": 2_799, "XOM": 4_395, "JNJ": 2_407,
    "KO": 4_308, "PFE": 5_667, "F": 3_974, "SPY": 1_031, "QQQ": 565, "IWM": 318, "XLF": 1_040,
    "GLD": 293, "PNNY": 412,
}  # fmt: skip

# Share of all trades per market center (IQFEED_PROTOCOL.md: AAPL near the close).
_VENUE_SHARE: dict[int, float] = {
    5: 45.0, 19: 18.0, 11: 12.0, 12: 7.0, 16: 7.0, 14: 4.0, 17: 2.0, 6: 1.0, 20: 0.8,
    13: 0.6, 18: 0.6, 8: 0.5, 15: 0.5, 9: 0.4, 21: 0.3, 10: 0.2, 7: 0.2, 22: 0.2,
}  # fmt: skip
_TRF = (19, 20, 21)
# Mean TickID step per trade: venues number other messages too (AAPL's close: NASDAQ ~150k
# TickIDs for ~90k trades, NTRF ~265k for ~36k).
_TICK_STEP: dict[int, float] = {5: 1.7, 19: 7.0, 11: 2.3, 12: 2.4, 16: 1.4}
_DEFAULT_TICK_STEP = 2.0

# Event mix. Sweeps are ~37% of regular-session prints in bursts of ~4.6 prints.
_SWEEP_SHARE = 0.37
_SWEEP_MEAN_EXTRA = 2.6  # prints per sweep = 2 + Poisson(2.6), capped
_SWEEP_MAX = 10
_QUOTES_PER_TRADE = 1.5
_SWEEP_MEAN = 2 + _SWEEP_MEAN_EXTRA
_TRADE_EVENTS_PER_TRADE = 1 - _SWEEP_SHARE + _SWEEP_SHARE / _SWEEP_MEAN
_EVENTS_PER_TRADE = _QUOTES_PER_TRADE + _TRADE_EVENTS_PER_TRADE
_P_TRADE_EVENT = _TRADE_EVENTS_PER_TRADE / _EVENTS_PER_TRADE
_P_SWEEP = (_SWEEP_SHARE / _SWEEP_MEAN) / _TRADE_EVENTS_PER_TRADE

_HALT_PROBABILITY = 0.03
_ANCHOR = dt.date(2025, 1, 2)
_MEAN_REVERSION = 1 / 500  # per session, on the log price around the anchor level
_GAP_SIGMA = 0.35  # overnight gap sd as a fraction of daily sigma

# Codes of the string columns (small object arrays indexed by int8 codes).
_BASIS = np.array(["", "C", "E", "O"], dtype=object)
_B_NONE, _B_C, _B_E, _B_O = 0, 1, 2, 3
_CONTENTS = np.array(["", "C", "E", "O", "b", "a", "ba"], dtype=object)
_Q_B, _Q_A, _Q_BA = 4, 5, 6
_CONDITIONS = np.array(
    ["", "01", "87", "3D", "3D87", "17", "1787", "05", "0517", "29", "1A", "1C"], dtype=object
)
(
    _C_NONE, _C_REG, _C_ODD, _C_ISO, _C_ISO_ODD, _C_T, _C_T_ODD, _C_AVG, _C_T_AVG, _C_TTE, _C_OPEN, _C_CLOSE,
) = range(12)  # fmt: skip

# Trade event kinds (ordered: auction prints last).
_SINGLE, _SWEEP, _OPEN_PRINT, _CLOSE_PRINT = 1, 2, 3, 4

_US = 1_000_000
_NS_PER_US = 1_000


def _crc(symbol: str) -> int:
    return zlib.crc32(symbol.encode())


def _decimals(tick: float) -> int:
    return 2 if tick >= 0.01 else 4


# ---------------------------------------------------------------------------------------------
# Daily path
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _all_sessions() -> np.ndarray:
    """Ordinals of every NYSE session the calendar knows (2006..2027)."""
    days = calendar.sessions(dt.date(1900, 1, 1), dt.date(2200, 1, 1))  # clipped to the calendar
    return np.array([d.toordinal() for d in days], dtype=np.int64)


@dataclass(frozen=True)
class _Path:
    """One symbol's daily path; position p = session index + 1, position 0 a virtual day before."""

    log_open: np.ndarray
    log_close: np.ndarray
    tick: np.ndarray
    open_px: np.ndarray  # opening print price, on the day's tick grid
    close_px: np.ndarray  # official close (closing cross price), on the day's tick grid

    @staticmethod
    def position(day: dt.date) -> int:
        ordinals = _all_sessions()
        i = int(np.searchsorted(ordinals, day.toordinal()))
        if i >= len(ordinals) or ordinals[i] != day.toordinal():
            raise ValueError(
                f"{day.isoformat()} is not an NYSE trading day (weekend, holiday or out of range)"
            )
        return i + 1


def _round_to_tick(price: np.ndarray, tick: np.ndarray) -> np.ndarray:
    ticks = np.maximum(np.rint(price / tick), 1.0)
    return np.where(tick >= 0.01, np.round(ticks * tick, 2), np.round(ticks * tick, 4))


def _daily_path(seed: int, inst: Instrument) -> _Path:
    """Log closes over all sessions: an OU walk around log(price), zero at the anchor day."""
    ordinals = _all_sessions()
    n = len(ordinals) + 1
    anchor = int(np.searchsorted(ordinals, _ANCHOR.toordinal())) + 1
    rng = np.random.default_rng([seed, _crc(inst.symbol), 0x50415448])
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
    return _Path(
        log_open=log_open,
        log_close=log_close,
        tick=tick,
        open_px=_round_to_tick(np.exp(log_open), tick),
        close_px=_round_to_tick(np.exp(log_close), tick),
    )


# ---------------------------------------------------------------------------------------------
# Intraday shape and venues
# ---------------------------------------------------------------------------------------------


@lru_cache(maxsize=8)
def _intensity(open_s: int, close_s: int, end_s: int) -> tuple[np.ndarray, np.ndarray]:
    """Relative event intensity per second of the extended day (seconds from 04:00).

    Regular hours: U-shaped (heavy open and close), mass 1 per full 6.5 h session; pre-market
    2.5% and after-hours 2% of a full session's mass, ramping towards and decaying from it.
    Returns the weights and their cumulative sum (length end_s + 1, from 0).
    """
    s = np.arange(end_s, dtype=np.float64) + 0.5
    w = np.zeros(end_s)
    length = close_s - open_s
    reg = slice(open_s, close_s)
    x = (s[reg] - open_s) / length
    shape = (
        1 + 2.0 * (2 * x - 1) ** 2 + 2.5 * np.exp(-x * length / 600) + 3.0 * np.exp(-(1 - x) * length / 900)
    )
    w[reg] = shape / shape.sum() * (length / 23_400)
    pre = np.exp(-(open_s - s[:open_s]) / 3600) + 0.03
    w[:open_s] = pre / pre.sum() * 0.025
    post = np.exp(-(s[close_s:] - close_s) / 1800) + 0.05
    w[close_s:] = post / post.sum() * 0.02
    cum = np.concatenate(([0.0], np.cumsum(w)))
    w.setflags(write=False)
    cum.setflags(write=False)
    return w, cum


@lru_cache(maxsize=1)
def _venues() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(codes, single-print probabilities, lit codes, lit weights, TickID step per code).

    Sweeps take distinct lit venues, which flattens their venue mix; the single-print mix is
    calibrated (by a fixed-seed simulation) so that all prints together match _VENUE_SHARE.
    """
    codes = np.array(list(_VENUE_SHARE), dtype=np.int16)
    target = np.array(list(_VENUE_SHARE.values()))
    target = target / target.sum()
    lit = ~np.isin(codes, _TRF)
    lit_codes, lit_w = codes[lit], target[lit] / target[lit].sum()
    rng = np.random.default_rng(0)
    n = 20_000
    k = np.minimum(2 + rng.poisson(_SWEEP_MEAN_EXTRA, n), _SWEEP_MAX)
    order = _weighted_distinct(rng, lit_w, n)
    picks = order[np.arange(_SWEEP_MAX) < k[:, None]]
    sweep_share = np.zeros(len(codes))
    sweep_share[lit] = np.bincount(picks, minlength=len(lit_codes)) / len(picks)
    single = np.maximum(target - _SWEEP_SHARE * sweep_share, 0.0005) / (1 - _SWEEP_SHARE)
    step = np.full(int(codes.max()) + 1, _DEFAULT_TICK_STEP)
    for code, mean in _TICK_STEP.items():
        step[code] = mean
    return codes, single / single.sum(), lit_codes, lit_w, step


def _weighted_distinct(rng: np.random.Generator, weights: np.ndarray, n: int) -> np.ndarray:
    """n rows of venue indices in weighted random order without replacement (Efraimidis-Spirakis)."""
    keys = np.log(rng.random((n, len(weights)))) / weights
    return np.argsort(-keys, axis=1)[:, :_SWEEP_MAX]


# ---------------------------------------------------------------------------------------------
# Random streams (numba): splitmix64, so kernels draw only what they use, identically anywhere
# ---------------------------------------------------------------------------------------------

_CORE, _DETAIL = 0, 1  # stream 0 decides prices and sizes; stream 1 only cosmetic detail
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SH11, _SH27, _SH30, _SH31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TWO_M53 = 2.0**-53


@njit(cache=True, nogil=True)
def _uniform(state: np.ndarray, k: int) -> float:
    """A uniform in (0, 1) from stream ``k`` (splitmix64 over ``state[k]``)."""
    z = state[k] + _GOLDEN
    state[k] = z
    z = (z ^ (z >> _SH30)) * _MIX1
    z = (z ^ (z >> _SH27)) * _MIX2
    z = z ^ (z >> _SH31)
    return ((z >> _SH11) + 0.5) * _TWO_M53


@njit(cache=True, nogil=True)
def _normal(state: np.ndarray, spare: np.ndarray) -> float:
    """A standard normal from the core stream (Marsaglia's polar method; the pair's second kept)."""
    if spare[0] != 0.0:
        spare[0] = 0.0
        return spare[1]
    while True:
        a = 2.0 * _uniform(state, _CORE) - 1.0
        b = 2.0 * _uniform(state, _CORE) - 1.0
        s = a * a + b * b
        if 0.0 < s < 1.0:
            break
    f = math.sqrt(-2.0 * math.log(s) / s)
    spare[0], spare[1] = 1.0, b * f
    return a * f


@njit(cache=True, nogil=True)
def _poisson(state: np.ndarray, k: int, lam: float) -> int:
    """A Poisson(lam) draw by inversion (small lam only: spreads and sweep lengths)."""
    u = _uniform(state, k)
    p = math.exp(-lam)
    f, x = p, 0
    while u > f and x < 1000:
        x += 1
        p *= lam / x
        f += p
    return x


@njit(cache=True, nogil=True)
def _geometric(state: np.ndarray, k: int, log_q: float) -> int:
    """A geometric draw on 1, 2, ... with failure log-probability ``log_q`` = log(1 - p)."""
    return 1 + int(math.log(_uniform(state, k)) / log_q)


# ---------------------------------------------------------------------------------------------
# One day (numba kernels; the summary of daily bars runs the same code without writing rows)
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _piece(u: float, u_open: float, u_close: float) -> int:
    """The bridge piece (0 pre-market, 1 regular, 2 after-hours) of business time ``u``."""
    return 0 if u < u_open else (2 if u > u_close else 1)


@njit(cache=True, nogil=True)
def _piece_ends(p: int, levels: np.ndarray) -> tuple[float, float, float, float, float]:
    """(u start, u end, log mid at start, log mid at end, variance) of bridge piece ``p``."""
    u_open, u_close, log_prev, log_open, log_close, sigma = (
        levels[0], levels[1], levels[2], levels[3], levels[4], levels[5]
    )  # fmt: skip
    if p == 0:
        return 0.0, u_open, log_prev, log_open, (0.4 * sigma) ** 2
    if p == 1:
        return u_open, u_close, log_open, log_close, sigma**2
    return u_close, 1.0, log_close, log_close, (0.3 * sigma) ** 2


@njit(cache=True, nogil=True)
def _quote_ticks(state: np.ndarray, k: int, x: float, lam: float, per_unit: float) -> tuple[int, int]:
    """(bid, ask) in ticks around the log mid ``x``: a spread of 1 + Poisson(lam) ticks."""
    spread = 1 + _poisson(state, k, lam)
    nb = max(math.floor(math.exp(x) * per_unit - spread / 2 + 0.5), 1)
    return nb, nb + spread


@njit(cache=True, nogil=True)
def _trade_events(
    state: np.ndarray, gen: np.random.Generator, n: int, mu: float, u_open: float, u_close: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The day's trade events in business time: (u, kind, prints, u of the last quote before or -1).

    n market trade events (uniform order statistics) plus the auction prints at the open and
    the close. Quotes arrive at rate ``mu``; only the last quote before each trade event (its
    anchor) matters for prices, so it is drawn here, backwards from the trade, and the other
    quotes are filled in later (_rows) given it.
    """
    acc = np.empty(n)
    total = 0.0
    for i in range(n):
        total += gen.standard_exponential()
        acc[i] = total
    total += gen.standard_exponential()
    m = n + 2
    tu, kind = np.empty(m), np.empty(m, np.int8)
    prints, anchor = np.ones(m, np.int64), np.empty(m)
    j, opened, closed = 0, False, False
    for i in range(n + 1):
        ui = acc[i] / total if i < n else 2.0
        if not opened and ui >= u_open:
            tu[j], kind[j], opened, j = u_open, _OPEN_PRINT, True, j + 1
        if not closed and ui >= u_close:
            tu[j], kind[j], closed, j = u_close, _CLOSE_PRINT, True, j + 1
        if i < n:
            tu[j], kind[j], j = ui, _SINGLE, j + 1
    for k in range(m):
        back = tu[k] - gen.standard_exponential() / mu
        anchor[k] = back if back > (tu[k - 1] if k else 0.0) else -1.0
        if kind[k] == _SINGLE and u_open < tu[k] < u_close and _uniform(state, _CORE) < _P_SWEEP:
            kind[k] = _SWEEP
            prints[k] = min(2 + _poisson(state, _CORE, _SWEEP_MEAN_EXTRA), _SWEEP_MAX)
    return tu, kind, prints, anchor


@njit(cache=True, nogil=True)
def _prints(
    state: np.ndarray,
    gen: np.random.Generator,
    full: bool,
    tu: np.ndarray,
    kind: np.ndarray,
    prints: np.ndarray,
    anchor: np.ndarray,
    levels: np.ndarray,
    prices: np.ndarray,
    shape: np.ndarray,
    venues: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    quotes: tuple[np.ndarray, np.ndarray, np.ndarray],
    out: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray],
) -> tuple[float, float, float, float, int]:
    """Anchor quotes and every print, from the core stream; writes them when ``full``.

    ``levels``: u_open, u_close, log prev close, log open, log close, sigma. ``prices``: ticks
    per price unit, open print, closing print, pre_ns, open and close µs. ``shape``: lot,
    spread extras (regular, extended), listing, log(1 - 1/mean quote lots). ``quotes`` gets
    the log mid, bid and ask ticks in force at each trade event (row 0: the 04:00 quote),
    ``out`` each print's price, size, venue, basis, conditions and aggressor. Returns the
    day's (open, high, low, close, volume) over basis-C prints: its daily bar.
    """
    u_open, u_close, sigma = levels[0], levels[1], levels[5]
    per_unit, open_px, close_px = prices[0], prices[1], prices[2]
    lot, k_reg, k_ext = int(shape[0]), shape[1], shape[2]
    codes, single_cdf, lit_codes, lit_w, is_trf, _ = venues
    q_x, q_b, q_a = quotes
    price, size, venue, basis, cond, aggressor = out
    used = np.zeros(len(lit_codes), np.bool_)
    sub = 10_000.0 / per_unit  # price ticks -> 1e-4 units
    piece = 0
    us, ue, x, b, var = _piece_ends(0, levels)
    uu0 = 0.0
    qb, qa = _quote_ticks(state, _CORE, x, k_ext, per_unit)  # the 04:00 quote
    if full:
        q_x[0], q_b[0], q_a[0] = x, qb, qa
    first_c, last_c, high, low, others = np.nan, np.nan, -np.inf, np.inf, 0
    o_row, c_row, r = 0, 0, 0
    for k in range(len(tu)):
        if anchor[k] >= 0.0:  # the mid: a Brownian bridge in business time, at anchor quotes
            p = _piece(anchor[k], u_open, u_close)
            if p != piece:
                piece, uu0 = p, 0.0
                us, ue, x, b, var = _piece_ends(p, levels)
            uu = min(max((anchor[k] - us) / max(ue - us, 1e-12), 0.0), 1.0)
            rem = 1.0 - uu0
            if rem > 1e-12:
                d = uu - uu0
                x += (b - x) * d / rem + math.sqrt(
                    max(var * d * (1.0 - uu) / rem, 0.0)
                ) * gen.standard_normal()
            else:
                x = b
            uu0 = uu
            qb, qa = _quote_ticks(state, _CORE, x, k_reg if p == 1 else k_ext, per_unit)
        if full:
            q_x[k + 1], q_b[k + 1], q_a[k + 1] = x, qb, qa
        mid = math.exp(x)
        ek = kind[k]
        reg = u_open <= tu[k] <= u_close
        side = 1 if _uniform(state, _CORE) < 0.5 else 2
        sweep, single = ek == _SWEEP, ek == _SINGLE
        walk, left = 0.0, 1.0
        if sweep:
            walk = 0.25 + 0.5 * _uniform(state, _CORE)
            used[:] = False
        for j in range(prints[k]):
            aggr, avg, tte, odd = side, False, False, False
            if ek >= _OPEN_PRINT:  # an auction print, sized once the day's volume is known
                v, n_size, px, aggr = int(shape[3]), 0, open_px if ek == _OPEN_PRINT else close_px, 0
                cd = _C_OPEN if ek == _OPEN_PRINT else _C_CLOSE
                if ek == _OPEN_PRINT:
                    o_row = r
                else:
                    c_row = r
            else:
                if sweep:  # distinct lit venues, drawn by weight without replacement
                    pick, acc, i = _uniform(state, _CORE) * left, 0.0, 0
                    for i in range(len(lit_w)):
                        if not used[i]:
                            acc += lit_w[i]
                            if acc >= pick:
                                break
                    while used[i]:
                        i -= 1
                    used[i] = True
                    left -= lit_w[i]
                    v = int(lit_codes[i])
                else:
                    pick, i = _uniform(state, _CORE), 0
                    while i < len(single_cdf) - 1 and single_cdf[i] < pick:
                        i += 1
                    v = int(codes[i])
                # sizes: round lots dominate (median 100), odd lots common, a tail of thousands
                rr = _uniform(state, _CORE)
                if rr < (0.25 if single else 0.15):
                    n_size = min(max(int(math.exp(_uniform(state, _CORE) * math.log(100.0))), 1), 99)
                elif rr < (0.67 if single else 0.65):
                    n_size = 100 * lot
                elif single and rr < 0.88:
                    n_size = 100 * lot * (2 + int(_uniform(state, _CORE) * 8))
                elif single:
                    n_size = int(math.exp(math.log(1500.0) + 0.9 * gen.standard_normal()) * lot) + 100
                else:
                    n_size = 100 * lot * (1 + int(_uniform(state, _CORE) * 4))
                odd = n_size < 100
                if single:
                    r2 = _uniform(state, _CORE)
                    avg = not odd and r2 < 0.003
                    tte = not odd and not avg and reg and r2 > 0.985
                    if 0.96 < r2 <= 0.985:
                        aggr = 0
                if sweep:
                    level = min(int(j * walk), 3)
                    px = (qa + level if side == 1 else max(qb - level, 1)) / per_unit
                else:
                    px = (qa if side == 1 else qb) / per_unit
                if avg:
                    n_size = int(math.exp(math.log(6000.0) + 0.8 * gen.standard_normal()) * lot) + 100
                    v, aggr = _NTRF, 0
                    px = np.rint(mid * math.exp(0.03 * sigma * gen.standard_normal()) * 10_000.0) / 10_000.0
                elif single and is_trf[v] and _uniform(state, _CORE) < 0.6:  # sub-penny, off-exchange
                    frac = 0.05 + 0.9 * _uniform(state, _CORE)
                    px = np.rint((qb + frac * (qa - qb)) * sub) / 10_000.0
                    aggr = 1 if frac >= 0.7 else (2 if frac <= 0.3 else 0)
                if reg:
                    if sweep:
                        cd = _C_ISO_ODD if odd else _C_ISO
                    else:
                        cd = _C_AVG if avg else (_C_ODD if odd else (_C_TTE if tte else _C_REG))
                else:
                    cd = _C_T_AVG if avg else (_C_T_ODD if odd else _C_T)
                others += n_size
            bs = (_B_O if odd or avg else _B_C) if reg else _B_E
            if bs == _B_C:
                if np.isnan(first_c):
                    first_c = px
                last_c, high, low = px, max(high, px), min(low, px)
            if full:
                price[r], size[r], venue[r], basis[r], cond[r], aggressor[r] = px, n_size, v, bs, cd, aggr
            r += 1
    open_size = max(100, int(np.rint(others * (0.002 + 0.006 * _uniform(state, _CORE)) / 100)) * 100)
    close_size = max(100, int(np.rint(others * (0.01 + 0.02 * _uniform(state, _CORE)) / 100)) * 100)
    if full:
        size[o_row], size[c_row] = open_size, close_size
    return first_c, high, low, last_c, others + open_size + close_size


@njit(cache=True, nogil=True)
def _rows(
    state: np.ndarray,
    gen: np.random.Generator,
    tu: np.ndarray,
    kind: np.ndarray,
    prints: np.ndarray,
    anchor: np.ndarray,
    quotes: tuple[np.ndarray, np.ndarray, np.ndarray],
    mu: float,
    levels: np.ndarray,
    prices: np.ndarray,
    shape: np.ndarray,
    clock: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray],
    venue: np.ndarray,
    log_q_step: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The other quotes and every row's time, from the detail stream, given the core's events.

    Quotes between two trade events, before the anchor, are Poisson given it, and their mids a
    Brownian bridge to it; times map business time through the intensity and are nudged apart
    by whole microseconds inside their segment. Returns per row (t_ns, contents of quote rows,
    print index or -1, bid, ask, bid size, ask size) and each print's TickID.
    """
    u_open, u_close = levels[0], levels[1]
    per_unit, pre_ns = prices[0], np.int64(prices[3])
    lot, k_reg, k_ext, log_q_lots = int(shape[0]), shape[1], shape[2], shape[4]
    open_us, close_us = np.int64(prices[4]), np.int64(prices[5])
    w, cum, seg_lo, seg_hi = clock
    q_x, q_b, q_a = quotes
    m = len(tu)
    # quotes per gap (before the anchor of trade event k; index m: after the last trade event)
    count = np.zeros(m + 1, np.int64)
    for k in range(m):
        if anchor[k] >= 0.0:
            count[k] = _poisson(state, _DETAIL, mu * (anchor[k] - (tu[k - 1] if k else 0.0)))
    count[m] = _poisson(state, _DETAIL, mu * (1.0 - tu[m - 1]))
    n_anchor = 0
    for k in range(m):
        n_anchor += anchor[k] >= 0.0
    n_ev = 1 + count.sum() + n_anchor + m
    eu, ek = np.empty(n_ev), np.empty(n_ev, np.int64)  # ek: trade event index, or -1 for a quote
    eb, ea = np.empty(n_ev, np.int64), np.empty(n_ev, np.int64)
    eu[0], ek[0], eb[0], ea[0] = 0.0, -1, q_b[0], q_a[0]
    e, piece = 1, 0
    us, ue, x, b, var = _piece_ends(0, levels)
    uu0 = 0.0
    for k in range(m + 1):
        lo = tu[k - 1] if k else 0.0
        end = anchor[k] if k < m and anchor[k] >= 0.0 else (1.0 if k == m else lo)
        c = count[k]
        if c:
            p = _piece(0.5 * (lo + end), u_open, u_close)
            if p != piece:
                piece, uu0 = p, 0.0
                us, ue, x, b, var = _piece_ends(p, levels)
            span = max(ue - us, 1e-12)
            uu_end, x_end = (1.0, b) if k == m else (min(max((end - us) / span, 0.0), 1.0), q_x[k + 1])
            gaps = np.empty(c + 1)
            for i in range(c + 1):
                gaps[i] = gen.standard_exponential()
            total, acc = gaps.sum(), 0.0
            for i in range(c):
                acc += gaps[i]
                ui = lo + (end - lo) * acc / total
                uu = min(max((ui - us) / span, 0.0), 1.0)
                rem = uu_end - uu0
                if rem > 1e-12:
                    d = uu - uu0
                    x += (x_end - x) * d / rem + math.sqrt(max(var * d * (uu_end - uu) / rem, 0.0)) * (
                        gen.standard_normal()
                    )
                uu0 = uu
                nb, na = _quote_ticks(state, _DETAIL, x, k_reg if p == 1 else k_ext, per_unit)
                eu[e], ek[e], eb[e], ea[e] = ui, -1, nb, na
                e += 1
        if k == m:
            break
        if anchor[k] >= 0.0:
            p = _piece(anchor[k], u_open, u_close)
            if p != piece:
                piece = p
                us, ue, _, b, var = _piece_ends(p, levels)
            x, uu0 = q_x[k + 1], min(max((anchor[k] - us) / max(ue - us, 1e-12), 0.0), 1.0)
            eu[e], ek[e], eb[e], ea[e] = anchor[k], -1, q_b[k + 1], q_a[k + 1]
            e += 1
        eu[e], ek[e], eb[e], ea[e] = tu[k], k, q_b[k + 1], q_a[k + 1]
        e += 1
    # times: business time -> seconds from 04:00 -> whole microseconds, strictly increasing
    t = np.empty(n_ev, np.int64)
    hi = np.empty(n_ev, np.int64)
    s, last_s, last_g, prev = 0, len(w) - 1, len(seg_lo) - 1, np.int64(-1)
    for i in range(n_ev):
        xm = eu[i] * cum[-1]
        while s < last_s and cum[s + 1] <= xm:
            s += 1
        ts = np.int64((s + (xm - cum[s]) / w[s]) * _US) if w[s] > 0 else np.int64(s * _US)
        if ek[i] >= 0 and kind[ek[i]] >= _OPEN_PRINT:
            ts = open_us if kind[ek[i]] == _OPEN_PRINT else close_us
            t[i], hi[i], prev = ts, ts, ts
            continue
        p = _piece(eu[i], u_open, u_close)
        g = 0 if p == 0 else (last_g if p == 2 else 1)
        while p == 1 and g + 1 < last_g and seg_lo[g + 1] <= ts:
            g += 1
        t[i] = max(min(ts, seg_hi[g]), seg_lo[g], prev + 1)
        hi[i], prev = seg_hi[g], t[i]
    for i in range(n_ev - 2, -1, -1):
        t[i] = min(t[i], hi[i], t[i + 1] - 1)
    # rows: one per quote, one per print; quote sizes and TickIDs per market center
    rows = n_ev - m + prints.sum()
    t_ns, contents = np.empty(rows, np.int64), np.empty(rows, np.int8)
    row_print = np.full(rows, -1, np.int64)
    bid, ask = np.empty(rows), np.empty(rows)
    bid_size, ask_size, tick_id = (
        np.empty(rows, np.int64),
        np.empty(rows, np.int64),
        np.empty(len(venue), np.int64),
    )
    counter = np.empty(len(log_q_step), np.int64)
    for c in range(len(counter)):
        counter[c] = int(_uniform(state, _DETAIL) * 40)
    starts = np.cumsum(prints) - prints
    qb, qa, qbs, qas, r = -1, -1, 0, 0, 0
    for i in range(n_ev):
        if ek[i] < 0:
            chb, cha = eb[i] != qb, ea[i] != qa
            if not (chb or cha):
                if _uniform(state, _DETAIL) < 0.5:
                    chb = True
                else:
                    cha = True
            if chb:
                qbs = 100 * lot * _geometric(state, _DETAIL, log_q_lots)
            if cha:
                qas = 100 * lot * _geometric(state, _DETAIL, log_q_lots)
            qb, qa = eb[i], ea[i]
            t_ns[r], contents[r] = (
                pre_ns + t[i] * _NS_PER_US,
                _Q_BA if chb and cha else (_Q_B if chb else _Q_A),
            )
            bid[r], ask[r], bid_size[r], ask_size[r] = qb / per_unit, qa / per_unit, qbs, qas
            r += 1
            continue
        k = ek[i]
        for j in range(prints[k]):
            q, v = starts[k] + j, venue[starts[k] + j]
            counter[v] += _geometric(state, _DETAIL, log_q_step[v])
            t_ns[r], row_print[r], tick_id[q] = pre_ns + t[i] * _NS_PER_US, q, counter[v]
            bid[r], ask[r], bid_size[r], ask_size[r] = qb / per_unit, qa / per_unit, qbs, qas
            r += 1
    return t_ns, contents, row_print, bid, ask, bid_size, ask_size, tick_id


@njit(cache=True, nogil=True)
def _carry(
    row_print: np.ndarray, contents: np.ndarray, prints: tuple[np.ndarray, ...]
) -> tuple[np.ndarray, ...]:
    """Level 1 state after every row: the last print's fields carried over quote rows, running
    total volume and the open/high/low of basis-C prints. Sets ``contents`` of print rows."""
    p_price, p_size, p_venue, p_tick, p_basis, p_cond, p_aggr = prints
    rows = len(row_print)
    price, size, venue, tick_id = (
        np.empty(rows),
        np.empty(rows, np.int64),
        np.empty(rows, np.int16),
        np.empty(rows, np.int64),
    )
    basis, cond, aggressor = np.empty(rows, np.int8), np.empty(rows, np.int8), np.empty(rows, np.int8)
    total_volume, open_, high, low = np.empty(rows, np.int64), np.empty(rows), np.empty(rows), np.empty(rows)
    last, tv, op, hi, lo = -1, 0, np.nan, np.nan, np.nan
    for r in range(rows):
        q = row_print[r]
        if q >= 0:
            last = q
            contents[r] = p_basis[q]
            tv += p_size[q]
            if p_basis[q] == _B_C:
                if np.isnan(op):
                    op, hi, lo = p_price[q], p_price[q], p_price[q]
                hi, lo = max(hi, p_price[q]), min(lo, p_price[q])
        if last >= 0:
            price[r], size[r], venue[r], tick_id[r] = p_price[last], p_size[last], p_venue[last], p_tick[last]
            basis[r], cond[r], aggressor[r] = p_basis[last], p_cond[last], p_aggr[last]
        else:
            price[r], size[r], venue[r], tick_id[r] = np.nan, 0, 0, 0
            basis[r], cond[r], aggressor[r] = _B_NONE, _C_NONE, 0
        total_volume[r], open_[r], high[r], low[r] = tv, op, hi, lo
    return price, size, venue, tick_id, basis, cond, aggressor, total_volume, open_, high, low


@dataclass(frozen=True)
class _Day:
    """Every Level 1 update of one symbol-day as row arrays: the state after each (see _carry)."""

    t_ns: np.ndarray  # UTC epoch ns
    contents: np.ndarray  # int8 code into _CONTENTS; below _Q_B on trade rows
    price: np.ndarray
    size: np.ndarray
    total_volume: np.ndarray
    venue: np.ndarray
    tick_id: np.ndarray
    basis: np.ndarray  # int8 code into _BASIS
    cond: np.ndarray  # int8 code into _CONDITIONS
    aggressor: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    prev_close: float

    def __len__(self) -> int:
        return len(self.t_ns)

    @property
    def trades(self) -> np.ndarray:
        """Row indices of the trades."""
        return np.flatnonzero(self.contents < _Q_B)


@lru_cache(maxsize=1)
def _venue_tables() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The kernel's venue tables: codes, single-print CDF, lit codes and weights, TRF flag and
    log(1 - 1/TickID step) per code."""
    codes, single_p, lit_codes, lit_w, step = _venues()
    is_trf = np.zeros(len(step), dtype=np.bool_)
    is_trf[list(_TRF)] = True
    return codes, np.cumsum(single_p), lit_codes, lit_w, is_trf, np.log1p(-1.0 / step)


def _run_day(
    inst: Instrument,
    path: _Path,
    sess: calendar.Session,
    halt: tuple[int, int] | None,
    seed: int,
    activity: float,
    full: bool,
) -> tuple[tuple[float, float, float, float, int], _Day | None]:
    """Simulate one symbol-day: its (open, high, low, close, volume), and its rows when ``full``.

    Both answers come from the same draws (the rows only add draws from the detail stream), so
    a summary computed alone is exactly the summary of the rows.
    """
    day = sess.day
    p = _Path.position(day)
    rng = np.random.default_rng([seed, _crc(inst.symbol), day.toordinal()])
    tick = float(path.tick[p])
    prev_close = float(path.close_px[p - 1])
    ref = math.exp(path.log_close[p - 1])
    lot = 10 if ref < 1.0 else 1  # sub-$1 names trade and quote in bigger sizes

    pre_ns = sess.pre_open.value
    open_s = int((sess.open.value - pre_ns) // 10**9)
    close_s = int((sess.close.value - pre_ns) // 10**9)
    end_s = int((sess.post_close.value - pre_ns) // 10**9)
    open_us, close_us, end_us = open_s * _US, close_s * _US, end_s * _US
    w, cum = _intensity(open_s, close_s, end_s)
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
        bounds += [(open_us + 1, halt[0] * _US - 1), (halt[1] * _US, close_us - 1)]
    bounds.append((close_us + 1, end_us - 1))
    seg_lo, seg_hi = (np.array(c, dtype=np.int64) for c in zip(*bounds, strict=True))

    expected = inst.trades_per_day * activity * _EVENTS_PER_TRADE * mass
    n = int(rng.poisson(expected * _P_TRADE_EVENT))
    mu = expected * (1 - _P_TRADE_EVENT)  # quotes per unit of business time
    state = rng.bit_generator.random_raw(2)
    gen = np.random.Generator(np.random.PCG64(rng.bit_generator.random_raw()))
    u_open, u_close = cum[open_s] / mass, cum[close_s] / mass
    tu, kind, prints, anchor = _trade_events(state, gen, n, mu, u_open, u_close)

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
    venues = _venue_tables()
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
    summary = _prints(state, gen, full, tu, kind, prints, anchor, levels, prices, shape, venues, quotes, out)
    if not full:
        return summary, None
    p_price, p_size, p_venue, p_basis, p_cond, p_aggr = out
    clock = (w, cum, seg_lo, seg_hi)
    t_ns, contents, row_print, bid, ask, bid_size, ask_size, p_tick = _rows(
        state, gen, tu, kind, prints, anchor, quotes, mu, levels, prices, shape, clock, p_venue, venues[5]
    )
    carried = _carry(row_print, contents, (p_price, p_size, p_venue, p_tick, p_basis, p_cond, p_aggr))
    price, size, venue, tick_id, basis, cond, aggressor, total_volume, open_, high, low = carried
    return summary, _Day(
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


def _frame(symbol: str, d: _Day, rows: np.ndarray | None, columns: Mapping[str, object]) -> pd.DataFrame:
    """``columns`` of the day's rows (all of them, or those indexed by ``rows``).

    The row arrays already have the schema's dtypes, so the frame is built without the copies
    ``schema.conform`` would make (the unit tests check the dtypes).
    """

    def take(values: np.ndarray) -> np.ndarray:
        return values if rows is None else values[rows]

    n = len(d) if rows is None else len(rows)

    def column(name: str) -> Any:
        if name == "timestamp":
            return _timestamps(take(d.t_ns))
        if name == "symbol":
            return np.full(n, symbol, dtype=object)
        if name == "close":
            return np.full(n, d.prev_close)
        if name in _CODED:
            field, table = _CODED[name]
            return table[take(getattr(d, field))]
        return take(getattr(d, _FIELD.get(name, name)))

    return pd.DataFrame({name: column(name) for name in columns}, copy=False)


# frame columns stored under another _Day field, and the coded (string) ones
_FIELD = {"market_center": "venue"}
_CODED = {
    "basis": ("basis", _BASIS),
    "conditions": ("cond", _CONDITIONS),
    "contents": ("contents", _CONTENTS),
}


def _timestamps(t_ns: np.ndarray) -> pd.DatetimeIndex:
    """UTC epoch nanoseconds as America/New_York timestamps."""
    return pd.DatetimeIndex(t_ns.view("M8[ns]")).tz_localize("UTC").tz_convert(TZ)


# ---------------------------------------------------------------------------------------------
# The market
# ---------------------------------------------------------------------------------------------


class _LRU:
    """A small thread-safe LRU cache bounded by the total weight of its values (default 1 each)."""

    def __init__(self, max_weight: int, weigh: Callable[[Any], int] = lambda _: 1) -> None:
        self.max_weight = max_weight
        self._weigh = weigh
        self._data: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key][0]
        value = make()
        weight = self._weigh(value)
        with self._lock:
            if key not in self._data:
                self._data[key] = (value, weight)
                self._weight += weight
            while self._weight > self.max_weight and len(self._data) > 1:
                _, (_, dropped) = self._data.popitem(last=False)
                self._weight -= dropped
        return value


class Market:
    """The synthetic market: Level 1 updates, ticks, bars, fundamentals and halts per symbol-day.

    ``seed`` picks the market; ``activity`` scales trade and quote counts linearly (1.0 is
    realistic: AAPL ~200k trades a day; tests use ~0.02). Frames are cached (up to
    ``cache_rows`` rows in all, least recently used dropped first) and shared between callers:
    treat them as read-only and ``.copy()`` one before changing it.

    Example::

        m = Market(seed=7, activity=0.02)
        ticks = m.ticks("AAPL", "2025-01-02")
        bars = m.interval_bars("AAPL", "2025-01-02", 60)
        daily = m.daily("AAPL", "2024-12-02", "2024-12-31")
    """

    def __init__(
        self,
        seed: int = 7,
        activity: float = 1.0,
        universe: Mapping[str, Instrument] = UNIVERSE,
        cache_rows: int = 5_000_000,
    ) -> None:
        if not activity > 0:
            raise ValueError(f"activity must be > 0 (1.0 is realistic), got {activity!r}")
        self.seed = int(seed)
        self.activity = float(activity)
        self._universe = dict(universe)
        self._paths = _LRU(256)
        self._frames = _LRU(cache_rows, len)
        self._summaries = _LRU(100_000)

    def __repr__(self) -> str:
        return f"Market(seed={self.seed}, activity={self.activity}, symbols={len(self._universe)})"

    @property
    def symbols(self) -> list[str]:
        """The universe's symbols, sorted."""
        return sorted(self._universe)

    def knows(self, symbol: str) -> bool:
        """True when ``symbol`` is in this market's universe."""
        return symbol in self._universe

    def instrument(self, symbol: str) -> Instrument:
        """The instrument of ``symbol``; KeyError naming the known symbols if there is none."""
        try:
            return self._universe[symbol]
        except KeyError:
            raise KeyError(
                f"unknown symbol {symbol!r}; the synthetic universe has {', '.join(self.symbols)}"
            ) from None

    # --- per day -------------------------------------------------------------------------------

    def level1(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        """Every Level 1 update (trades and quote changes) of the extended day, in time order.

        Columns are ``schema.LEVEL1_COLUMNS``. Trade rows have ``contents`` C, E or O and carry
        the quote in force; quote rows ("b", "a", "ba") carry the last trade's fields (0, NaN
        or "" before the day's first trade). ``close`` is the previous session's official close.
        """
        d = self._session(day).day
        return self._frames.get(
            ("level1", symbol, d), lambda: _frame(symbol, self._day(symbol, d), None, LEVEL1_COLUMNS)
        )

    def ticks(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        """The day's trades (``schema.TICK_COLUMNS``): exactly the trade rows of ``level1``."""
        d = self._session(day).day

        def make() -> pd.DataFrame:
            rows = self._day(symbol, d)
            return _frame(symbol, rows, rows.trades, TICK_COLUMNS)

        return self._frames.get(("ticks", symbol, d), make)

    def interval_bars(self, symbol: str, day: dt.date | str, interval: int, kind: str = "s") -> pd.DataFrame:
        """The day's bars as IQFeed HIX/HID/HIT return them, built from ``ticks``.

        ``kind`` "s": ``interval`` seconds, bars aligned to midnight and covering
        [end - interval, end); "t": ``interval`` trades per bar; "v": a trade belongs to bar
        floor(volume before it / ``interval``), so a bar closes once its volume reaches the
        next multiple. ``timestamp`` is the bar's end (time bars) or its last trade's time
        (trade and volume bars). Open/high/low/close come from trades that qualify for last
        (basis C or E), or from all of the bar's trades if none does; ``volume`` and ``trades``
        count every print; ``total_volume`` is the day's cumulative volume at the bar's end.
        Only bars with trades appear.
        """
        if kind not in ("s", "t", "v"):
            raise ValueError(f"bar kind must be 's' (seconds), 't' (trades) or 'v' (volume), got {kind!r}")
        if int(interval) != interval or interval <= 0:
            raise ValueError(f"bar interval must be a positive integer, got {interval!r}")
        interval = int(interval)
        sess = self._session(day)
        d = self._day(symbol, sess.day)
        trades = d.trades
        t_ns, size, price, total = d.t_ns[trades], d.size[trades], d.price[trades], d.total_volume[trades]
        if kind == "s":
            midnight = pd.Timestamp(sess.day).tz_localize(TZ).value
            key = (t_ns - midnight) // (interval * 10**9)
        elif kind == "t":
            key = np.arange(len(trades)) // interval
        else:
            key = (total - size) // interval
        n = len(key)
        if n == 0:
            return _empty_bars()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], n] - 1
        qualifies = np.isin(d.basis[trades], (_B_C, _B_E))
        idx = np.arange(n)
        first_q = np.minimum.reduceat(np.where(qualifies, idx, n), starts)
        last_q = np.maximum.reduceat(np.where(qualifies, idx, -1), starts)
        any_q = last_q >= 0
        first = np.where(any_q, first_q, starts)
        last = np.where(any_q, last_q, ends)
        high_q = np.maximum.reduceat(np.where(qualifies, price, -np.inf), starts)
        low_q = np.minimum.reduceat(np.where(qualifies, price, np.inf), starts)
        high = np.where(any_q, high_q, np.maximum.reduceat(price, starts))
        low = np.where(any_q, low_q, np.minimum.reduceat(price, starts))
        if kind == "s":
            end_ns = midnight + (key[starts] + 1) * interval * 10**9
            label = _timestamps(end_ns)
        else:
            label = _timestamps(t_ns[ends])
        return pd.DataFrame(
            {
                "timestamp": label,
                "open": price[first],
                "high": high,
                "low": low,
                "close": price[last],
                "total_volume": total[ends].astype(np.int64),
                "volume": np.add.reduceat(size, starts).astype(np.int64),
                "trades": (ends - starts + 1).astype(np.int64),
            }
        )

    def daily(self, symbol: str, start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
        """One row per session in [start, end]: date, open, high, low, close, volume, open_interest.

        Open/high/low/close are the regular session's basis-C trades (the opening print, the
        extremes, the closing cross); volume is the day's final total volume. Agrees exactly
        with ``ticks()`` of each day: the same simulation, run without building the day's rows
        (a few ms a day at activity 1). Each day is computed once and remembered.
        """
        self.instrument(symbol)
        days = calendar.sessions(calendar.to_date(start), calendar.to_date(end))
        if len(days) < 8:
            rows = [self._summary(symbol, d) for d in days]
        else:  # the kernels release the GIL: spread a long range over the cores
            with ThreadPoolExecutor(max_workers=min(os.cpu_count() or 1, 8)) as pool:
                rows = list(pool.map(lambda d: self._summary(symbol, d), days))
        return pd.DataFrame(
            {
                "date": pd.Series(days, dtype=object),
                "open": np.array([r[0] for r in rows], dtype=np.float64),
                "high": np.array([r[1] for r in rows], dtype=np.float64),
                "low": np.array([r[2] for r in rows], dtype=np.float64),
                "close": np.array([r[3] for r in rows], dtype=np.float64),
                "volume": np.array([r[4] for r in rows], dtype=np.int64),
                "open_interest": np.zeros(len(rows), dtype=np.int64),
            }
        )

    def halts(self, symbol: str, day: dt.date | str) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
        """Trading halts that day as [start, end) times: ~3% of symbol-days have one of 5-15 min."""
        self.instrument(symbol)
        sess = self._session(day)
        halt = self._halt(symbol, sess)
        if halt is None:
            return []
        return [
            (sess.pre_open + pd.Timedelta(seconds=halt[0]), sess.pre_open + pd.Timedelta(seconds=halt[1]))
        ]

    # --- reference ---------------------------------------------------------------------------

    def fundamentals(self, symbol: str, as_of: dt.date | str = _ANCHOR) -> dict[str, object]:
        """A few fields of IQFeed's fundamental (F) message, deterministic per (seed, symbol, as_of).

        52-week high/low come from the official closes of the 252 sessions before ``as_of``;
        average volume is the expected day volume at this market's activity.
        """
        inst = self.instrument(symbol)
        path = self._path(symbol)
        d = calendar.to_date(as_of)
        ordinals = _all_sessions()
        p = int(np.searchsorted(ordinals, d.toordinal()))  # sessions strictly before as_of
        p = min(max(p, 1), len(ordinals))
        closes = path.close_px[max(p - 251, 1) : p + 1]
        tick = float(path.tick[p])
        crc = _crc(symbol)
        pe: float | None = None if inst.asset_class == "etf" else round(9 + (crc % 3100) / 100, 1)
        shares = int(_SHARES_MM.get(symbol, 500) * 1_000_000)
        lot = 10 if closes[-1] < 1 else 1
        return {
            "Symbol": symbol,
            "Exchange ID": f"{inst.listing:X}",
            "PE": pe,
            "Average Volume": round(inst.trades_per_day * self.activity * 330 * lot),
            "52 Week High": float(closes.max()),
            "52 Week Low": float(closes.min()),
            "Common Shares Outstanding": shares,
            "Company Name": inst.name,
            "Precision": _decimals(tick),
            "Listed Market": inst.listing,
            "Security Type": SECURITY_TYPE_EQUITY,
        }

    # --- internals ---------------------------------------------------------------------------

    @staticmethod
    def _session(day: dt.date | str) -> calendar.Session:
        return calendar.session(calendar.to_date(day))

    def _path(self, symbol: str) -> _Path:
        inst = self.instrument(symbol)
        return self._paths.get(symbol, lambda: _daily_path(self.seed, inst))

    def _halt(self, symbol: str, sess: calendar.Session) -> tuple[int, int] | None:
        """(start, end) seconds from 04:00 of this symbol-day's halt, or None; activity-independent."""
        rng = np.random.default_rng([self.seed, _crc(symbol), sess.day.toordinal(), 0x48414C54])
        if rng.random() >= _HALT_PROBABILITY:
            return None
        pre_ns = sess.pre_open.value
        open_s = int((sess.open.value - pre_ns) // 10**9)
        close_s = int((sess.close.value - pre_ns) // 10**9)
        start = int(rng.integers(open_s + 900, close_s - 1800 - 900))
        return start, start + int(rng.integers(300, 901))

    def _run(
        self, symbol: str, day: dt.date, full: bool
    ) -> tuple[tuple[float, float, float, float, int], _Day | None]:
        inst = self.instrument(symbol)
        sess = calendar.session(day)
        return _run_day(
            inst, self._path(symbol), sess, self._halt(symbol, sess), self.seed, self.activity, full
        )

    def _day(self, symbol: str, day: dt.date) -> _Day:
        """The day's rows, generated once and kept while the cache has room (weighed in rows)."""

        def make() -> _Day:
            summary, rows = self._run(symbol, day, full=True)
            assert rows is not None, "a full run builds the day's rows"
            self._summaries.get((symbol, day), lambda: summary)
            return rows

        return self._frames.get(("day", symbol, day), make)

    def _summary(self, symbol: str, day: dt.date) -> tuple[float, float, float, float, int]:
        """(open, high, low, close, volume) of one day's basis-C trades, without building its rows."""
        return self._summaries.get((symbol, day), lambda: self._run(symbol, day, full=False)[0])


def _empty_bars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series(dtype=pd.DatetimeTZDtype("ns", TZ)),
            **{c: pd.Series(dtype=np.float64) for c in ("open", "high", "low", "close")},
            **{c: pd.Series(dtype=np.int64) for c in ("total_volume", "volume", "trades")},
        }
    )
