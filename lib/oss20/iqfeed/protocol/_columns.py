"""Whole-column conversions between kernel buffers and frames, vectorised (no per-row Python).

New York wall-time nanoseconds (the kernels' "local" time) to and from tz-aware timestamps,
interned strings, integer range checks, and cheap empty frames.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pandas as pd
from pandas.arrays import DatetimeArray

from oss20 import schema
from oss20.iqfeed.protocol import _kernels as K

_EMPTY: dict[int, pd.DataFrame] = {}


def empty(columns: schema.Columns) -> pd.DataFrame:
    """A fresh empty frame with ``columns`` (cached template, shallow copy: cheap per batch)."""
    template = _EMPTY.get(id(columns))
    if template is None:
        template = _EMPTY[id(columns)] = schema.empty_frame(columns)
    return template.copy(deep=False)


@functools.lru_cache(maxsize=64)
def _day_offsets(dmin: int, dmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Per calendar day from dmin to dmax: New York's UTC offset (ns) at midnight, and whether it
    changes during the day (DST transition days)."""
    starts = np.arange(dmin, dmax + 1, dtype=np.int64) * K.DAY_NS
    off0 = starts - pd.DatetimeIndex(starts.view("M8[ns]")).tz_localize(schema.TZ).asi8
    late = starts + 23 * 3_600_000_000_000
    off1 = late - pd.DatetimeIndex(late.view("M8[ns]")).tz_localize(schema.TZ).asi8
    off0.flags.writeable = False
    changing = off0 != off1
    changing.flags.writeable = False
    return off0, changing


def local_ns(values: Any) -> np.ndarray:
    """Nanoseconds of New York wall time (as if UTC) for a datetime column; NaT -> K.NAT."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    arr = s.array
    if not isinstance(arr, DatetimeArray):  # datetime64 and DatetimeTZDtype columns have one
        return local_ns(pd.to_datetime(s))
    if arr.tz is not None:
        arr = arr.tz_convert(schema.TZ).tz_localize(None)
    return np.asarray(arr.as_unit("ns")).view(np.int64)


def localize(local: np.ndarray) -> pd.DatetimeIndex:
    """New York wall-time ns (K.NAT = missing) -> tz-aware timestamps (see ``utc_ns``)."""
    return schema.timestamps(utc_ns(local))


def utc_ns(local: np.ndarray) -> np.ndarray:
    """New York wall-time ns (K.NAT = missing) -> epoch ns (UTC), vectorised per calendar day.

    Ambiguous wall times (the repeated hour in November) read as daylight time; nonexistent ones
    (the skipped hour in March) shift forward.
    """
    local = np.asarray(local, dtype=np.int64)
    nat = local == K.NAT
    valid = local[~nat] if nat.any() else local
    utc = local.copy()
    if valid.size:
        days = np.floor_divide(valid, K.DAY_NS)
        dmin, dmax = int(days.min()), int(days.max())
        if dmax - dmin > 5000:
            return (
                pd.DatetimeIndex(local.view("M8[ns]"))
                .tz_localize(schema.TZ, ambiguous=np.ones(local.size, bool), nonexistent="shift_forward")
                .asi8
            )
        off0, changing = _day_offsets(dmin, dmax)
        shifted = valid - off0[days - dmin]
        if nat.any():
            utc[~nat] = shifted
        else:
            utc = shifted
        if changing.any():
            on_change = np.zeros(local.size, bool)
            idx = np.flatnonzero(~nat)
            on_change[idx] = changing[days - dmin]
            sub = local[on_change]
            fixed = pd.DatetimeIndex(sub.view("M8[ns]")).tz_localize(
                schema.TZ, ambiguous=np.ones(sub.size, bool), nonexistent="shift_forward"
            )
            utc[on_change] = fixed.asi8
    return utc


def materialize(data: bytes, buf: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Object array of the strings at (starts, lens), one Python str per distinct value."""
    if starts.size == 0:
        return np.empty(0, dtype=object)
    codes, firsts = K.intern(buf, starts, lens)
    uniques = np.empty(firsts.size, dtype=object)
    for i, (s, n) in enumerate(zip(starts[firsts].tolist(), lens[firsts].tolist(), strict=True)):
        uniques[i] = data[s : s + n].decode("latin-1")
    return uniques[codes]


def int_range_bad(values: np.ndarray, dtype: Any) -> np.ndarray:
    """Mask of ``values`` that do not fit the integer ``dtype`` of their frame column."""
    info = np.iinfo(dtype)
    return (values < info.min) | (values > info.max)
