"""The ticks a validation check blames, from the details it recorded in the catalog.

A check's details (``CheckResult.details``) name offending rows (positions in the symbol-day's
stored ticks, time order) and offending time ranges; tier 1's quarantine check blames the ticks
that were never stored. ``offending_ticks`` turns those into rows a person can read and a chart
can mark. Pure: the caller reads the stored day and its quarantine (``oss20.validate.inspect_day``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from oss20.schema import TIMESTAMP

OFFENDER_COLUMNS = ["row", "timestamp", "price", "size", "bid", "ask", "market_center", "tick_id", "reason"]
"""``row`` is the tick's position in the stored day (missing for quarantined ticks); ``reason`` is
the check's name, or the tier-1 rule that quarantined the tick."""
QUARANTINE = (1, "quarantine")


def offending_ticks(
    ticks: pd.DataFrame, quarantined: pd.DataFrame, tier: int, check: str, details: dict[str, Any]
) -> pd.DataFrame:
    """The ticks check ``(tier, check)`` of one symbol-day blames, in time order (``OFFENDER_COLUMNS``).

    ``ticks`` is the stored day (``TICK_COLUMNS``, the order validation saw), ``quarantined`` its
    tier-1 rejects (``REJECTED_COLUMNS``) and ``details`` the check's recorded details. The rows it
    names come first; a check that names only time ranges (minute bars, staleness) blames the ticks
    inside them; tier 1's quarantine check blames the quarantined ticks. A passing check blames none.
    """
    if (tier, check) == QUARANTINE:
        if quarantined.empty:
            return empty_offenders()
        return _offenders(quarantined, pd.array([pd.NA] * len(quarantined), "Int64"), quarantined["reason"])
    rows = np.asarray(details.get("rows", []), np.int64)
    rows = np.unique(rows[(rows >= 0) & (rows < len(ticks))])
    if len(rows) == 0:
        inside = np.zeros(len(ticks), bool)
        stamps = ticks["timestamp"]
        for start, end in offending_ranges(details):
            inside |= ((stamps >= start) & (stamps < end)).to_numpy()
        rows = np.flatnonzero(inside)
    picked = ticks.iloc[rows]
    return _offenders(picked, pd.array(rows, "Int64"), pd.Series(check, index=picked.index, dtype=object))


def offending_ranges(details: dict[str, Any]) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """The [start, end) time ranges a check's details name (holes, stale spells, mismatched minutes)."""
    return [
        (pd.Timestamp(start).tz_convert(TIMESTAMP.tz), pd.Timestamp(end).tz_convert(TIMESTAMP.tz))
        for start, end in details.get("ranges", [])
    ]


def truncation_note(details: dict[str, Any]) -> str:
    """What the details leave out: the catalog keeps the first of a check's offending rows and
    ranges only (``results.DETAIL_ROWS``); empty when it kept them all."""
    notes = [
        f"first {len(details.get(name, []))} of {details[count]} {name}"
        for name, count in (("rows", "row_count"), ("ranges", "range_count"))
        if int(details.get(count, 0)) > len(details.get(name, []))
    ]
    return "; ".join(notes)


def empty_offenders() -> pd.DataFrame:
    """An offenders frame with no rows."""
    return pd.DataFrame(
        {
            "row": pd.array([], "Int64"),
            "timestamp": pd.Series([], dtype=TIMESTAMP),
            "price": pd.Series([], dtype=np.float64),
            "size": pd.Series([], dtype=np.int64),
            "bid": pd.Series([], dtype=np.float64),
            "ask": pd.Series([], dtype=np.float64),
            "market_center": pd.Series([], dtype=np.int16),
            "tick_id": pd.Series([], dtype=np.int64),
            "reason": pd.Series([], dtype=object),
        }
    )


def _offenders(frame: pd.DataFrame, rows: Any, reason: pd.Series) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "row": rows,
            **{name: frame[name].to_numpy() for name in OFFENDER_COLUMNS[1:-1]},
            "reason": reason.to_numpy(),
        }
    )
    out["timestamp"] = out["timestamp"].astype(TIMESTAMP)
    return out.sort_values("timestamp", kind="stable").reset_index(drop=True)
