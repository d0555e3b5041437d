"""The shape of a trading day: event intensity per second, and where prints happen (venue tables).

Plain numpy, cached per session length; the kernels in ``_kernels`` consume these arrays.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import numpy.typing as npt

from oss20.market._kernels import F64, I16, SWEEP_MAX, SWEEP_MEAN_EXTRA, SWEEP_SHARE, VenueTables
from oss20.market.universe import DEFAULT_TICK_STEP, TICK_STEP, TRF_CENTERS, VENUE_SHARE


@lru_cache(maxsize=8)
def intensity(open_s: int, close_s: int, end_s: int) -> tuple[F64, F64]:
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
def _venues() -> tuple[I16, F64, I16, F64, F64]:
    """(codes, single-print probabilities, lit codes, lit weights, TickID step per code).

    Sweeps take distinct lit venues, which flattens their venue mix; the single-print mix is
    calibrated (by a fixed-seed simulation) so that all prints together match VENUE_SHARE.
    """
    codes = np.array(list(VENUE_SHARE), dtype=np.int16)
    target = np.array(list(VENUE_SHARE.values()))
    target = target / target.sum()
    lit = ~np.isin(codes, TRF_CENTERS)
    lit_codes, lit_w = codes[lit], target[lit] / target[lit].sum()
    rng = np.random.default_rng(0)
    n = 20_000
    k = np.minimum(2 + rng.poisson(SWEEP_MEAN_EXTRA, n), SWEEP_MAX)
    order = _weighted_distinct(rng, lit_w, n)
    picks = order[np.arange(SWEEP_MAX) < k[:, None]]
    sweep_share = np.zeros(len(codes))
    sweep_share[lit] = np.bincount(picks, minlength=len(lit_codes)) / len(picks)
    single = np.maximum(target - SWEEP_SHARE * sweep_share, 0.0005) / (1 - SWEEP_SHARE)
    step = np.full(int(codes.max()) + 1, DEFAULT_TICK_STEP)
    for code, mean in TICK_STEP.items():
        step[code] = mean
    return codes, single / single.sum(), lit_codes, lit_w, step


def _weighted_distinct(rng: np.random.Generator, weights: F64, n: int) -> npt.NDArray[np.intp]:
    """n rows of venue indices in weighted random order without replacement (Efraimidis-Spirakis)."""
    keys = np.log(rng.random((n, len(weights)))) / weights
    return np.argsort(-keys, axis=1)[:, :SWEEP_MAX]


@lru_cache(maxsize=1)
def venue_tables() -> VenueTables:
    """The kernels' venue tables (see ``VenueTables``)."""
    codes, single_p, lit_codes, lit_w, step = _venues()
    is_trf = np.zeros(len(step), dtype=np.bool_)
    is_trf[list(TRF_CENTERS)] = True
    return codes, np.cumsum(single_p), lit_codes, lit_w, is_trf, np.log1p(-1.0 / step)
