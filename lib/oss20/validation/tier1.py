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
    REJECTED_COLUMNS,
    TICK_COLUMNS,
    TIMESTAMP,
    empty_frame,
    group_rows,
    identity,
)
from oss20.tick_arrays import TickArrays
from oss20.validation import _kernels as K
from oss20.validation.identity_set import IdentitySet
from oss20.validation.results import CheckResult, judge

TIER = 1

MAX_PRICE = 1_000_000.0
MAX_SIZE = 100_000_000

ROW_RULES = ("price_range", "size_range", "quote_range", "identity", "hours")
"""The rules judged on each row alone, in the order ``_rule_masks`` and the stored-day kernel use."""
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
    seen: dict[tuple[str, dt.date], IdentitySet] = field(default_factory=dict)
    newest: dt.date = dt.date.min

    def move_to(self, day: dt.date) -> None:
        """Forget identities of days before yesterday once ``day`` is the newest (late prints still count)."""
        if day > self.newest:
            self.newest = day
            self.seen = {key: ids for key, ids in self.seen.items() if (day - key[1]).days <= 1}


@dataclass(frozen=True)
class Tier1Result:
    """A batch split into ticks to store and ticks to quarantine (with ``reason``), plus warning counts."""

    clean: TickArrays
    rejected: pd.DataFrame
    warnings: Counter[str]

    @property
    def reasons(self) -> Counter[str]:
        return Counter(self.rejected["reason"].tolist())


def check_ticks(ticks: pd.DataFrame | TickArrays, state: Tier1State) -> Tier1Result:
    """Run the tier-1 rules over ``ticks`` (a ``TICK_COLUMNS`` frame, or its columns), updating ``state``."""
    if isinstance(ticks, pd.DataFrame):
        if "timestamp" in ticks and ticks["timestamp"].dtype != TIMESTAMP:
            return Tier1Result(TickArrays.new_empty(), _rejected(ticks, "timezone"), Counter())
        try:
            arrays = TickArrays.from_frame(ticks)
        except (KeyError, ValueError, TypeError) as err:
            return Tier1Result(TickArrays.new_empty(), _rejected(ticks, f"schema: {err}"), Counter())
        ticks = arrays
    wall = ticks.wall_ns()
    reason = _row_failures(ticks, wall)
    reason = _duplicates(ticks, wall // NS_PER_DAY, reason, state)
    ok = reason == ""
    if ok.all():
        return Tier1Result(ticks, _NO_REJECTS, _warnings(ticks, state))
    clean = ticks.take(ok)
    rejected = ticks.take(~ok).frame().assign(reason=reason[~ok])
    return Tier1Result(clean, rejected, _warnings(clean, state))


def _row_failures(ticks: TickArrays, wall: np.ndarray) -> np.ndarray:
    """The first failing rule of each row ('' where none fails), checked in FAIL_RULES order."""
    reason = np.full(len(ticks), "", dtype=object)
    for rule, failed in reversed(_rule_masks(ticks, wall).items()):
        if failed.any():
            reason[failed] = rule
    return reason


def _rule_masks(ticks: TickArrays, wall: np.ndarray) -> dict[str, np.ndarray]:
    """Each rule's mask of failing rows."""
    price, size, bid, ask = ticks["price"], ticks["size"], ticks["bid"], ticks["ask"]
    minute = (wall % NS_PER_DAY) // (60 * 10**9)
    return {
        "price_range": ~(np.isfinite(price) & (price > 0) & (price < MAX_PRICE)),
        "size_range": ~((size > 0) & (size < MAX_SIZE)),
        "quote_range": ~(np.isfinite(bid) & np.isfinite(ask) & (bid >= 0) & (ask >= 0)),
        "identity": (ticks["tick_id"] < 0) | (ticks["market_center"] < 0),
        "hours": (minute < _minutes(PRE_MARKET_OPEN)) | (minute >= _minutes(AFTER_HOURS_CLOSE)),
    }


def _duplicates(ticks: TickArrays, days: np.ndarray, reason: np.ndarray, state: Tier1State) -> np.ndarray:
    """Mark ticks whose identity was already seen (earlier in the batch or in an earlier batch)."""
    candidates = np.flatnonzero(reason == "")
    if len(candidates) == 0:
        return reason
    ids = identity(ticks["market_center"], ticks["tick_id"])
    if len(candidates) == len(reason):
        groups = ticks.by_symbol_day()
    else:
        ids = ids[candidates]
        groups = group_rows(ticks["symbol"][candidates], days[candidates])
    state.move_to(max(day for _, day, _ in groups))
    for symbol, day, index in groups:
        seen = state.seen.get((symbol, day))
        if seen is None:
            seen = state.seen[(symbol, day)] = IdentitySet()
        repeat = seen.add(ids[index])
        if repeat.any():
            reason[candidates[index[repeat]]] = "duplicate"
    return reason


def _warnings(clean: TickArrays, state: Tier1State) -> Counter[str]:
    """Count crossed quotes and ticks older than their symbol's latest, and move the latest on."""
    warnings: Counter[str] = Counter()
    bid, ask = clean["bid"], clean["ask"]
    warnings["crossed_quote"] = int(((bid > ask) & (ask > 0)).sum())
    stamps = clean["timestamp"]
    groups = clean.by_symbol_day()
    if len(groups) == 1:
        parts = [(groups[0][0], stamps)]
    else:
        parts = [(symbol, stamps[rows]) for symbol, _, rows in groups]
    for symbol, times in parts:
        before = state.last_ns.get(symbol, _EARLIEST)
        if times[0] >= before and (len(times) == 1 or bool((times[1:] >= times[:-1]).all())):
            state.last_ns[symbol] = int(times[-1])
            continue
        running = np.maximum.accumulate(np.concatenate(([before], times)))
        warnings["out_of_order"] += int((times < running[:-1]).sum())
        state.last_ns[symbol] = int(running[-1])
    return +warnings


_EARLIEST = int(np.iinfo(np.int64).min)
_NO_REJECTS = empty_frame(REJECTED_COLUMNS)
"""The rejects of a clean batch, shared (read it, never change it)."""


def _rejected(ticks: pd.DataFrame, reason: str) -> pd.DataFrame:
    return ticks.assign(reason=reason).reset_index(drop=True)


def _minutes(time: dt.time) -> int:
    return time.hour * 60 + time.minute


def check_stored_day(ticks: pd.DataFrame, quarantined: pd.DataFrame, malformed: int = 0) -> list[CheckResult]:
    """Tier 1 over a stored symbol-day (what it holds must pass every rule), its quarantine, and the
    count of that day's feed lines that could not be parsed at all (``malformed``, any symbol's)."""
    problems = [
        f"{name}: {ticks[name].dtype} (expected {dtype})"
        for name, dtype in TICK_COLUMNS.items()
        if name in ticks and ticks[name].dtype != dtype
    ] + [f"{name}: missing" for name in TICK_COLUMNS if name not in ticks]
    schema = judge(
        TIER,
        "schema",
        {"columns": len(ticks.columns), "problems": len(problems)},
        fail=bool(problems),
        message="; ".join(problems) or "columns and dtypes as TICK_COLUMNS (America/New_York)",
    )
    if problems:
        return [schema]
    arrays = TickArrays.from_frame(ticks)
    venues, ids = arrays["market_center"], arrays["tick_id"]
    counts, failing = K.rule_failures(
        arrays["price"],
        arrays["size"],
        arrays["bid"],
        arrays["ask"],
        ids,
        venues,
        arrays.wall_ns(),
        MAX_PRICE,
        MAX_SIZE,
        _minutes(PRE_MARKET_OPEN),
        _minutes(AFTER_HOURS_CLOSE),
    )
    by_rule = {rule: int(n) for rule, n in zip(ROW_RULES, counts.tolist(), strict=True) if n}
    if K.increasing_per_venue(venues, ids):  # the usual stored day: nothing can repeat
        repeat = np.zeros(len(arrays), bool)
    else:
        repeat = IdentitySet(len(arrays)).add(identity(venues, ids))
    stamps = arrays["timestamp"]
    backwards = np.flatnonzero(stamps[1:] < stamps[:-1]) + 1
    reasons = Counter(quarantined["reason"].tolist()) if len(quarantined) else Counter()
    return [
        schema,
        judge(
            TIER,
            "rules",
            {"checked": len(arrays), "failing": len(failing), **by_rule},
            fail=len(failing) > 0,
            rows=failing,
            message=", ".join(f"{n} {rule}" for rule, n in by_rule.items()) or "every stored tick passes",
        ),
        judge(
            TIER,
            "duplicates",
            {"duplicates": int(repeat.sum())},
            fail=bool(repeat.any()),
            rows=np.flatnonzero(repeat),
            message=f"{int(repeat.sum())} ticks stored twice (same market center and TickID)",
        ),
        judge(
            TIER,
            "time_order",
            {"backwards": len(backwards)},
            fail=len(backwards) > 0,
            rows=backwards,
            message=f"{len(backwards)} ticks stored before an earlier one",
        ),
        judge(
            TIER,
            "quarantine",
            {"quarantined": len(quarantined), **reasons, "malformed_lines": malformed},
            warn=len(quarantined) > 0 or malformed > 0,
            message=", ".join(
                [f"{n} {reason}" for reason, n in reasons.items()]
                + ([f"{malformed} unparseable feed lines that day"] if malformed else [])
            )
            or "nothing quarantined",
        ),
    ]
