"""End-of-day jobs over the watchlist: backfill the day's gaps, reconcile it with history, validate it."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd

from oss20 import validate
from oss20.backfill.reconcile import reconcile
from oss20.backfill.run import plan_backfill, run_backfill
from oss20.config import Settings
from oss20.storage.arctic import TickStore
from oss20.symbols import validate_symbol

log = logging.getLogger(__name__)


def day_symbols(settings: Settings) -> list[str]:
    """The symbols end-of-day jobs look after: the watchlist, or every stored symbol when it is empty."""
    watchlist = [validate_symbol(s) for s in settings.watchlist.split(",") if s.strip()]
    return list(dict.fromkeys(watchlist)) or TickStore(settings.resolved_arctic_uri).symbols()


def eod_backfill(
    day: dt.date,
    settings: Settings,
    *,
    now: pd.Timestamp | None = None,
    feed: bool = True,
    extended_hours: bool = True,
    concurrency: int = 8,
) -> dict[str, Any]:
    """Fill the reachable gaps of the watchlist's ``day`` from IQFeed history (``plan_backfill`` then
    ``run_backfill``: every chunk is recorded as a backfill task of its own).

    ``now`` is the clock the planner judges reachability by (default: now); ``extended_hours`` fills
    pre-market and after hours too, as the collector captures them. ``failed`` in the result
    counts chunks that failed; a run with any is recorded as failed.
    """
    symbols = day_symbols(settings)
    if not symbols:
        return {"symbols": 0, "chunks": 0, "received": 0, "stored": 0, "failed": 0}
    when = pd.Timestamp.now(tz="UTC") if now is None else now
    chunks = plan_backfill(symbols, day, day, settings, when, feed=feed, extended_hours=extended_hours)
    outcomes = run_backfill(chunks, settings, concurrency=concurrency) if chunks else []
    failed = [o for o in outcomes if o.status == "failed"]
    for outcome in failed:
        log.warning("eod backfill chunk failed symbol=%s error=%s", outcome.chunk.symbol, outcome.error)
    return {
        "symbols": len(symbols),
        "chunks": len(chunks),
        "received": sum(o.received for o in outcomes),
        "stored": sum(o.stored for o in outcomes),
        "failed": len(failed),
    }


def eod_reconcile(day: dt.date, settings: Settings, *, now: pd.Timestamp | None = None) -> dict[str, Any]:
    """Re-read the watchlist's ``day`` from tick history and compare it with the store per market
    center (TickIDs, counts, volume); store what is missing, snapshot the reconciled day in ArcticDB
    and record one catalog row per market center (``oss20.backfill.reconcile``).

    ``now`` judges whether tick history still reaches ``day`` (default: the feed's clock). ``extra``
    counts stored ticks history does not show: reported, never deleted.
    """
    symbols = day_symbols(settings)
    if not symbols:
        return {"symbols": 0, "market_centers": 0, "missing": 0, "extra": 0, "filled": 0, "snapshot": None}
    done = reconcile(symbols, day, settings, now=now)
    return {
        "symbols": len(symbols),
        "market_centers": len(done.rows),
        "missing": done.missing,
        "extra": done.extra,
        "filled": done.filled,
        "requests": done.requests,
        "snapshot": done.snapshot,
    }


def validate_day(day: dt.date, settings: Settings, *, feed: bool = True) -> dict[str, Any]:
    """Run the four validation tiers on the watchlist's stored ``day`` and record the results (catalog,
    bus, cache) as ``oss20 validate`` does; return how many symbol-days passed, warned and failed.

    A failing check is a finding, not a failed job: it is in validation_results for the dashboards.
    """
    symbols = day_symbols(settings)
    reports = validate.run(symbols, day, day, settings, feed=feed) if symbols else []
    statuses = [report.status for report in reports]
    return {
        "symbol_days": len(reports),
        "pass": statuses.count("pass"),
        "warn": statuses.count("warn"),
        "fail": statuses.count("fail"),
    }
