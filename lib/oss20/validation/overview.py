"""Validation results at a glance: scores per symbol-day, open alerts, and results kept current.

Pure functions over the catalog's results frame (``Catalog.validation_results``: symbol, day, tier,
check, status, metrics, details, run_at), so a dashboard, a notebook and a test read the same
figures. Validation events (``oss20.bus.ValidationEvent``) are folded in with ``apply_outcomes``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import pandas as pd

from oss20.validation.report import PENALTIES

RESULT_COLUMNS = ["symbol", "day", "tier", "check", "status", "metrics", "details"]
"""The columns of a results frame these functions read (the catalog's, less ``run_at``)."""
SCORE_COLUMNS = ["symbol", "day", "score", "status", "failed", "warned", "checks"]
ALERT_COLUMNS = ["symbol", "day", "tier", "check", "status", "message"]
SEVERITY = {"pass": 0, "warn": 1, "fail": 2}
"""Statuses in the order of how bad they are."""


class Outcome(Protocol):
    """One check's outcome as the bus carries it (``oss20.bus.ValidationEvent`` is one)."""

    @property
    def symbol(self) -> str: ...
    @property
    def day(self) -> str: ...
    @property
    def tier(self) -> int: ...
    @property
    def check(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def metrics(self) -> dict[str, Any]: ...


def empty_results() -> pd.DataFrame:
    """A results frame with no rows (what an empty catalog gives)."""
    return pd.DataFrame(
        {name: pd.Series(dtype=np.int64 if name == "tier" else object) for name in RESULT_COLUMNS}
    )


def day_scores(results: pd.DataFrame) -> pd.DataFrame:
    """One row per symbol-day: its 0-100 quality score (``report.score``), worst status, how many
    checks failed and warned, and the names of those that did not pass (``"t2 bad_prints"``).

    Days are ISO strings (a heatmap's categorical axis), ordered by day, then symbol.
    """
    if results.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in SCORE_COLUMNS}).astype(
            {"score": np.int64, "failed": np.int64, "warned": np.int64}
        )
    status = results["status"].to_numpy()
    penalty = [PENALTIES.get((int(t), str(s)), 0) for t, s in zip(results["tier"], status, strict=True)]
    named = np.where(status == "pass", "", "t" + results["tier"].astype(str) + " " + results["check"])
    frame = pd.DataFrame(
        {
            "symbol": results["symbol"].to_numpy(),
            "day": [_iso(d) for d in results["day"]],
            "penalty": penalty,
            "severity": results["status"].map(SEVERITY).fillna(0).astype(np.int64).to_numpy(),
            "failed": status == "fail",
            "warned": status == "warn",
            "named": named,
        }
    )
    grouped = frame.groupby(["day", "symbol"], sort=True)
    out = grouped.agg(
        penalty=("penalty", "sum"),
        severity=("severity", "max"),
        failed=("failed", "sum"),
        warned=("warned", "sum"),
        checks=("named", lambda names: ", ".join(n for n in names if n)),
    ).reset_index()
    out["score"] = np.maximum(0, 100 - out["penalty"]).astype(np.int64)
    out["status"] = out["severity"].map({v: k for k, v in SEVERITY.items()})
    out = out.astype({"failed": np.int64, "warned": np.int64})
    return out[SCORE_COLUMNS]


def open_alerts(results: pd.DataFrame, days: int = 5) -> pd.DataFrame:
    """The checks that failed or warned on the ``days`` most recent days in ``results``: failures
    first, then newest day first, then symbol, tier and check; ``message`` is the check's own."""
    if days < 1:
        raise ValueError(f"days must be at least 1, got {days}")
    if results.empty:
        return pd.DataFrame({name: pd.Series(dtype=object) for name in ALERT_COLUMNS})
    iso = pd.Series([_iso(d) for d in results["day"]], index=results.index)
    recent = sorted(set(iso))[-days:]
    chosen = results[iso.isin(recent) & results["status"].isin(["warn", "fail"])]
    out = pd.DataFrame(
        {
            "symbol": chosen["symbol"],
            "day": iso[chosen.index],
            "tier": chosen["tier"].astype(np.int64),
            "check": chosen["check"],
            "status": chosen["status"],
            "message": [_message(d) for d in chosen["details"]],
            "severity": chosen["status"].map(SEVERITY),
        }
    )
    out = out.sort_values(
        ["severity", "day", "symbol", "tier", "check"], ascending=[False, False, True, True, True]
    )
    return out[ALERT_COLUMNS].reset_index(drop=True)


def apply_outcomes(
    results: pd.DataFrame, outcomes: Iterable[Outcome]
) -> tuple[pd.DataFrame, set[tuple[str, str]]]:
    """``results`` with each outcome replacing the row of its symbol, day, tier and check (or added);
    also the (symbol, ISO day) pairs that changed.

    An outcome carries no details, so a replaced row keeps none: its offending ticks are read from
    the catalog again (the run that sent the event recorded them there first).
    """
    fresh = {(o.symbol, _iso(o.day), int(o.tier), o.check): o for o in outcomes}
    if not fresh:
        return results, set()
    keys = list(
        zip(
            results["symbol"],
            (_iso(d) for d in results["day"]),
            results["tier"],
            results["check"],
            strict=True,
        )
    )
    kept = results[[key not in fresh for key in keys]]
    added = pd.DataFrame(
        [
            (
                o.symbol,
                dt.date.fromisoformat(_iso(o.day)),
                int(o.tier),
                o.check,
                o.status,
                dict(o.metrics),
                {},
            )
            for o in fresh.values()
        ],
        columns=RESULT_COLUMNS,
    )
    merged = pd.concat([kept[RESULT_COLUMNS], added], ignore_index=True)
    merged["tier"] = merged["tier"].astype(np.int64)
    merged = merged.sort_values(["day", "symbol", "tier", "check"], kind="stable").reset_index(drop=True)
    return merged, {(symbol, day) for symbol, day, _, _ in fresh}


def _iso(day: object) -> str:
    """A day (date, Timestamp or ISO text) as YYYY-MM-DD."""
    if isinstance(day, dt.datetime | pd.Timestamp):
        return day.date().isoformat()
    if isinstance(day, dt.date):
        return day.isoformat()
    return dt.date.fromisoformat(str(day)).isoformat()


def _message(details: object) -> str:
    return str(details.get("message", "")) if isinstance(details, dict) else ""
