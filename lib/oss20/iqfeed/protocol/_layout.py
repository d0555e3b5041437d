"""Field layouts compiled for the scan kernels, and readable reasons for the kernels' error codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from oss20.iqfeed.protocol import _kernels as K

REASONS = {
    K.E_FIELDS: "wrong field count",
    K.E_PRICE: "unparseable number",
    K.E_INT: "unparseable integer",
    K.E_TIME: "unparseable time (expected HH:MM:SS.ffffff)",
    K.E_DATE: "unparseable date",
    K.E_SYMBOL: "empty or non-printable symbol",
    K.E_LETTERS: "expected letters only",
    K.E_HEX: "expected pairs of hex digits",
    K.E_DATETIME: "unparseable date-time (expected CCYY-MM-DD HH:MM:SS[.ffffff])",
    K.E_EMPTY: "empty line",
    K.E_TSMSG: "unparseable timestamp message (expected T,CCYYMMDD HH:MM:SS)",
    K.E_REQUIRED: "required field is empty",
}


@dataclass(frozen=True)
class Layout:
    """A field layout compiled for the kernels: per field its parse kind and output slot."""

    names: tuple[str, ...]
    kinds: np.ndarray
    cols: np.ndarray
    nmin: int

    @classmethod
    def build(
        cls, names: Sequence[str], table: Mapping[str, tuple[int, int]], nmin: int | None = None
    ) -> Layout:
        pairs = [table.get(n, (K.K_SKIP, 0)) for n in names]
        return cls(
            tuple(names),
            np.array([p[0] for p in pairs], np.int64),
            np.array([p[1] for p in pairs], np.int64),
            len(names) if nmin is None else nmin,
        )

    def reason(self, code: int, field_index: int, line: bytes, skip: int) -> str:
        """Readable reason for a kernel error on ``line`` (``skip`` = fields before the layout)."""
        text = REASONS.get(code, f"error {code}")
        parts = line.split(b",")
        if code == K.E_FIELDS:
            got = len(parts) - skip
            want = (
                str(len(self.names)) if self.nmin == len(self.names) else f"{self.nmin} or {len(self.names)}"
            )
            return f"{text}: {got} fields after the header, expected {want} (plus an optional trailing comma)"
        if 0 <= field_index < len(self.names) and field_index + skip < len(parts):
            value = parts[field_index + skip].decode("latin-1")
            return f"{text} in field {self.names[field_index]!r}: {value!r}"
        return text

    def fix_slow(self, fout: np.ndarray, row: int, fields: list[bytes]) -> None:
        """Python float() for the price fields of one row the kernel could not round exactly."""
        for j, (k, c) in enumerate(zip(self.kinds.tolist(), self.cols.tolist(), strict=True)):
            if k == K.K_PRICE and j < len(fields) and fields[j]:
                fout[c, row] = float(fields[j])
