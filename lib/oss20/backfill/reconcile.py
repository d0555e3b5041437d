"""End-of-day reconciliation: the day's tick history read again and compared with what the store holds.

Per symbol and market center: TickID sets (history's ticks not stored are *missing*, stored ticks
history lacks are *extra*), counts and volume. ``compare`` is pure; ``reconcile`` does the I/O: one
history request per symbol through the shared request budget, the missing ticks passed through tier 1
and merged on the tick identity (nothing is stored twice), an ArcticDB snapshot of the reconciled
day, and one catalog row per market center. Extra ticks are reported, never deleted: a tick live
captured that history no longer shows is a finding for a person, not something to drop by rule.

    result = reconcile(["AAPL", "KO"], dt.date(2025, 1, 2), Settings.from_env())
    print(result.snapshot, result.missing, result.filled)
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from oss20.backfill.budget import CountedBudget, open_budget
from oss20.backfill.executor import store_ticks
from oss20.backfill.gaps import reachable
from oss20.config import Settings
from oss20.iqfeed.client import Endpoint, HistoryClient, feed_time
from oss20.metrics import BackfillMetrics, backfill_metrics
from oss20.schema import TZ, tick_identity
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import ReconciliationRecord, open_catalog

log = logging.getLogger(__name__)

COMPARED = ["market_center", "tick_id", "size"]
"""The tick columns a comparison reads."""
COMPARISON_COLUMNS = ["market_center", "live_count", "history_count", "missing", "extra", "volume_difference"]
"""Columns of ``compare``'s frame, one row per market center."""
CONNECTIONS = 4
"""History connections a reconciliation keeps open (requests still go through the shared budget)."""
SNAPSHOT_PREFIX = "reconcile"


def compare(stored: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """Stored ticks of one symbol-day against its tick history, per market center (``COMPARISON_COLUMNS``).

    Both frames need ``market_center``, ``tick_id`` and ``size``. ``missing`` counts history's ticks
    whose (market center, TickID) is not stored, ``extra`` stored ticks history lacks,
    ``volume_difference`` is history's shares minus the stored ones. Every market center of either
    side has a row, ordered by market center.

    >>> live = pd.DataFrame({"market_center": [11, 11], "tick_id": [1, 2], "size": [100, 50]})
    >>> feed = pd.DataFrame({"market_center": [11, 11, 19], "tick_id": [1, 2, 1], "size": [100, 50, 10]})
    >>> compare(live, feed).iloc[1].to_dict()  # doctest: +NORMALIZE_WHITESPACE
    {'market_center': 19, 'live_count': 0, 'history_count': 1, 'missing': 1, 'extra': 0,
     'volume_difference': 10}
    """
    live, feed = tick_identity(stored), tick_identity(history)
    live_centers = stored["market_center"].to_numpy(np.int64)
    feed_centers = history["market_center"].to_numpy(np.int64)
    centers = np.union1d(live_centers, feed_centers)

    def per_center(keys: np.ndarray, values: np.ndarray) -> np.ndarray:
        totals = np.zeros(len(centers), np.int64)
        np.add.at(totals, np.searchsorted(centers, keys), values.astype(np.int64))
        return totals

    ones_live, ones_feed = np.ones(len(live), np.int64), np.ones(len(feed), np.int64)
    return pd.DataFrame(
        {
            "market_center": centers,
            "live_count": per_center(live_centers, ones_live),
            "history_count": per_center(feed_centers, ones_feed),
            "missing": per_center(feed_centers, ~np.isin(feed, live)),
            "extra": per_center(live_centers, ~np.isin(live, feed)),
            "volume_difference": per_center(feed_centers, history["size"].to_numpy())
            - per_center(live_centers, stored["size"].to_numpy()),
        },
        columns=COMPARISON_COLUMNS,
    )


def missing_ticks(stored: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    """History's ticks whose (market center, TickID) is not among the stored ones."""
    return history[~np.isin(tick_identity(history), tick_identity(stored))]


@dataclass(frozen=True)
class Reconciliation:
    """What one reconciliation of a day found and did; ``rows`` are the catalog's rows of it."""

    day: dt.date
    snapshot: str | None
    rows: list[ReconciliationRecord]
    requests: int

    @property
    def missing(self) -> int:
        return sum(r.missing for r in self.rows)

    @property
    def extra(self) -> int:
        return sum(r.extra for r in self.rows)

    @property
    def filled(self) -> int:
        return sum(r.filled for r in self.rows)


def snapshot_name(day: dt.date, run_at: pd.Timestamp) -> str:
    """The snapshot of ``day`` reconciled at ``run_at``: ``reconcile-2025-01-02-20250102T230500123456Z``."""
    return f"{SNAPSHOT_PREFIX}-{day.isoformat()}-{run_at.tz_convert('UTC'):%Y%m%dT%H%M%S%fZ}"


def reconcile(
    symbols: Sequence[str],
    day: dt.date,
    settings: Settings,
    *,
    now: pd.Timestamp | None = None,
    metrics: BackfillMetrics | None = None,
) -> Reconciliation:
    """Read ``day``'s tick history of ``symbols`` again, store what the store lacks, snapshot the day
    and record the comparison per market center in the catalog.

    ``now`` (tz-aware; default the feed's own clock, as history counts its reach from it) judges
    whether tick history still reaches ``day``; a day out of reach raises ValueError. The snapshot
    holds every reconciled symbol-day stored (None when none is).
    """
    when = asyncio.run(feed_time(Endpoint.from_settings(settings))) if now is None else now
    if not reachable(day, when):
        raise ValueError(f"tick history no longer reaches {day} at {when}: it cannot be reconciled")
    store = TickStore(settings.resolved_arctic_uri)
    budget = CountedBudget(open_budget(settings))
    with budget.tally() as tally:
        histories = asyncio.run(_histories(symbols, day, settings, budget))
    counts = backfill_metrics() if metrics is None else metrics
    counts.requests_sent(tally.slots, max(0, tally.slots - len(symbols)), settings.history_rate)
    counts.idle()
    rows: list[ReconciliationRecord] = []
    run_at = pd.Timestamp.now(tz="UTC")
    for symbol, history in zip(symbols, histories, strict=True):
        stored = store.read(symbol, day, columns=COMPARED)
        before = compare(stored, history)
        store_ticks(missing_ticks(stored, history), store)
        after = compare(store.read(symbol, day, columns=COMPARED), history)
        filled = after["live_count"] - before["live_count"]
        counts.ticks_stored.inc(int(filled.sum()))
        log.info(
            "reconciled symbol=%s day=%s live=%d history=%d missing=%d extra=%d filled=%d",
            symbol,
            day,
            len(stored),
            len(history),
            before["missing"].sum(),
            before["extra"].sum(),
            filled.sum(),
        )
        rows += [
            ReconciliationRecord(symbol, day, center, live, feed, lost, extra, volume, fill)
            for center, live, feed, lost, extra, volume, fill in np.column_stack(
                [before.to_numpy(np.int64), filled.to_numpy(np.int64)]
            ).tolist()
        ]
    snapshot = _snapshot(store, symbols, day, run_at)
    rows = [dataclasses.replace(row, snapshot=snapshot) for row in rows]
    with open_catalog(settings.resolved_catalog_url) as catalog:
        catalog.record_reconciliation(rows)
    return Reconciliation(day, snapshot, rows, tally.slots)


async def _histories(
    symbols: Sequence[str], day: dt.date, settings: Settings, budget: CountedBudget
) -> list[pd.DataFrame]:
    """The whole day's ticks of each symbol from history (one request per symbol, pre-market to
    after hours), in the order of ``symbols``."""
    start = pd.Timestamp(day).tz_localize(TZ)
    end = start + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1)
    endpoint = Endpoint.from_settings(settings)
    async with HistoryClient(endpoint, connections=CONNECTIONS, budget=budget) as history:
        return list(await asyncio.gather(*(history.ticks(s, start, end) for s in symbols)))


def _snapshot(store: TickStore, symbols: Sequence[str], day: dt.date, run_at: pd.Timestamp) -> str | None:
    """Snapshot the latest version of each of ``symbols``' stored ``day``; its name, or None when
    none of them is stored."""
    keys = [store.key(s, day) for s in symbols if store.ticks.has_symbol(store.key(s, day))]
    if not keys:
        return None
    name = snapshot_name(day, run_at)
    versions = {key: store.ticks.read_metadata(key).version for key in keys}
    store.ticks.snapshot(name, metadata={"day": day.isoformat(), "job": "eod_reconcile"}, versions=versions)
    log.info("reconciled day snapshot name=%s symbol_days=%d", name, len(keys))
    return name
