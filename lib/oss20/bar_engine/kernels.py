"""The numba kernels of every bar family, and the one bar accumulator they share.

Each kernel consumes a batch of trades and carries everything it needs to continue in its state
arrays, so feeding a day in one call or in any number of pieces gives the same bars. Completed
bars are written to ``out_f``/``out_i``; the open bar stays in the accumulator. All kernels and
the constants they read live in this file: numba's ``cache=True`` only notices edits to the file
a function is defined in.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from numba import njit

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
B1 = npt.NDArray[np.bool_]

# accumulator floats: OHLC of qualifying prints, OHLC of all prints, dollars, measure sums
OPEN_Q, HIGH_Q, LOW_Q, CLOSE_Q, OPEN_A, HIGH_A, LOW_A, CLOSE_A, DOLLAR, THETA, THETA_SELL = range(11)
ACC_F = 11
# accumulator ints: bar key, volume, trades, first and last tick time, qualifying prints
KEY, VOLUME, TRADES, FIRST_T, LAST_T, QUALIFIED = range(6)
ACC_I = 6
# output columns
OUT_OPEN, OUT_HIGH, OUT_LOW, OUT_CLOSE, OUT_DOLLAR = range(5)
OUT_F = 5
OUT_KEY, OUT_VOLUME, OUT_TRADES, OUT_FIRST_T, OUT_LAST_T = range(5)
OUT_I = 5
# information-driven state: expected ticks per bar, EWMA of signed measure, buy share, mean buy
# and sell measure, last price and sign, whether the EWMAs have seen a value yet, and the open
# bar's threshold (fixed when it opens, from what earlier ticks taught)
EXP_T, EXP_BM, P_BUY, EXP_BUY, EXP_SELL, PREV_P, PREV_B, SEEN_BM, SEEN_BUY, SEEN_SELL, THRESHOLD = range(11)
INFO = 11
# measures
TICK, VOLUME_M, DOLLAR_M = 0, 1, 2


def new_state() -> tuple[F64, I64, F64]:
    """Empty accumulator (floats, ints) and information state."""
    info = np.zeros(INFO)
    info[PREV_P] = np.nan
    info[P_BUY] = 0.5
    return np.zeros(ACC_F), np.zeros(ACC_I, np.int64), info


@njit(cache=True, inline="always")
def _start(acc_f: F64, acc_i: I64, key: int) -> None:
    acc_f[:] = 0.0
    acc_f[HIGH_Q] = acc_f[HIGH_A] = -np.inf
    acc_f[LOW_Q] = acc_f[LOW_A] = np.inf
    acc_i[:] = 0
    acc_i[KEY] = key


@njit(cache=True, inline="always")
def _add(acc_f: F64, acc_i: I64, t: int, price: float, size: int, qualified: bool) -> None:
    if acc_i[TRADES] == 0:
        acc_f[OPEN_A] = price
        acc_i[FIRST_T] = t
    acc_f[HIGH_A] = max(acc_f[HIGH_A], price)
    acc_f[LOW_A] = min(acc_f[LOW_A], price)
    acc_f[CLOSE_A] = price
    if qualified:
        if acc_i[QUALIFIED] == 0:
            acc_f[OPEN_Q] = price
        acc_f[HIGH_Q] = max(acc_f[HIGH_Q], price)
        acc_f[LOW_Q] = min(acc_f[LOW_Q], price)
        acc_f[CLOSE_Q] = price
        acc_i[QUALIFIED] += 1
    acc_f[DOLLAR] += price * size
    acc_i[VOLUME] += size
    acc_i[TRADES] += 1
    acc_i[LAST_T] = t


@njit(cache=True, inline="always")
def _emit(acc_f: F64, acc_i: I64, out_f: F64, out_i: I64, k: int) -> int:
    """Write the open bar as row ``k``: OHLC from qualifying prints, or from all if none qualified."""
    base = 0 if acc_i[QUALIFIED] > 0 else OPEN_A
    out_f[k, OUT_OPEN] = acc_f[base + OPEN_Q]
    out_f[k, OUT_HIGH] = acc_f[base + HIGH_Q]
    out_f[k, OUT_LOW] = acc_f[base + LOW_Q]
    out_f[k, OUT_CLOSE] = acc_f[base + CLOSE_Q]
    out_f[k, OUT_DOLLAR] = acc_f[DOLLAR]
    out_i[k, OUT_KEY] = acc_i[KEY]
    out_i[k, OUT_VOLUME] = acc_i[VOLUME]
    out_i[k, OUT_TRADES] = acc_i[TRADES]
    out_i[k, OUT_FIRST_T] = acc_i[FIRST_T]
    out_i[k, OUT_LAST_T] = acc_i[LAST_T]
    return k + 1


@njit(cache=True, inline="always")
def _measure(kind: int, price: float, size: int) -> float:
    if kind == TICK:
        return 1.0
    if kind == VOLUME_M:
        return float(size)
    return price * size


@njit(cache=True, inline="always")
def _sign(info: F64, price: float) -> float:
    """The tick rule: the sign of the price change, or the previous sign when the price is unchanged."""
    prev = info[PREV_P]
    if prev == prev and price != prev:
        info[PREV_B] = 1.0 if price > prev else -1.0
    info[PREV_P] = price
    return info[PREV_B]


@njit(cache=True)
def locate(
    times: I64, edges: I64, ordinals: I64, interval_ns: int, daily_part: int, segments: I64, keys: I64
) -> None:
    """Per tick, its segment (day ordinal * 4 + part) and its time-bar key, in one pass.

    ``edges`` holds [pre_open, open, close + 1 ns, post_close] per session; part 3 is "closed".
    Time-bar keys are the segment and the slot of the grid aligned to the open (a print at the
    close goes to the last regular slot); with ``interval_ns`` 0 the key is the day's bar
    (part ``daily_part``) instead.
    """
    half = np.int64(1) << 31
    for j in range(len(times)):
        t = times[j]
        lo, hi = 0, len(edges)
        while lo < hi:
            mid = (lo + hi) // 2
            if edges[mid] <= t:
                lo = mid + 1
            else:
                hi = mid
        w = lo - 1
        if w < 0:
            segments[j] = 3
            keys[j] = 0
            continue
        part = w % 4
        base = w - part
        segment = ordinals[base // 4] * 4 + part
        segments[j] = segment
        if interval_ns == 0:
            keys[j] = ordinals[base // 4] * 4 + daily_part
            continue
        at = min(t, edges[base + 2] - 2) if part == 1 else t
        keys[j] = (segment << 32) + (at - edges[base + 1]) // interval_ns + half


@njit(cache=True)
def time_bars_in_order(
    times: I64,
    prices: F64,
    sizes: I64,
    qualified: B1,
    edges: I64,
    ordinals: I64,
    interval_ns: int,
    daily_part: int,
    extended: bool,
    acc_f: F64,
    acc_i: I64,
    out_f: F64,
    out_i: I64,
) -> int:
    """``locate`` and ``time_bars`` fused into one forward walk, for ticks in time order.

    Returns -1 without touching any state when ``times`` go backwards (use the two-step path).
    Ticks outside the kept segments are skipped; ``interval_ns`` 0 means one bar per day. The
    open bar lives in local variables during the walk, and a tick's key is only worked out when
    it leaves the time window of the previous tick's key.
    """
    for j in range(1, len(times)):
        if times[j] < times[j - 1]:
            return -1
    half = np.int64(1) << 31
    sessions = len(ordinals)
    oq, hq, lq, cq = acc_f[OPEN_Q], acc_f[HIGH_Q], acc_f[LOW_Q], acc_f[CLOSE_Q]
    oa, ha, la, ca = acc_f[OPEN_A], acc_f[HIGH_A], acc_f[LOW_A], acc_f[CLOSE_A]
    dollar = acc_f[DOLLAR]
    key, volume, trades = acc_i[KEY], acc_i[VOLUME], acc_i[TRADES]
    first_t, last_t, nq = acc_i[FIRST_T], acc_i[LAST_T], acc_i[QUALIFIED]
    s = 0
    k = 0
    lo = hi = np.int64(0)  # the times that map to ``key`` (empty: work it out)
    for j in range(len(times)):
        t = times[j]
        if t < lo or t >= hi:
            while s < sessions and t >= edges[4 * s + 3]:
                s += 1
            if s == sessions or t < edges[4 * s]:
                lo = hi = np.int64(0)
                continue
            opening, closing = edges[4 * s + 1], edges[4 * s + 2]
            part = 0 if t < opening else (1 if t < closing else 2)
            if part != 1 and not extended:
                lo = hi = np.int64(0)
                continue
            start, end = edges[4 * s + part], edges[4 * s + part + 1]
            if interval_ns == 0:
                now = ordinals[s] * 4 + daily_part
                lo, hi = (edges[4 * s], edges[4 * s + 3]) if extended else (opening, closing)
            else:
                at = min(t, closing - 2) if part == 1 else t
                slot = (at - opening) // interval_ns
                now = ((ordinals[s] * 4 + part) << 32) + slot + half
                lo = max(start, opening + slot * interval_ns)
                hi = min(end, opening + (slot + 1) * interval_ns)
                if part == 1 and at != t:
                    lo, hi = t, t + 1
            if trades > 0 and now != key:
                base = 0 if nq > 0 else 1
                out_f[k, OUT_OPEN] = oq if base == 0 else oa
                out_f[k, OUT_HIGH] = hq if base == 0 else ha
                out_f[k, OUT_LOW] = lq if base == 0 else la
                out_f[k, OUT_CLOSE] = cq if base == 0 else ca
                out_f[k, OUT_DOLLAR] = dollar
                out_i[k, OUT_KEY] = key
                out_i[k, OUT_VOLUME] = volume
                out_i[k, OUT_TRADES] = trades
                out_i[k, OUT_FIRST_T] = first_t
                out_i[k, OUT_LAST_T] = last_t
                k += 1
                trades = 0
            if trades == 0:
                key = now
                hq = ha = -np.inf
                lq = la = np.inf
                oq = cq = 0.0
                dollar = 0.0
                volume = nq = 0
                first_t = t
        p = prices[j]
        if trades == 0:
            oa = p
        ha = max(ha, p)
        la = min(la, p)
        ca = p
        if qualified[j]:
            if nq == 0:
                oq = p
            hq = max(hq, p)
            lq = min(lq, p)
            cq = p
            nq += 1
        dollar += p * sizes[j]
        volume += sizes[j]
        trades += 1
        last_t = t
    acc_f[OPEN_Q], acc_f[HIGH_Q], acc_f[LOW_Q], acc_f[CLOSE_Q] = oq, hq, lq, cq
    acc_f[OPEN_A], acc_f[HIGH_A], acc_f[LOW_A], acc_f[CLOSE_A] = oa, ha, la, ca
    acc_f[DOLLAR] = dollar
    acc_i[KEY], acc_i[VOLUME], acc_i[TRADES] = key, volume, trades
    acc_i[FIRST_T], acc_i[LAST_T], acc_i[QUALIFIED] = first_t, last_t, nq
    return k


@njit(cache=True)
def time_bars(
    keys: I64,
    times: I64,
    prices: F64,
    sizes: I64,
    qualified: B1,
    acc_f: F64,
    acc_i: I64,
    out_f: F64,
    out_i: I64,
) -> int:
    """Bars of consecutive ticks sharing a key (session segment and time slot); returns bars written."""
    k = 0
    for j in range(len(times)):
        if acc_i[TRADES] > 0 and keys[j] != acc_i[KEY]:
            k = _emit(acc_f, acc_i, out_f, out_i, k)
            acc_i[TRADES] = 0
        if acc_i[TRADES] == 0:
            _start(acc_f, acc_i, keys[j])
        _add(acc_f, acc_i, times[j], prices[j], sizes[j], qualified[j])
    return k


@njit(cache=True)
def threshold_bars(
    segments: I64,
    times: I64,
    prices: F64,
    sizes: I64,
    qualified: B1,
    kind: int,
    threshold: float,
    acc_f: F64,
    acc_i: I64,
    out_f: F64,
    out_i: I64,
) -> int:
    """Tick, volume or dollar bars: a bar closes on the tick that brings its measure to ``threshold``."""
    k = 0
    for j in range(len(times)):
        if acc_i[TRADES] > 0 and segments[j] != acc_i[KEY]:
            k = _emit(acc_f, acc_i, out_f, out_i, k)
            acc_i[TRADES] = 0
        if acc_i[TRADES] == 0:
            _start(acc_f, acc_i, segments[j])
        _add(acc_f, acc_i, times[j], prices[j], sizes[j], qualified[j])
        acc_f[THETA] += _measure(kind, prices[j], sizes[j])
        if acc_f[THETA] >= threshold:
            k = _emit(acc_f, acc_i, out_f, out_i, k)
            acc_i[TRADES] = 0
    return k


@njit(cache=True, inline="always")
def _ewma(old: float, value: float, span: float) -> float:
    alpha = 2.0 / (span + 1.0)
    return old + alpha * (value - old)


@njit(cache=True, inline="always")
def _close_information_bar(
    acc_f: F64, acc_i: I64, info: F64, out_f: F64, out_i: I64, k: int, bar_span: float, lo: float, hi: float
) -> int:
    """Emit a bar that reached its expected size and learn from its length."""
    info[EXP_T] = min(hi, max(lo, _ewma(info[EXP_T], float(acc_i[TRADES]), bar_span)))
    k = _emit(acc_f, acc_i, out_f, out_i, k)
    acc_i[TRADES] = 0
    return k


@njit(cache=True)
def imbalance_bars(
    segments: I64,
    times: I64,
    prices: F64,
    sizes: I64,
    qualified: B1,
    kind: int,
    bar_span: float,
    tick_span: float,
    min_ticks: float,
    max_ticks: float,
    acc_f: F64,
    acc_i: I64,
    info: F64,
    out_f: F64,
    out_i: I64,
) -> int:
    """Imbalance bars: close when |sum of b_t v_t| reaches E0[T] |E0[b v]| (de Prado 2.3.2.1-2).

    The expectations are those when the bar opened (E[b v] an EWMA over ticks, seeded by the first
    signed tick; E[T] an EWMA over bar lengths). A bar holds at least ``min_ticks`` trades, and
    E[T] stays within [min_ticks, max_ticks]: the book's rule alone collapses to one-tick bars or
    runs away when E[b v] is near zero.
    """
    k = 0
    for j in range(len(times)):
        if acc_i[TRADES] > 0 and segments[j] != acc_i[KEY]:
            k = _emit(acc_f, acc_i, out_f, out_i, k)
            acc_i[TRADES] = 0
        if acc_i[TRADES] == 0:
            _start(acc_f, acc_i, segments[j])
            info[THRESHOLD] = info[EXP_T] * abs(info[EXP_BM])
        _add(acc_f, acc_i, times[j], prices[j], sizes[j], qualified[j])
        signed = _sign(info, prices[j]) * _measure(kind, prices[j], sizes[j])
        acc_f[THETA] += signed
        if info[SEEN_BM] == 1.0:
            info[EXP_BM] = _ewma(info[EXP_BM], signed, tick_span)
        elif signed != 0.0:
            info[EXP_BM], info[SEEN_BM] = signed, 1.0
        if acc_i[TRADES] >= min_ticks and abs(acc_f[THETA]) >= info[THRESHOLD]:
            k = _close_information_bar(acc_f, acc_i, info, out_f, out_i, k, bar_span, min_ticks, max_ticks)
    return k


@njit(cache=True)
def run_bars(
    segments: I64,
    times: I64,
    prices: F64,
    sizes: I64,
    qualified: B1,
    kind: int,
    bar_span: float,
    tick_span: float,
    min_ticks: float,
    max_ticks: float,
    acc_f: F64,
    acc_i: I64,
    info: F64,
    out_f: F64,
    out_i: I64,
) -> int:
    """Run bars: close when the larger side's run reaches E0[T] max(P E[v|buy], (1-P) E[v|sell]) (2.3.2.3-4).

    P, E[v|buy] and E[v|sell] are EWMAs over ticks, taken as they were when the bar opened; the
    same ``min_ticks`` and [min_ticks, max_ticks] bounds as imbalance bars apply.
    """
    k = 0
    for j in range(len(times)):
        if acc_i[TRADES] > 0 and segments[j] != acc_i[KEY]:
            k = _emit(acc_f, acc_i, out_f, out_i, k)
            acc_i[TRADES] = 0
        if acc_i[TRADES] == 0:
            _start(acc_f, acc_i, segments[j])
            p = info[P_BUY]
            info[THRESHOLD] = info[EXP_T] * max(p * info[EXP_BUY], (1.0 - p) * info[EXP_SELL])
        _add(acc_f, acc_i, times[j], prices[j], sizes[j], qualified[j])
        b = _sign(info, prices[j])
        v = _measure(kind, prices[j], sizes[j])
        if b > 0:
            acc_f[THETA] += v
            info[P_BUY] = _ewma(info[P_BUY], 1.0, tick_span)
            info[EXP_BUY] = _ewma(info[EXP_BUY], v, tick_span) if info[SEEN_BUY] else v
            info[SEEN_BUY] = 1.0
        elif b < 0:
            acc_f[THETA_SELL] += v
            info[P_BUY] = _ewma(info[P_BUY], 0.0, tick_span)
            info[EXP_SELL] = _ewma(info[EXP_SELL], v, tick_span) if info[SEEN_SELL] else v
            info[SEEN_SELL] = 1.0
        if acc_i[TRADES] >= min_ticks and max(acc_f[THETA], acc_f[THETA_SELL]) >= info[THRESHOLD]:
            k = _close_information_bar(acc_f, acc_i, info, out_f, out_i, k, bar_span, min_ticks, max_ticks)
    return k


@njit(cache=True)
def open_bar(acc_f: F64, acc_i: I64, out_f: F64, out_i: I64) -> int:
    """Write the bar still open (if it has ticks) as row 0 without closing it; returns 0 or 1."""
    if acc_i[TRADES] == 0:
        return 0
    return _emit(acc_f, acc_i, out_f, out_i, 0)
