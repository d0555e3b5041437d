"""The numba kernels of one symbol-day: random streams, trade events, prints, rows and carried state.

They live in one file, together with every constant they read, because numba's ``cache=True``
only notices edits to the file a cached function is defined in: a kernel calling another, or
reading a constant, from a second module could run stale compiled code after an edit there.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
I16 = npt.NDArray[np.int16]
I8 = npt.NDArray[np.int8]
State = npt.NDArray[np.uint64]
"""The splitmix64 states of the core and detail streams."""
VenueTables = tuple[I16, F64, I16, F64, npt.NDArray[np.bool_], F64]
"""Venue codes, single-print CDF, lit codes and weights, TRF flag, log(1 - 1/TickID step) per code."""

# Event mix. Sweeps are ~37% of regular-session prints in bursts of ~4.6 prints.
SWEEP_SHARE = 0.37
SWEEP_MEAN_EXTRA = 2.6  # prints per sweep = 2 + Poisson(2.6), capped
SWEEP_MAX = 10
_QUOTES_PER_TRADE = 1.5
_SWEEP_MEAN = 2 + SWEEP_MEAN_EXTRA
_TRADE_EVENTS_PER_TRADE = 1 - SWEEP_SHARE + SWEEP_SHARE / _SWEEP_MEAN
EVENTS_PER_TRADE = _QUOTES_PER_TRADE + _TRADE_EVENTS_PER_TRADE
P_TRADE_EVENT = _TRADE_EVENTS_PER_TRADE / EVENTS_PER_TRADE
_P_SWEEP = (SWEEP_SHARE / _SWEEP_MEAN) / _TRADE_EVENTS_PER_TRADE

# Codes of the string columns (small object arrays indexed by int8 codes).
BASIS = np.array(["", "C", "E", "O"], dtype=object)
B_NONE, B_C, B_E, B_O = 0, 1, 2, 3
CONTENTS = np.array(["", "C", "E", "O", "b", "a", "ba"], dtype=object)
Q_B, Q_A, Q_BA = 4, 5, 6
CONDITIONS = np.array(
    ["", "01", "87", "3D", "3D87", "17", "1787", "05", "0517", "29", "1A", "1C"], dtype=object
)
(
    C_NONE, C_REG, C_ODD, C_ISO, C_ISO_ODD, C_T, C_T_ODD, C_AVG, C_T_AVG, C_TTE, C_OPEN, C_CLOSE,
) = range(12)  # fmt: skip

# Trade event kinds (ordered: auction prints last).
_SINGLE, _SWEEP, _OPEN_PRINT, _CLOSE_PRINT = 1, 2, 3, 4

# NTRF's market center code (universe.MARKET_CENTERS): where average-price prints go.
_NTRF = 19

US = 1_000_000
NS_PER_US = 1_000


# ---------------------------------------------------------------------------------------------
# Random streams: splitmix64, so kernels draw only what they use, identically anywhere
# ---------------------------------------------------------------------------------------------

_CORE, _DETAIL = 0, 1  # stream 0 decides prices and sizes; stream 1 only cosmetic detail
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_SH11, _SH27, _SH30, _SH31 = np.uint64(11), np.uint64(27), np.uint64(30), np.uint64(31)
_TWO_M53 = 2.0**-53


@njit(cache=True, nogil=True)
def _uniform(state: State, k: int) -> float:
    """A uniform in (0, 1) from stream ``k`` (splitmix64 over ``state[k]``)."""
    z = state[k] + _GOLDEN
    state[k] = z
    z = (z ^ (z >> _SH30)) * _MIX1
    z = (z ^ (z >> _SH27)) * _MIX2
    z = z ^ (z >> _SH31)
    return ((z >> _SH11) + 0.5) * _TWO_M53


@njit(cache=True, nogil=True)
def _poisson(state: State, k: int, lam: float) -> int:
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
def _geometric(state: State, k: int, log_q: float) -> int:
    """A geometric draw on 1, 2, ... with failure log-probability ``log_q`` = log(1 - p)."""
    return 1 + int(math.log(_uniform(state, k)) / log_q)


# ---------------------------------------------------------------------------------------------
# One day (the summary of daily bars runs the same code without writing rows)
# ---------------------------------------------------------------------------------------------


@njit(cache=True, nogil=True)
def _piece(u: float, u_open: float, u_close: float) -> int:
    """The bridge piece (0 pre-market, 1 regular, 2 after-hours) of business time ``u``."""
    return 0 if u < u_open else (2 if u > u_close else 1)


@njit(cache=True, nogil=True)
def _piece_ends(p: int, levels: F64) -> tuple[float, float, float, float, float]:
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
def _quote_ticks(state: State, k: int, x: float, lam: float, per_unit: float) -> tuple[int, int]:
    """(bid, ask) in ticks around the log mid ``x``: a spread of 1 + Poisson(lam) ticks."""
    spread = 1 + _poisson(state, k, lam)
    nb = max(math.floor(math.exp(x) * per_unit - spread / 2 + 0.5), 1)
    return nb, nb + spread


@njit(cache=True, nogil=True)
def trade_events(
    state: State, gen: np.random.Generator, n: int, mu: float, u_open: float, u_close: float
) -> tuple[F64, I8, I64, F64]:
    """The day's trade events in business time: (u, kind, prints, u of the last quote before or -1).

    n market trade events (uniform order statistics) plus the auction prints at the open and
    the close. Quotes arrive at rate ``mu``; only the last quote before each trade event (its
    anchor) matters for prices, so it is drawn here, backwards from the trade, and the other
    quotes are filled in later (detail_rows) given it.
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
            prints[k] = min(2 + _poisson(state, _CORE, SWEEP_MEAN_EXTRA), SWEEP_MAX)
    return tu, kind, prints, anchor


@njit(cache=True, nogil=True)
def core_prints(
    state: State,
    gen: np.random.Generator,
    full: bool,
    tu: F64,
    kind: I8,
    prints: I64,
    anchor: F64,
    levels: F64,
    prices: F64,
    shape: F64,
    venues: VenueTables,
    quotes: tuple[F64, I64, I64],
    out: tuple[F64, I64, I16, I8, I8, I8],
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
                cd = C_OPEN if ek == _OPEN_PRINT else C_CLOSE
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
                        cd = C_ISO_ODD if odd else C_ISO
                    else:
                        cd = C_AVG if avg else (C_ODD if odd else (C_TTE if tte else C_REG))
                else:
                    cd = C_T_AVG if avg else (C_T_ODD if odd else C_T)
                others += n_size
            bs = (B_O if odd or avg else B_C) if reg else B_E
            if bs == B_C:
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
def detail_rows(
    state: State,
    gen: np.random.Generator,
    tu: F64,
    kind: I8,
    prints: I64,
    anchor: F64,
    quotes: tuple[F64, I64, I64],
    mu: float,
    levels: F64,
    prices: F64,
    shape: F64,
    clock: tuple[F64, F64, I64, I64],
    venue: I16,
    log_q_step: F64,
) -> tuple[I64, I8, I64, F64, F64, I64, I64, I64]:
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
        ts = np.int64((s + (xm - cum[s]) / w[s]) * US) if w[s] > 0 else np.int64(s * US)
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
                pre_ns + t[i] * NS_PER_US,
                Q_BA if chb and cha else (Q_B if chb else Q_A),
            )
            bid[r], ask[r], bid_size[r], ask_size[r] = qb / per_unit, qa / per_unit, qbs, qas
            r += 1
            continue
        k = ek[i]
        for j in range(prints[k]):
            q, v = starts[k] + j, venue[starts[k] + j]
            counter[v] += _geometric(state, _DETAIL, log_q_step[v])
            t_ns[r], row_print[r], tick_id[q] = pre_ns + t[i] * NS_PER_US, q, counter[v]
            bid[r], ask[r], bid_size[r], ask_size[r] = qb / per_unit, qa / per_unit, qbs, qas
            r += 1
    return t_ns, contents, row_print, bid, ask, bid_size, ask_size, tick_id


@njit(cache=True, nogil=True)
def carry(
    row_print: I64, contents: I8, prints: tuple[F64, I64, I16, I64, I8, I8, I8]
) -> tuple[F64, I64, I16, I64, I8, I8, I8, I64, F64, F64, F64]:
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
            if p_basis[q] == B_C:
                if np.isnan(op):
                    op, hi, lo = p_price[q], p_price[q], p_price[q]
                hi, lo = max(hi, p_price[q]), min(lo, p_price[q])
        if last >= 0:
            price[r], size[r], venue[r], tick_id[r] = p_price[last], p_size[last], p_venue[last], p_tick[last]
            basis[r], cond[r], aggressor[r] = p_basis[last], p_cond[last], p_aggr[last]
        else:
            price[r], size[r], venue[r], tick_id[r] = np.nan, 0, 0, 0
            basis[r], cond[r], aggressor[r] = B_NONE, C_NONE, 0
        total_volume[r], open_[r], high[r], low[r] = tv, op, hi, lo
    return price, size, venue, tick_id, basis, cond, aggressor, total_volume, open_, high, low
