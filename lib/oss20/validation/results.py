"""What a validation check says about one symbol-day: tier, check, status, figures and where.

Every tier returns ``CheckResult`` values; the report turns them into catalog rows, bus events and
the cache's status, and the quality score reads them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

Status = Literal["pass", "warn", "fail"]
STATUSES: tuple[Status, ...] = ("pass", "warn", "fail")
DETAIL_ROWS = 100
"""Offending rows (and time ranges) kept in a result's details: enough to find them, not a copy."""


@dataclass(frozen=True)
class CheckResult:
    """One check's outcome: ``rows`` are positions in the symbol-day's ticks (time order),
    ``ranges`` are [start, end) stretches of time (holes, stale spells, mismatched bars)."""

    tier: int
    check: str
    status: Status
    metrics: dict[str, Any] = field(default_factory=dict)
    rows: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    ranges: tuple[tuple[pd.Timestamp, pd.Timestamp], ...] = ()
    message: str = ""

    def details(self) -> dict[str, Any]:
        """JSON-ready details: the message, the first offending rows and ranges, and how many."""
        return {
            "message": self.message,
            "rows": self.rows[:DETAIL_ROWS].tolist(),
            "row_count": len(self.rows),
            "ranges": [[start.isoformat(), end.isoformat()] for start, end in self.ranges[:DETAIL_ROWS]],
            "range_count": len(self.ranges),
        }


def judge(
    tier: int,
    check: str,
    metrics: dict[str, Any],
    *,
    fail: bool = False,
    warn: bool = False,
    rows: np.ndarray | None = None,
    ranges: Sequence[tuple[pd.Timestamp, pd.Timestamp]] = (),
    message: str = "",
) -> CheckResult:
    """A result whose status is fail, else warn, else pass."""
    status: Status = "fail" if fail else "warn" if warn else "pass"
    return CheckResult(
        tier,
        check,
        status,
        {name: _plain(value) for name, value in metrics.items()},
        np.asarray(rows if rows is not None else [], np.int64),
        tuple(ranges),
        message,
    )


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[first, last] index pairs of the runs of True in ``mask``."""
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate(([0], mask.view(np.int8), [0]))))
    return list(zip(edges[::2].tolist(), (edges[1::2] - 1).tolist(), strict=True))


def _plain(value: Any) -> Any:
    """Metric values as JSON-ready Python scalars (NaN stays float)."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timestamp | dt.date):
        return value.isoformat()
    return value
