"""Tier 1: checks every tick batch inline, before it is journaled and stored.

A tick that fails a rule cannot be stored as truth and is quarantined with the rule's name as
its reason; a tick that only raises a warning (quotes crossed, arriving out of time order) is
real and is stored, and the warning is counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oss20.calendar import AFTER_HOURS_CLOSE, PRE_MARKET_OPEN
from oss20.schema import (
    NS_PER_DAY,
    TICK_COLUMNS,
    TIMESTAMP,
    conform,
    empty_frame,
    group_rows,
    tick_identity,
    wall_ns,
)

MAX_PRICE = 1_000_000.0
MAX_SIZE = 100_000_000

FAIL_RULES = (
    "schema",
    "timezone",
    "price_range",
    "size_range",
    "quote_range",
    "identity",
    "hours",
    "duplicate",
)
WARN_RULES = ("crossed_quote", "out_of_order")


@dataclass
class Tier1State:
    """What tier 1 remembers between batches: last trade time per symbol, identities seen per symbol-day."""

    last_ns: dict[str, int] = field(default_factory=dict)
    seen: dict[tuple[str, dt.date], set[int]] = field(default_factory=dict)
    newest: dt.date = dt.date.min

    def move_to(self, day: dt.date) -> None:
        """Forget identities of days before yesterday once ``day`` is the newest (late prints still count)."""
        if day > self.newest:
            self.newest = day
            self.seen = {key: ids for key, ids in self.seen.items() if (day - key[1]).days <= 1}


@dataclass(frozen=True)
class Tier1Result:
    """A batch split into ticks to store and ticks to quarantine (with ``reason``), plus warning counts."""

    clean: pd.DataFrame
    rejected: pd.DataFrame
    warnings: Counter[str]

    @property
    def reasons(self) -> Counter[str]:
        return Counter(self.rejected["reason"].tolist())


def check_ticks(ticks: pd.DataFrame, state: Tier1State) -> Tier1Result:
    """Run the tier-1 rules over ``ticks`` (``schema.TICK_COLUMNS``), updating ``state``."""
    if "timestamp" in ticks and ticks["timestamp"].dtype != TIMESTAMP:
        return Tier1Result(empty_frame(TICK_COLUMNS), _rejected(ticks, "timezone"), Counter())
    try:
        frame = conform(ticks, TICK_COLUMNS)
    except (KeyError, ValueError, TypeError) as err:
        return Tier1Result(empty_frame(TICK_COLUMNS), _rejected(ticks, f"schema: {err}"), Counter())
    wall = wall_ns(frame["timestamp"])
    reason = _row_failures(frame, wall)
    reason = _duplicates(frame, wall // NS_PER_DAY, reason, state)
    ok = reason == ""
    clean = frame.loc[ok].reset_index(drop=True)
    warnings = _warnings(clean, state)
    rejected = frame.loc[~ok].assign(reason=reason[~ok]).reset_index(drop=True)
    return Tier1Result(clean, rejected, warnings)


def _row_failures(frame: pd.DataFrame, wall: np.ndarray) -> np.ndarray:
    """The first failing rule of each row ('' where none fails), checked in FAIL_RULES order."""
    price = frame["price"].to_numpy()
    size = frame["size"].to_numpy()
    bid, ask = frame["bid"].to_numpy(), frame["ask"].to_numpy()
    minute = (wall % NS_PER_DAY) // (60 * 10**9)
    checks = {
        "price_range": ~(np.isfinite(price) & (price > 0) & (price < MAX_PRICE)),
        "size_range": ~((size > 0) & (size < MAX_SIZE)),
        "quote_range": ~(np.isfinite(bid) & np.isfinite(ask) & (bid >= 0) & (ask >= 0)),
        "identity": (frame["tick_id"].to_numpy() < 0) | (frame["market_center"].to_numpy() < 0),
        "hours": (minute < _minutes(PRE_MARKET_OPEN)) | (minute >= _minutes(AFTER_HOURS_CLOSE)),
    }
    reason = np.full(len(frame), "", dtype=object)
    for rule, failed in reversed(checks.items()):
        reason[failed] = rule
    return reason


def _duplicates(frame: pd.DataFrame, days: np.ndarray, reason: np.ndarray, state: Tier1State) -> np.ndarray:
    """Mark ticks whose identity was already seen (earlier in the batch or in an earlier batch)."""
    candidates = np.flatnonzero(reason == "")
    if len(candidates) == 0:
        return reason
    ids = tick_identity(frame)[candidates]
    groups = group_rows(frame["symbol"].to_numpy()[candidates], days[candidates])
    state.move_to(max(day for _, day, _ in groups))
    for symbol, day, index in groups:
        seen = state.seen.setdefault((symbol, day), set())
        part = ids[index]
        repeat = pd.Index(part).duplicated(keep="first")
        repeat |= np.fromiter((i in seen for i in part.tolist()), bool, len(part))
        reason[candidates[index[repeat]]] = "duplicate"
        seen.update(part[~repeat].tolist())
    return reason


def _warnings(clean: pd.DataFrame, state: Tier1State) -> Counter[str]:
    """Count crossed quotes and ticks older than their symbol's latest, and move the latest on."""
    warnings: Counter[str] = Counter()
    bid, ask = clean["bid"].to_numpy(), clean["ask"].to_numpy()
    warnings["crossed_quote"] = int(((bid > ask) & (ask > 0)).sum())
    stamps = clean["timestamp"].array.asi8
    codes, names = pd.factorize(clean["symbol"].to_numpy(), sort=False)
    for code, name in enumerate(names):
        symbol, times = str(name), stamps[codes == code]
        before = state.last_ns.get(symbol, np.iinfo(np.int64).min)
        running = np.maximum.accumulate(np.concatenate(([before], times)))
        warnings["out_of_order"] += int((times < running[:-1]).sum())
        state.last_ns[symbol] = int(running[-1])
    return +warnings


def _rejected(ticks: pd.DataFrame, reason: str) -> pd.DataFrame:
    return ticks.assign(reason=reason).reset_index(drop=True)


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute
