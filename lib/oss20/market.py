"""A deterministic synthetic US equity market: the ground truth the IQFeed simulator serves.

``Market(seed, activity)`` turns (symbol, trading day) into every Level 1 update of the
extended day (04:00-20:00 ET): trades with the quote in force, and the quote changes between
them. The same (seed, symbol, day, activity) always gives the same frames, TickIDs included,
in any process, so whatever a collector stored can be compared tick by tick with the truth.

How a day is made (all vectorised numpy, no per-trade Python loops):

- Daily path: per (seed, symbol) one log-price walk over every NYSE session of the calendar,
  anchored at ``Instrument.price`` on 2025-01-02, with weak mean reversion so twenty years stay
  plausible. Open = previous close times a small overnight gap. The official close (closing
  cross price) and the opening print are that path rounded to the day's tick.
- Events: quote changes and trades arrive as one Poisson stream whose intensity is U-shaped
  in regular hours and a few per cent of it in pre-market and after-hours; its cumulative
  intensity is the "business time" of a Brownian bridge for the mid price (prev close ->
  open -> close -> close), so volatility follows activity.
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
import threading
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.schema import LEVEL1_COLUMNS, TICK_COLUMNS, TZ, conform

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

# Event kinds.
_QUOTE, _SINGLE, _SWEEP, _OPEN_PRINT, _CLOSE_PRINT = 0, 1, 2, 3, 4
# Segments of the extended day.
_PRE, _REG, _POST = 0, 1, 2

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


@lru_cache(maxsize=4)
def _grid(end_s: int) -> np.ndarray:
    """0, 1, ..., end_s seconds, as floats."""
    return np.arange(end_s + 1, dtype=np.float64)


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


def _strictly_increasing(t: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Nudge sorted integer times apart by whole microseconds, each kept within its [lo, hi]."""
    i = np.arange(len(t), dtype=np.int64)
    t = np.clip(t, lo, hi)
    t = np.maximum.accumulate(t - i) + i
    bound = np.minimum.accumulate((hi - i)[::-1])[::-1] + i
    return np.minimum(t, bound)


def _bridge(uu: np.ndarray, a: float, b: float, var: float, z: np.ndarray, z_end: float) -> np.ndarray:
    """Brownian bridge from a (uu=0) to b (uu=1) with total variance ``var``, at sorted uu."""
    if len(uu) == 0:
        return uu.copy()
    sd = math.sqrt(var)
    w = np.cumsum(np.sqrt(np.diff(uu, prepend=0.0)) * z) * sd
    w_end = w[-1] + math.sqrt(max(1.0 - uu[-1], 0.0)) * z_end * sd
    return a + (b - a) * uu + w - uu * w_end


def _ffill_index(flag: np.ndarray) -> np.ndarray:
    """For each position, the index of the last True at or before it (flag[0] must be True)."""
    return np.maximum.accumulate(np.where(flag, np.arange(len(flag)), 0))


# ---------------------------------------------------------------------------------------------
# One day
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Day:
    """Every Level 1 update of one symbol-day as row arrays; trade fields are 0/NaN on quote rows."""

    t_ns: np.ndarray  # UTC epoch ns
    is_trade: np.ndarray
    price: np.ndarray
    size: np.ndarray
    venue: np.ndarray
    tick_id: np.ndarray
    basis: np.ndarray  # int8 code into _BASIS
    cond: np.ndarray  # int8 code into _CONDITIONS
    aggressor: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_size: np.ndarray
    ask_size: np.ndarray
    contents: np.ndarray  # int8 code into _CONTENTS
    prev_close: float


def _simulate_day(
    inst: Instrument,
    path: _Path,
    sess: calendar.Session,
    halt: tuple[int, int] | None,
    seed: int,
    activity: float,
) -> _Day:
    """Generate one symbol-day. ``halt`` is (start, end) in seconds from 04:00, or None."""
    day = sess.day
    p = _Path.position(day)
    rng = np.random.default_rng([seed, _crc(inst.symbol), day.toordinal()])
    sigma = inst.volatility
    tick = float(path.tick[p])
    dec = _decimals(tick)
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
    u_open, u_close = cum[open_s] / mass, cum[close_s] / mass

    # --- event times: sorted uniforms in business time, mapped through the intensity -----------
    n = max(int(rng.poisson(inst.trades_per_day * activity * _EVENTS_PER_TRADE * mass)), 1)
    gaps = rng.standard_exponential(n + 1)
    u = np.cumsum(gaps)
    u = u[:-1] / u[-1]
    t_us = (np.interp(u * mass, cum, _grid(end_s)) * _US).astype(np.int64)

    # segments (lo, hi, kind); the open and close microseconds are kept for the auction prints
    segs = [(0, open_us - 1, _PRE)]
    if halt is None:
        segs.append((open_us + 1, close_us - 1, _REG))
    else:
        segs += [(open_us + 1, halt[0] * _US - 1, _REG), (halt[1] * _US, close_us - 1, _REG)]
    segs.append((close_us + 1, end_us - 1, _POST))
    seg_lo = np.array([s[0] for s in segs], dtype=np.int64)
    seg_hi = np.array([s[1] for s in segs], dtype=np.int64)
    seg_kind = np.array([s[2] for s in segs], dtype=np.int8)
    sid = np.searchsorted(seg_lo, t_us, side="right") - 1
    t_us = _strictly_increasing(t_us, seg_lo[sid], seg_hi[sid])
    seg = seg_kind[sid]

    # the day opens with a quote before the opening print
    if t_us[0] >= open_us:
        t_us, u, seg = np.r_[0, t_us], np.r_[0.0, u], np.r_[np.int8(_PRE), seg]
    n = len(t_us)
    kind = np.where(rng.random(n) < _P_TRADE_EVENT, _SINGLE, _QUOTE).astype(np.int8)
    kind[0] = _QUOTE
    kind[(kind == _SINGLE) & (seg == _REG) & (rng.random(n) < _P_SWEEP)] = _SWEEP

    # auction prints at exactly the open and the close
    i_open = int(np.searchsorted(t_us, open_us))
    i_close = int(np.searchsorted(t_us, close_us))
    at = [i_open, i_close]
    t_us = np.insert(t_us, at, [open_us, close_us])
    u = np.insert(u, at, [u_open, u_close])
    seg = np.insert(seg, at, [_REG, _REG])
    kind = np.insert(kind, at, [_OPEN_PRINT, _CLOSE_PRINT])
    i_close += 1
    n = len(t_us)

    # --- mid price: Brownian bridges in business time ----------------------------------------
    z = rng.standard_normal(n)
    z_end = rng.standard_normal(3)
    log_mid = np.empty(n)
    pieces = (
        (0, i_open, 0.0, u_open, math.log(prev_close), path.log_open[p], (0.4 * sigma) ** 2),
        (i_open, i_close + 1, u_open, u_close, path.log_open[p], path.log_close[p], sigma**2),
        (i_close + 1, n, u_close, 1.0, path.log_close[p], path.log_close[p], (0.3 * sigma) ** 2),
    )
    for j, (i0, i1, us, ue, a, b, var) in enumerate(pieces):
        uu = np.clip((u[i0:i1] - us) / max(ue - us, 1e-12), 0.0, 1.0)
        log_mid[i0:i1] = _bridge(uu, a, b, var, z[i0:i1], float(z_end[j]))
    mid = np.exp(log_mid)

    # --- quotes ---------------------------------------------------------------------------
    qi = np.flatnonzero(kind == _QUOTE)
    nq = len(qi)
    liquidity = inst.trades_per_day / 10_000
    spread_bps = 2.5 / math.sqrt(liquidity) * (1 + 5 / max(ref, 0.01))
    k_mean = max(ref * spread_bps * 1e-4 / tick, 1.0)
    ext = seg[qi] != _REG
    k_extra = np.where(ext, 2 * k_mean, k_mean - 1) + 0.15
    spread = 1 + rng.poisson(k_extra)
    m = mid[qi] / tick
    bid_t = np.maximum(np.floor(m - spread / 2 + 0.5), 1).astype(np.int64)
    ask_t = bid_t + spread
    chb = bid_t != np.r_[-1, bid_t[:-1]]
    cha = ask_t != np.r_[-1, ask_t[:-1]]
    neither = ~(chb | cha)
    side_b = rng.random(nq) < 0.5
    chb |= neither & side_b
    cha |= neither & ~side_b
    q_contents = np.where(chb & cha, _Q_BA, np.where(chb, _Q_B, _Q_A)).astype(np.int8)
    mean_lots = 1 + inst.trades_per_day / 40_000
    q_bsize = (100 * lot * rng.geometric(1 / mean_lots, nq))[_ffill_index(chb)]
    q_asize = (100 * lot * rng.geometric(1 / mean_lots, nq))[_ffill_index(cha)]
    q_of_ev = np.cumsum(kind == _QUOTE) - 1  # quote in force at each event

    # --- expand sweeps into prints ----------------------------------------------------------
    is_sweep_ev = kind == _SWEEP
    n_sw = int(is_sweep_ev.sum())
    sweep_len = np.minimum(2 + rng.poisson(_SWEEP_MEAN_EXTRA, n_sw), _SWEEP_MAX)
    rep = np.ones(n, dtype=np.int64)
    rep[is_sweep_ev] = sweep_len
    row_ev = np.repeat(np.arange(n), rep)
    starts = np.cumsum(rep) - rep
    row_j = np.arange(len(row_ev)) - starts[row_ev]
    rows = len(row_ev)
    row_kind = kind[row_ev]
    is_trade = row_kind != _QUOTE

    # --- trades -----------------------------------------------------------------------------
    ti = np.flatnonzero(is_trade)
    nt = len(ti)
    ev = row_ev[ti]
    tk = row_kind[ti]
    tseg = seg[ev]
    q = q_of_ev[ev]
    tb, ta = bid_t[q], ask_t[q]
    side = np.where(rng.random(n)[ev] < 0.5, 1, 2).astype(np.int8)
    single = tk == _SINGLE
    sweep = tk == _SWEEP
    auction = (tk == _OPEN_PRINT) | (tk == _CLOSE_PRINT)

    codes, single_p, lit_codes, lit_w, step = _venues()
    venue = np.empty(nt, dtype=np.int16)
    venue[single] = rng.choice(codes, size=int(single.sum()), p=single_p)
    sweep_rank = (np.cumsum(is_sweep_ev) - 1)[ev[sweep]]
    order = _weighted_distinct(rng, lit_w, n_sw)
    venue[sweep] = lit_codes[order[sweep_rank, row_j[ti][sweep]]]
    venue[auction] = inst.listing

    # sizes: round lots dominate (median 100), odd lots common, a lognormal tail of thousands
    r = rng.random(nt)
    odd_size = np.clip(np.exp(rng.random(nt) * math.log(100)).astype(np.int64), 1, 99)
    lots = 100 * lot * rng.integers(2, 10, nt)
    tail = (np.exp(rng.normal(math.log(1500), 0.9, nt)) * lot).astype(np.int64) + 100
    single_size = np.where(r < 0.25, odd_size, np.where(r < 0.67, 100 * lot, np.where(r < 0.88, lots, tail)))
    sweep_size = np.where(
        r < 0.15, odd_size, np.where(r < 0.65, 100 * lot, 100 * lot * rng.integers(1, 5, nt))
    )
    size = np.where(single, single_size, sweep_size).astype(np.int64)
    odd = size < 100
    r2 = rng.random(nt)
    avg = single & ~odd & (r2 < 0.003)
    tte = single & ~odd & ~avg & (tseg == _REG) & (r2 > 0.985)
    size[avg] = (np.exp(rng.normal(math.log(6000), 0.8, int(avg.sum()))) * lot).astype(np.int64) + 100
    venue[avg] = _NTRF

    # prices (in ticks where on the grid; sub-penny off-exchange prints are set after)
    ticks = np.where(side == 1, ta, tb).astype(np.int64)
    walk = rng.uniform(0.25, 0.75, n_sw)[sweep_rank]
    level = np.minimum((row_j[ti][sweep] * walk).astype(np.int64), 3)
    ticks[sweep] = np.where(side[sweep] == 1, ta[sweep] + level, np.maximum(tb[sweep] - level, 1))
    price = np.round(ticks * tick, dec)
    aggressor = side.copy()
    aggressor[single & (r2 > 0.96) & (r2 <= 0.985)] = 0
    offex = single & ~avg & np.isin(venue, _TRF) & (rng.random(nt) < 0.6)
    frac = rng.uniform(0.05, 0.95, nt)
    inside = np.round((tb + frac * (ta - tb)) * tick, 4)
    price[offex] = inside[offex]
    aggressor[offex] = np.where(frac[offex] >= 0.7, 1, np.where(frac[offex] <= 0.3, 2, 0))
    price[avg] = np.round(mid[ev[avg]] * np.exp(rng.normal(0.0, 0.03 * sigma, int(avg.sum()))), 4)
    aggressor[avg] = 0

    # auction prints: at the day's open and official close, sized on the rest of the day
    others = int(size[~auction].sum())
    o_row = int(np.flatnonzero(tk == _OPEN_PRINT)[0])
    c_row = int(np.flatnonzero(tk == _CLOSE_PRINT)[0])
    price[o_row], price[c_row] = path.open_px[p], path.close_px[p]
    size[o_row] = max(100, round(others * rng.uniform(0.002, 0.008) / 100) * 100)
    size[c_row] = max(100, round(others * rng.uniform(0.01, 0.03) / 100) * 100)
    aggressor[auction] = 0

    # conditions and basis
    reg = tseg == _REG
    cond = np.where(
        reg,
        np.where(
            sweep,
            np.where(odd, _C_ISO_ODD, _C_ISO),
            np.where(avg, _C_AVG, np.where(odd, _C_ODD, np.where(tte, _C_TTE, _C_REG))),
        ),
        np.where(avg, _C_T_AVG, np.where(odd, _C_T_ODD, _C_T)),
    ).astype(np.int8)
    cond[o_row], cond[c_row] = _C_OPEN, _C_CLOSE
    basis = np.where(reg, np.where(odd | avg, _B_O, _B_C), _B_E).astype(np.int8)
    basis[o_row] = basis[c_row] = _B_C

    # TickIDs: a gapped sequence per market center, rising through the day
    by_venue = np.argsort(venue, kind="stable")
    sv = venue[by_venue]
    inc = rng.geometric(1 / step[sv])
    csum = np.cumsum(inc)
    first = np.r_[True, sv[1:] != sv[:-1]]
    group = np.cumsum(first) - 1
    base = (csum - inc)[first]
    offset = rng.integers(0, 40, len(step))
    tick_id = np.empty(nt, dtype=np.int64)
    tick_id[by_venue] = csum - base[group] + offset[sv]

    # --- rows ------------------------------------------------------------------------------
    def full(values: np.ndarray, fill: Any, dtype: Any) -> np.ndarray:
        out = np.full(rows, fill, dtype=dtype)
        out[ti] = values
        return out

    bid_px = np.round(bid_t * tick, dec)
    ask_px = np.round(ask_t * tick, dec)
    rq = q_of_ev[row_ev]
    contents = q_contents[rq].copy()
    contents[ti] = basis
    return _Day(
        t_ns=pre_ns + t_us[row_ev] * _NS_PER_US,
        is_trade=is_trade,
        price=full(price, np.nan, np.float64),
        size=full(size, 0, np.int64),
        venue=full(venue, 0, np.int16),
        tick_id=full(tick_id, 0, np.int64),
        basis=full(basis, _B_NONE, np.int8),
        cond=full(cond, _C_NONE, np.int8),
        aggressor=full(aggressor, 0, np.int8),
        bid=bid_px[rq],
        ask=ask_px[rq],
        bid_size=q_bsize[rq].astype(np.int64),
        ask_size=q_asize[rq].astype(np.int64),
        contents=contents,
        prev_close=prev_close,
    )


def _level1_frame(symbol: str, d: _Day) -> pd.DataFrame:
    """The Level 1 state after every update: last-trade fields carried over quote rows."""
    rows = len(d.t_ns)
    trades = np.flatnonzero(d.is_trade)
    first = int(trades[0]) if len(trades) else rows
    at = np.where(d.is_trade, np.arange(rows), 0)
    np.maximum.accumulate(at, out=at)

    def carry(values: np.ndarray, fill: Any) -> np.ndarray:
        out = values[at]
        out[:first] = fill
        return out

    def running(ufunc: np.ufunc, empty: float) -> np.ndarray:
        out = np.where(d.basis == _B_C, d.price, empty)
        ufunc.accumulate(out, out=out)
        out[out == empty] = np.nan
        return out

    c_rows = np.flatnonzero(d.basis == _B_C)
    open_ = np.full(rows, np.nan)
    if len(c_rows):
        open_[c_rows[0] :] = d.price[c_rows[0]]
    frame = pd.DataFrame(
        {
            "timestamp": _timestamps(d.t_ns),
            "symbol": np.full(rows, symbol, dtype=object),
            "tick_id": carry(d.tick_id, 0),
            "market_center": carry(d.venue, 0),
            "price": carry(d.price, np.nan),
            "size": carry(d.size, 0),
            "total_volume": np.cumsum(d.size),
            "bid": d.bid,
            "ask": d.ask,
            "basis": _BASIS[carry(d.basis, _B_NONE)],
            "conditions": _CONDITIONS[carry(d.cond, _C_NONE)],
            "aggressor": carry(d.aggressor, 0),
            "bid_size": d.bid_size,
            "ask_size": d.ask_size,
            "open": open_,
            "high": running(np.maximum, -np.inf),
            "low": running(np.minimum, np.inf),
            "close": np.full(rows, d.prev_close),
            "contents": _CONTENTS[d.contents],
        },
        copy=False,
    )
    return conform(frame, LEVEL1_COLUMNS)


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
        return self._frames.get(("level1", symbol, d), lambda: _level1_frame(symbol, self._day(symbol, d)))

    def ticks(self, symbol: str, day: dt.date | str) -> pd.DataFrame:
        """The day's trades (``schema.TICK_COLUMNS``): exactly the trade rows of ``level1``."""
        d = self._session(day).day

        def make() -> pd.DataFrame:
            frame = self.level1(symbol, d)
            trades = frame["contents"].isin(["C", "E", "O"]).to_numpy()
            return frame.loc[trades, list(TICK_COLUMNS)].reset_index(drop=True)

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
        ticks = self.ticks(symbol, sess.day)
        stamps = ticks["timestamp"]
        t_ns = stamps.to_numpy(dtype="datetime64[ns]").view(np.int64)
        size = ticks["size"].to_numpy()
        price = ticks["price"].to_numpy()
        total = ticks["total_volume"].to_numpy()
        if kind == "s":
            midnight = pd.Timestamp(sess.day).tz_localize(TZ).value
            key = (t_ns - midnight) // (interval * 10**9)
        elif kind == "t":
            key = np.arange(len(ticks)) // interval
        else:
            key = (total - size) // interval
        n = len(key)
        if n == 0:
            return _empty_bars()
        starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        ends = np.r_[starts[1:], n] - 1
        qualifies = ticks["basis"].isin(["C", "E"]).to_numpy()
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
            label = pd.DatetimeIndex(stamps.iloc[ends])
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
        with ``ticks()`` of each day. Each day is generated once and remembered.
        """
        self.instrument(symbol)
        days = calendar.sessions(calendar.to_date(start), calendar.to_date(end))
        rows = [self._summary(symbol, d) for d in days]
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

    def _day(self, symbol: str, day: dt.date) -> _Day:
        inst = self.instrument(symbol)
        sess = calendar.session(day)
        return _simulate_day(
            inst, self._path(symbol), sess, self._halt(symbol, sess), self.seed, self.activity
        )

    def _summary(self, symbol: str, day: dt.date) -> tuple[float, float, float, float, int]:
        """(open, high, low, close, volume) of one day, from its trades."""

        def make() -> tuple[float, float, float, float, int]:
            d = self._day(symbol, day)
            c = d.price[d.basis == _B_C]
            return float(c[0]), float(c.max()), float(c.min()), float(c[-1]), int(d.size.sum())

        return self._summaries.get((symbol, day), make)


def _empty_bars() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.Series(dtype=pd.DatetimeTZDtype("ns", TZ)),
            **{c: pd.Series(dtype=np.float64) for c in ("open", "high", "low", "close")},
            **{c: pd.Series(dtype=np.int64) for c in ("total_volume", "volume", "trades")},
        }
    )
