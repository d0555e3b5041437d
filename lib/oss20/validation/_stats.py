"""Quantiles of millions of small integers (trade sizes, spreads in 1/10,000ths) from their counts.

Sorting or partitioning 5M values takes tens of milliseconds per quantile; counting them (a numba
pass) and reading quantiles off the counts takes a few for all of them. Values ``LIMIT`` or more
above the smallest share the top bucket: a quantile that lands there is NaN, for the caller to
compute exactly.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

LIMIT = 1 << 16


def quantiles_of_counts(counts: np.ndarray, low: int, n: int, qs: Sequence[float]) -> list[float]:
    """Quantiles of ``n`` values given as ``counts[v - low]`` (the last bucket: ``LIMIT`` and over);
    NaN for a quantile in the last bucket, or when there are no values."""
    if n == 0:
        return [float("nan")] * len(qs)
    ranked = np.cumsum(counts)
    out = []
    for q in qs:
        position = q * (n - 1)
        below, above = int(np.floor(position)), int(np.ceil(position))
        lo, hi = (int(x) for x in np.searchsorted(ranked, [below + 1, above + 1]))
        out.append(float("nan") if hi >= len(counts) - 1 else low + lo + (hi - lo) * (position - below))
    return out
