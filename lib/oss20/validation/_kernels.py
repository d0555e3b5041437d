"""Numba passes over one symbol-day's columns (time order), one per check: a 5M-tick day in milliseconds.

Kept in one module so numba's on-disk cache stays consistent.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True, nogil=True, inline="always")
def _bucket(t: int, start: int, step: int, key: int, lo: int, hi: int) -> tuple[int, int, int]:
    """The ``step`` bucket of ``t`` from ``start``, with its [lo, hi) bounds: divides only when ``t``
    leaves the current bucket (sorted times rarely do), as a division costs far more than a compare."""
    if lo <= t < hi:
        return key, lo, hi
    key = (t - start) // step
    lo = start + key * step
    return key, lo, lo + step


@numba.njit(cache=True, nogil=True)
def increasing_per_venue(venues: np.ndarray, ids: np.ndarray) -> bool:
    """True when every market center's TickIDs strictly rise in stored order (so none repeats)."""
    last = np.full(65536, -1, np.int64)
    for i in range(len(ids)):
        v = venues[i] & 0xFFFF
        if ids[i] <= last[v]:
            return False
        last[v] = ids[i]
    return True


@numba.njit(cache=True, nogil=True)
def minute_bars(
    ns: np.ndarray, price: np.ndarray, size: np.ndarray, qualified: np.ndarray, midnight: int, step: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """IQFeed-style bars of ``step`` ns: end, open, high, low, close (qualified prints, or all when a
    bar has none), volume and trades of every print."""
    n = len(ns)
    m = _changes(ns, midnight, step)  # one slot per bar, never one per tick
    end = np.empty(m, np.int64)
    o, h, lo, c = np.empty(m), np.empty(m), np.empty(m), np.empty(m)
    vol, cnt = np.empty(m, np.int64), np.empty(m, np.int64)
    k = -1
    key = -1
    b, lo_t, hi_t = -1, 0, 0
    any_q = False
    for i in range(n):
        b, lo_t, hi_t = _bucket(ns[i], midnight, step, b, lo_t, hi_t)
        if b != key:
            k += 1
            key = b
            end[k] = midnight + (b + 1) * step
            o[k], h[k], lo[k], c[k] = price[i], price[i], price[i], price[i]
            vol[k], cnt[k] = 0, 0
            any_q = False
        p = price[i]
        if qualified[i]:
            if not any_q:
                o[k], h[k], lo[k] = p, p, p
                any_q = True
            h[k] = max(h[k], p)
            lo[k] = min(lo[k], p)
            c[k] = p
        elif not any_q:
            h[k] = max(h[k], p)
            lo[k] = min(lo[k], p)
            c[k] = p
        vol[k] += size[i]
        cnt[k] += 1
    k += 1
    return end[:k], o[:k], h[:k], lo[:k], c[:k], vol[:k], cnt[:k]


@numba.njit(cache=True, nogil=True)
def spikes(price: np.ndarray, qualified: np.ndarray, threshold: float) -> np.ndarray:
    """Rows of qualified prints that move over ``threshold`` (relative) from the previous qualified
    print and come back (to within half the move) on the next one."""
    found = []
    row1 = -1
    p2 = p1 = 0.0
    seen = 0
    for i in range(len(price)):
        p = price[i]
        if not qualified[i] or p <= 0:
            continue
        if seen >= 2:
            up, back, net = p1 / p2 - 1.0, p / p1 - 1.0, p / p2 - 1.0
            if (
                abs(up) > threshold
                and abs(back) > threshold
                and up * back < 0
                and abs(net) < 0.5 * min(abs(up), abs(back))
            ):
                found.append(row1)
        p2, p1, row1 = p1, p, i
        seen += 1
    return np.array(found, np.int64) if len(found) else np.empty(0, np.int64)


@numba.njit(cache=True, nogil=True)
def moving_steps(price: np.ndarray, qualified: np.ndarray, every: int) -> np.ndarray:
    """Absolute relative changes between neighbouring qualified prints, at every ``every``-th row
    (non-zero ones only): a sample for a robust scale, touching a fraction of the rows."""
    out = np.empty(len(price) // max(every, 1) + 1)
    k = 0
    for i in range(1, len(price), max(every, 1)):
        if qualified[i] and qualified[i - 1] and price[i - 1] > 0 and price[i] != price[i - 1]:
            out[k] = abs(price[i] / price[i - 1] - 1.0)
            k += 1
    return out[:k]


@numba.njit(cache=True, nogil=True)
def rule_failures(
    price: np.ndarray,
    size: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    tick_id: np.ndarray,
    venue: np.ndarray,
    wall: np.ndarray,
    max_price: float,
    max_size: int,
    first_minute: int,
    end_minute: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Tier 1's row rules in one pass: failures per rule (price, size, quote, identity, hours: wall
    time of day in [``first_minute``, ``end_minute``)) and the rows failing any."""
    counts = np.zeros(5, np.int64)
    rows = []
    day, day_lo, day_hi = -1, 0, 0
    for i in range(len(price)):
        day, day_lo, day_hi = _bucket(wall[i], 0, 86_400_000_000_000, day, day_lo, day_hi)
        opens, closes = day_lo + first_minute * 60_000_000_000, day_lo + end_minute * 60_000_000_000
        bad = False
        if not (np.isfinite(price[i]) and 0 < price[i] < max_price):
            counts[0] += 1
            bad = True
        if not (0 < size[i] < max_size):
            counts[1] += 1
            bad = True
        if not (np.isfinite(bid[i]) and np.isfinite(ask[i]) and bid[i] >= 0 and ask[i] >= 0):
            counts[2] += 1
            bad = True
        if tick_id[i] < 0 or venue[i] < 0:
            counts[3] += 1
            bad = True
        if not opens <= wall[i] < closes:
            counts[4] += 1
            bad = True
        if bad:
            rows.append(i)
    return counts, np.array(rows, np.int64) if len(rows) else np.empty(0, np.int64)


@numba.njit(cache=True, nogil=True)
def volume_breaks(ns: np.ndarray, size: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, int]:
    """First rows of runs of one timestamp where the cumulative volume does not grow by the run's
    sizes (the first run is judged only by the second value returned: volume before it)."""
    bad = []
    n = len(ns)
    start = 0
    before = 0
    leading = 0
    while start < n:
        stop = start
        top = total[start]
        added = 0
        while stop < n and ns[stop] == ns[start]:
            top = max(top, total[stop])
            added += size[stop]
            stop += 1
        if start == 0:
            leading = top - added
        elif top - before != added:
            bad.append(start)
        before = top
        start = stop
    return np.array(bad, np.int64) if bad else np.empty(0, np.int64), leading


@numba.njit(cache=True, nogil=True)
def sampled_gaps(ns: np.ndarray, every: int) -> np.ndarray:
    """Every ``every``-th gap between consecutive timestamps (for a cheap median)."""
    m = (len(ns) - 1) // max(every, 1) + 1 if len(ns) > 1 else 0
    out = np.empty(m, np.int64)
    for k in range(m):
        i = k * every
        out[k] = ns[i + 1] - ns[i] if i + 1 < len(ns) else 0
    return out


@numba.njit(cache=True, nogil=True)
def stale_gaps(ns: np.ndarray, bid: np.ndarray, ask: np.ndarray, limit: float) -> np.ndarray:
    """Rows ``i`` where the gap to row ``i + 1`` exceeds ``limit`` ns and the quote moved across it."""
    found = []
    for i in range(len(ns) - 1):
        if ns[i + 1] - ns[i] > limit and (bid[i + 1] != bid[i] or ask[i + 1] != ask[i]):
            found.append(i)
    return np.array(found, np.int64) if found else np.empty(0, np.int64)


@numba.njit(cache=True, nogil=True)
def spread_counts(
    bid: np.ndarray, ask: np.ndarray, units: float, limit: int
) -> tuple[int, int, int, float, int, np.ndarray, np.ndarray]:
    """Over trades with both sides quoted: count, crossed, locked, spread sum, the lowest spread in
    ``units`` (per dollar), a histogram of spreads from it (clipped at ``limit``), and crossed rows."""
    n = crossed = locked = 0
    total = 0.0
    low = 1 << 62
    for i in range(len(bid)):
        if bid[i] > 0 and ask[i] > 0:
            low = min(low, int(np.rint((ask[i] - bid[i]) * units)))
    counts = np.zeros(limit + 1, np.int64)
    rows = []
    for i in range(len(bid)):
        if bid[i] > 0 and ask[i] > 0:
            spread = ask[i] - bid[i]
            n += 1
            total += spread
            if spread < 0:
                crossed += 1
                rows.append(i)
            elif spread == 0:
                locked += 1
            counts[min(int(np.rint(spread * units)) - low, limit)] += 1
    crossed_rows = np.array(rows, np.int64) if len(rows) else np.empty(0, np.int64)
    return n, crossed, locked, total, low if n else 0, counts, crossed_rows


@numba.njit(cache=True, nogil=True)
def outside_quote(
    price: np.ndarray, bid: np.ndarray, ask: np.ndarray, qualified: np.ndarray
) -> tuple[int, np.ndarray]:
    """Qualified trades with a sane quote (bid > 0, ask >= bid): how many, and those printed outside
    (counted first, then collected: no array as long as the day)."""
    n = k = 0
    for i in range(len(price)):
        if qualified[i] and bid[i] > 0 and ask[i] >= bid[i]:
            n += 1
            if price[i] < bid[i] - 1e-9 or price[i] > ask[i] + 1e-9:
                k += 1
    rows = np.empty(k, np.int64)
    k = 0
    for i in range(len(price)):
        if (
            qualified[i]
            and bid[i] > 0
            and ask[i] >= bid[i]
            and (price[i] < bid[i] - 1e-9 or price[i] > ask[i] + 1e-9)
        ):
            rows[k] = i
            k += 1
    return n, rows


@numba.njit(cache=True, nogil=True)
def size_histogram(size: np.ndarray, limit: int) -> tuple[np.ndarray, int, int, int]:
    """Counts of each size from the smallest (clipped at ``limit`` above it), the smallest, the sum
    and the largest, in two passes."""
    low = size[0]
    for i in range(len(size)):
        low = min(low, size[i])
    counts = np.zeros(limit + 1, np.int64)
    total = 0
    high = low
    for i in range(len(size)):
        counts[min(size[i] - low, limit)] += 1
        total += size[i]
        high = max(high, size[i])
    return counts, low, total, high


@numba.njit(cache=True, nogil=True)
def flow(
    ns: np.ndarray,
    price: np.ndarray,
    keep: np.ndarray,
    aggressor: np.ndarray,
    size: np.ndarray,
    start: int,
    end: int,
    short: int,
    long: int,
) -> tuple[np.ndarray, np.ndarray, int, int]:
    """In one pass: the last kept price in [start, end] of each ``short`` and each ``long`` bucket
    from ``start`` (buckets without one left out), and the volume of buyer- (1) and
    seller-initiated (2) trades."""
    closes_s, closes_l = (
        np.full((end - start) // short + 1, np.nan),
        np.full((end - start) // long + 1, np.nan),
    )
    buys = sells = 0
    for i in range(len(ns)):
        if aggressor[i] == 1:
            buys += size[i]
        elif aggressor[i] == 2:
            sells += size[i]
        if keep[i] and start <= ns[i] <= end:
            offset = ns[i] - start
            closes_s[offset // short] = price[i]
            closes_l[offset // long] = price[i]
    return closes_s[~np.isnan(closes_s)], closes_l[~np.isnan(closes_l)], buys, sells


@numba.njit(cache=True, nogil=True)
def day_stats(
    price: np.ndarray, size: np.ndarray, regular_c: np.ndarray
) -> tuple[float, float, float, float, int, float]:
    """Regular-session basis-C open, high, low, close; the day's volume and its VWAP numerator."""
    o = h = lo = c = np.nan
    volume = 0
    notional = 0.0
    first = True
    for i in range(len(price)):
        volume += size[i]
        notional += price[i] * size[i]
        if regular_c[i]:
            p = price[i]
            if first:
                o = h = lo = p
                first = False
            h = max(h, p)
            lo = min(lo, p)
            c = p
    return o, h, lo, c, volume, notional


@numba.njit(cache=True, nogil=True)
def _changes(ns: np.ndarray, start: int, step: int) -> int:
    """How many times the ``step`` bucket of ``ns`` changes from row to row, the first row included:
    the slots a pass over buckets needs, whatever the order of ``ns``."""
    count = 0
    key = -(1 << 62)
    b, lo, hi = -1, 0, 0
    for i in range(len(ns)):
        b, lo, hi = _bucket(ns[i], start, step, b, lo, hi)
        if b != key:
            count += 1
            key = b
    return count
