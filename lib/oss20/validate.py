"""Validation of stored symbol-days: storage and the feed in, results out to catalog, bus and cache.

``run`` reads each stored day (one ArcticDB batch read per symbol), asks the feed for its
1-minute and daily bars (HIT/HDT; a feed that cannot be reached makes tier 3 warn, never stops the
run), runs the four tiers (``validation.report``), stores the tier metadata in ``metadata_tierN``,
and records every result in the catalog's validation_results, on the bus as validation events and
as each symbol's ``validation:{symbol}:status`` in the cache.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pandas as pd

from oss20 import calendar
from oss20.bus import Bus, ValidationEvent, open_bus
from oss20.config import Settings
from oss20.connection import current
from oss20.iqfeed.client import Endpoint, HistoryClient, IQFeedError
from oss20.storage import keys
from oss20.storage.arctic import TickStore, library
from oss20.storage.cache import Cache, open_cache
from oss20.storage.catalog import ValidationRecord, open_catalog
from oss20.symbols import validate_symbol
from oss20.validation import tier4
from oss20.validation.offenders import offending_ticks
from oss20.validation.report import DayReport, validate_day

log = logging.getLogger(__name__)

METADATA_INTERVAL = "day"
"""The interval part of metadata keys: ``{symbol}/day/{date}/tierN``."""
FEED_TIMEOUT = 20.0

Progress = Callable[[str, dt.date], None]


def run(
    symbols: Sequence[str],
    start: dt.date | str,
    end: dt.date | str,
    settings: Settings | None = None,
    *,
    feed: bool = True,
    progress: Progress | None = None,
    bus: Bus | None = None,
    cache: Cache | None = None,
) -> list[DayReport]:
    """Validate every session of ``symbols`` from ``start`` to ``end`` (and any day stored off the
    calendar) and record the results; ``progress(symbol, day)`` is called after each day.

    Events and statuses go to ``bus`` and ``cache`` when given (a dashboard's own), else to the
    ones the settings name (Redis, or in-process ones that live only as long as this call).
    """
    settings = settings or current()
    tickers = [validate_symbol(s) for s in symbols]
    first, last = calendar.to_date(start), calendar.to_date(end)
    if first > last:
        raise ValueError(f"start {first} is after end {last}")
    store = TickStore(settings.resolved_arctic_uri)
    stored_keys = store.ticks.list_symbols()
    layouts = {s: tier4.storage_layout(stored_keys, s, first, last, store.asset_class) for s in tickers}
    days = {s: sorted(layouts[s]) for s in tickers}
    bars, note = _feed_bars(settings, days, first, last) if feed else ({}, "feed not asked")
    malformed = {day: len(store.malformed(day)) for day in sorted({d for ds in days.values() for d in ds})}
    reports = []
    for symbol in tickers:
        for day in days[symbol]:
            minutes, daily = bars.get((symbol, day), (None, None))
            report = validate_day(
                store.read(symbol, day),
                symbol,
                day,
                store.quarantined(symbol, day),
                minutes,
                daily,
                layouts[symbol][day],
                note,
                malformed[day],
            )
            _store_metadata(settings.resolved_arctic_uri, report)
            reports.append(report)
            if progress is not None:
                progress(symbol, day)
    _record(settings, reports)
    _announce(reports, bus or open_bus(settings.redis_url), cache or open_cache(settings.redis_url))
    return reports


def _feed_bars(
    settings: Settings, days: dict[str, list[dt.date]], first: dt.date, last: dt.date
) -> tuple[dict[tuple[str, dt.date], tuple[pd.DataFrame, pd.Series | None]], str]:
    """The feed's 1-minute bars per symbol-day and daily bars, or ({}, why) when it cannot answer."""
    try:
        return asyncio.run(_ask_feed(Endpoint.from_settings(settings), days, first, last)), ""
    except (IQFeedError, OSError, TimeoutError) as err:
        log.warning("feed unreachable for tier 3, going on without it error=%s", err)
        return {}, f"the feed could not be asked ({err})"


async def _ask_feed(
    endpoint: Endpoint, days: dict[str, list[dt.date]], first: dt.date, last: dt.date
) -> dict[tuple[str, dt.date], tuple[pd.DataFrame, pd.Series | None]]:
    out: dict[tuple[str, dt.date], tuple[pd.DataFrame, pd.Series | None]] = {}
    async with HistoryClient(endpoint, timeout=FEED_TIMEOUT) as history:
        for symbol, symbol_days in days.items():
            sessions = [d for d in symbol_days if calendar.is_session(d)]
            if not sessions:
                continue
            daily = await history.daily(symbol, first, last)
            by_date = {pd.Timestamp(row["date"]).date(): row for _, row in daily.iterrows()}
            minutes = await asyncio.gather(
                *(
                    history.interval_bars(
                        symbol,
                        60,
                        calendar.session(d).pre_open,
                        calendar.session(d).post_close + pd.Timedelta(minutes=1),
                    )
                    for d in sessions
                )
            )
            for d, frame in zip(sessions, minutes, strict=True):
                out[(symbol, d)] = (frame, by_date.get(d))
    return out


def _store_metadata(uri: str, report: DayReport) -> None:
    for tier, frame in report.metadata.items():
        name = keys.METADATA[tier - 1]
        key = keys.key(name, report.symbol, report.day, interval=METADATA_INTERVAL, tier=tier)
        meta = {"score": report.score, "status": report.status}
        library(uri, name).write(key, frame, metadata=meta, prune_previous_versions=True)


def read_metadata(
    symbol: str, day: dt.date | str, tier: int, settings: Settings | None = None
) -> pd.DataFrame:
    """The stored tier-``tier`` metadata of one symbol-day (empty if it was never validated)."""
    if tier not in (1, 2, 3):
        raise ValueError(f"tier metadata exists for tiers 1-3, not {tier}")
    uri = (settings or current()).resolved_arctic_uri
    name = keys.METADATA[tier - 1]
    key = keys.key(name, symbol, day, interval=METADATA_INTERVAL, tier=tier)
    lib = library(uri, name)
    return lib.read(key).data if lib.has_symbol(key) else pd.DataFrame()


def results(
    symbol: str | None = None,
    start: dt.date | str | None = None,
    end: dt.date | str | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Recorded check outcomes (``Catalog.validation_results``), optionally of one symbol, ``start``
    to ``end``; raises ``CatalogUnavailable`` when the catalog cannot be reached."""
    first = None if start is None else calendar.to_date(start)
    last = None if end is None else calendar.to_date(end)
    catalog = open_catalog((settings or current()).resolved_catalog_url)
    try:
        return catalog.validation_results(symbol, first, last)
    finally:
        catalog.close()


INSPECTED_COLUMNS = ("price", "size", "bid", "ask", "market_center", "tick_id")
"""What ``inspect`` reads of a stored day: enough to chart it and to show its offending ticks."""


@dataclass(frozen=True)
class DayInspection:
    """One validated symbol-day: its recorded checks, its stored ticks and its quarantine."""

    symbol: str
    day: dt.date
    results: pd.DataFrame
    ticks: pd.DataFrame
    quarantined: pd.DataFrame

    def offenders(self, tier: int, check: str) -> pd.DataFrame:
        """The ticks check ``(tier, check)`` blames (``offenders.offending_ticks``)."""
        chosen = self.results[(self.results["tier"] == tier) & (self.results["check"] == check)]
        if chosen.empty:
            known = ", ".join(
                f"t{t} {c}" for t, c in zip(self.results["tier"], self.results["check"], strict=True)
            )
            raise ValueError(
                f"{self.symbol} {self.day} has no recorded check tier {tier} {check!r}; recorded: {known}"
            )
        return offending_ticks(self.ticks, self.quarantined, tier, check, chosen["details"].iloc[0])


def inspect_day(symbol: str, day: dt.date | str, settings: Settings | None = None) -> DayInspection:
    """Read what it takes to look into one validated symbol-day (checks, ticks, quarantine).

    Raises ValueError, saying what was wrong, for a malformed symbol or day and for a symbol-day
    the catalog holds no results of.

    >>> checks = oss20.quality("AAPL", "2025-01-02")
    >>> import oss20.validate
    >>> oss20.validate.inspect_day("AAPL", "2025-01-02").offenders(2, "bad_prints").empty
    True
    """
    settings = settings or current()
    ticker, date = validate_symbol(symbol), calendar.to_date(day)
    recorded = results(ticker, date, date, settings)
    if recorded.empty:
        raise ValueError(
            f"no validation results for {ticker} on {date}; run `oss20 validate {ticker} --start {date}`"
        )
    store = TickStore(settings.resolved_arctic_uri)
    ticks = store.read(ticker, date, columns=INSPECTED_COLUMNS)
    return DayInspection(ticker, date, recorded, ticks, store.quarantined(ticker, date))


def _record(settings: Settings, reports: list[DayReport]) -> None:
    """Every result in the catalog's validation_results (an unreachable catalog raises)."""
    records = [
        ValidationRecord(r.symbol, r.day, x.tier, x.check, x.status, x.metrics, x.details())
        for r in reports
        for x in r.results
    ]
    catalog = open_catalog(settings.resolved_catalog_url)
    try:
        catalog.record_validation(records)
    finally:
        catalog.close()


def _announce(reports: list[DayReport], bus: Bus, cache: Cache) -> None:
    """A validation event per result, and each symbol's latest day as its status in the cache."""
    for r in reports:
        for x in r.results:
            bus.publish(ValidationEvent(r.symbol, r.day.isoformat(), x.tier, x.check, x.status, x.metrics))
    for r in _latest_per_symbol(reports):
        cache.set_validation_status(
            r.symbol,
            {
                "day": r.day.isoformat(),
                "score": r.score,
                "status": r.status,
                "failed": [f"tier{x.tier}:{x.check}" for x in r.results if x.status == "fail"],
                "warned": [f"tier{x.tier}:{x.check}" for x in r.results if x.status == "warn"],
            },
        )
    bus.flush(5.0)
    cache.flush(5.0)


def _latest_per_symbol(reports: list[DayReport]) -> list[DayReport]:
    latest: dict[str, DayReport] = {}
    for r in reports:
        if r.symbol not in latest or r.day > latest[r.symbol].day:
            latest[r.symbol] = r
    return list(latest.values())
