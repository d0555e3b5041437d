"""End-of-day jobs over the watchlist: backfill the day's gaps, then validate the day."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd

from oss20 import validate
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
