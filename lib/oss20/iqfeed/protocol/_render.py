"""Frame rows -> IQFeed text lines through the ``format_rows`` kernel (shared by Level 1 and history)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from oss20.iqfeed.protocol import _kernels as K
from oss20.iqfeed.protocol._columns import local_ns
from oss20.iqfeed.protocol._text import check_text, price_text


class _Strings:
    """String columns -> per-row codes into one shared byte table (for the format kernel)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.codes: list[np.ndarray] = []
        self.spans: list[tuple[int, int]] = []

    def add(self, values: Any, what: str) -> int:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        base = len(self.pieces)
        for u in uniques:
            self.pieces.append(check_text(u if isinstance(u, str) else str(u), what))
        na = base + len(uniques)
        self.pieces.append(b"")
        codes = codes.astype(np.int64) + base
        codes[codes < base] = na
        self.codes.append(codes)
        self.spans.append((base, na + 1))
        return len(self.codes) - 1

    def tables(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
        lens = np.fromiter((len(p) for p in self.pieces), np.int64, len(self.pieces))
        off = np.zeros(len(self.pieces) + 1, np.int64)
        np.cumsum(lens, out=off[1:])
        blob = np.frombuffer(b"".join(self.pieces) or b"\0", np.uint8)
        smat = np.stack(self.codes) if self.codes else np.zeros((0, n), np.int64)
        widths = [int(lens[a:b].max()) for a, b in self.spans]
        return smat, blob, off, widths


_WIDTH = {
    K.F_EMPTY: 0,
    K.F_PRICE: 26,
    K.F_INT: 20,
    K.F_TIME: 15,
    K.F_DATE_MDY: 10,
    K.F_DATETIME_US: 26,
    K.F_DATETIME_S: 19,
    K.F_DATE_ISO: 10,
    K.F_DAY: 2,
}


def render(
    frame: pd.DataFrame, spec: Sequence[tuple[int, str | None]], prefix: bytes, suffix: bytes
) -> bytes:
    """One line per frame row: prefix, fields per ``spec`` (format kind, source column), suffix."""
    n = len(frame)
    if n == 0:
        return b""
    fsrc: dict[str, int] = {}
    isrc: dict[tuple[str, bool], int] = {}
    ssrc: dict[str, int] = {}
    strings = _Strings()
    kinds, cols = [], []
    for kind, src in spec:
        col = 0
        if kind == K.F_EMPTY:
            pass  # a blank field: no source column
        elif src is None:
            raise ValueError(f"field kind {kind} needs a source column, got None (only F_EMPTY has none)")
        elif kind == K.F_PRICE:
            col = fsrc.setdefault(src, len(fsrc))
        elif kind == K.F_STR:
            if src not in ssrc:
                ssrc[src] = strings.add(frame[src], f"column {src!r} value")
            col = ssrc[src]
        else:
            col = isrc.setdefault((src, kind != K.F_INT), len(isrc))
        kinds.append(kind)
        cols.append(col)
    fmat = np.empty((len(fsrc), n), np.float64)
    for name, i in fsrc.items():
        fmat[i] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    imat = np.empty((len(isrc), n), np.int64)
    for (name, is_time), i in isrc.items():
        if is_time:
            imat[i] = local_ns(frame[name])
        else:
            values = frame[name].to_numpy()
            if values.dtype.kind not in "iub" and pd.isna(values).any():
                raise ValueError(f"column {name!r} has missing values; IQFeed integers are always present")
            imat[i] = values
    smat, blob, soff, widths = strings.tables(n)
    over_keys = K.price_slow_keys(fmat) if fmat.size else np.zeros(0, np.int64)
    texts = [
        price_text(float(fmat[k // n, k % n])).encode() for k in over_keys
    ]  # rare: values the kernel cannot write exactly
    over_off = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=over_off[1:])
    over_blob = np.frombuffer(b"".join(texts) or b"\0", np.uint8)
    longest = max((len(t) for t in texts), default=0)
    row_cap = len(prefix) + len(suffix) + len(spec)
    for kind, col in zip(kinds, cols, strict=True):
        row_cap += widths[col] if kind == K.F_STR else max(_WIDTH[kind], longest if kind == K.F_PRICE else 0)
    out = np.empty(n * row_cap, np.uint8)
    size = K.format_rows(
        n,
        np.array(kinds, np.int64),
        np.array(cols, np.int64),
        fmat,
        imat,
        smat,
        blob,
        soff,
        over_keys,
        over_off,
        over_blob,
        np.frombuffer(prefix, np.uint8),
        np.frombuffer(suffix, np.uint8),
        out,
    )
    return out[:size].tobytes()
