"""Tier 1: checks every tick batch inline, before it is journaled and stored.

A tick that fails a rule cannot be stored as truth and is quarantined with the rule's name as
its reason; a tick that only raises a warning (quotes crossed, arriving out of time order) is
real and is stored, and the warning is counted.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import pandas as pd

from oss20.calendar import AFTER_HOURS_CLOSE, PRE_MARKET_OPEN
from oss20.schema import TICK_COLUMNS, TIMESTAMP, conform, empty_frame, tick_identity

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
    reason = _row_failures(frame)
    reason = _duplicates(frame, reason, state)
    ok = reason == ""
    clean = frame.loc[ok].reset_index(drop=True)
    warnings = _warnings(clean, state)
    rejected = frame.loc[~ok].assign(reason=reason[~ok]).reset_index(drop=True)
    return Tier1Result(clean, rejected, warnings)


def _row_failures(frame: pd.DataFrame) -> np.ndarray:
    """The first failing rule of each row ('' where none fails), checked in FAIL_RULES order."""
    price = frame["price"].to_numpy()
    size = frame["size"].to_numpy()
    bid, ask = frame["bid"].to_numpy(), frame["ask"].to_numpy()
    clock = frame["timestamp"].dt
    minute = (clock.hour * 60 + clock.minute).to_numpy()
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


def _duplicates(frame: pd.DataFrame, reason: np.ndarray, state: Tier1State) -> np.ndarray:
    """Mark ticks whose identity was already seen (earlier in the batch or in an earlier batch)."""
    candidates = np.flatnonzero(reason == "")
    ids = tick_identity(frame)[candidates]
    days = frame["timestamp"].dt.date.to_numpy()[candidates]
    if len(days):
        state.move_to(max(days))
    symbols = frame["symbol"].to_numpy()[candidates]
    groups = pd.DataFrame({"symbol": symbols, "day": days}).groupby(["symbol", "day"], sort=False).indices
    for key, index in groups.items():
        seen = state.seen.setdefault(cast(tuple[str, dt.date], key), set())
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
    stamps = clean["timestamp"].to_numpy(np.int64)
    for name, index in clean.groupby("symbol", sort=False).indices.items():
        symbol, times = str(name), stamps[index]
        before = state.last_ns.get(symbol, np.iinfo(np.int64).min)
        running = np.maximum.accumulate(np.concatenate(([before], times)))
        warnings["out_of_order"] += int((times < running[:-1]).sum())
        state.last_ns[symbol] = int(running[-1])
    return +warnings


def _rejected(ticks: pd.DataFrame, reason: str) -> pd.DataFrame:
    return ticks.assign(reason=reason).reset_index(drop=True)


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute
