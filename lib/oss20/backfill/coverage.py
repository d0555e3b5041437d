"""The I/O edge of gap finding: stored minute coverage from ArcticDB, traded minutes from the feed.

Stored coverage costs one batch read per symbol of the timestamp index alone (no tick columns are
read). The feed is asked for 1-minute bars (HIT 60 s) once per session, and only for the sessions
whose gaps its bars can change (``gaps.needs_feed``); ``HistoryClient`` paces and retries itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.backfill.gaps import (
    FeedMinutes,
    Gap,
    find_gaps,
    mark_bar_only,
    needs_feed,
    stored_minutes,
    window,
)
from oss20.bar_engine.spec import BarSpec
from oss20.config import Settings
from oss20.iqfeed.client import Endpoint, FeedUnavailable, HistoryClient
from oss20.schema import TZINFO
from oss20.storage.arctic import TickStore
from oss20.storage.bar_store import FEED, BarStore

FEED_TIMEOUT = 30.0
"""Seconds a history request may take before the feed counts as unreachable."""


def find(
    symbols: Sequence[str],
    first: dt.date,
    last: dt.date,
    settings: Settings,
    now: pd.Timestamp,
    extended_hours: bool = False,
    feed: bool = True,
) -> list[Gap]:
    """The gaps of ``symbols`` (validated) in the sessions from ``first`` to ``last``, as seen at ``now``
    (tz-aware): stored coverage against the calendar and, with ``feed``, the feed's traded minutes.
    Gaps out of tick history's reach in sessions whose feed bars are stored come as ``bar-only``."""
    if now.tzinfo is None:
        raise ValueError(f"now must be tz-aware, got {now}; e.g. '2025-01-02 20:00-05:00'")
    days = calendar.sessions(first, last)
    store = TickStore(settings.resolved_arctic_uri)
    stored = {s: stored_coverage(store, s, first, last) for s in symbols}
    bars = None
    if feed:
        empty = np.empty(0, np.int64)
        wanted = {
            s: [d for d in days if needs_feed(d, stored[s].get(d, empty), now, extended_hours)]
            for s in symbols
        }
        bars = feed_minutes(Endpoint.from_settings(settings), wanted, now, extended_hours)
    gaps = [
        gap
        for s in symbols
        for gap in find_gaps(s, days, stored[s], None if bars is None else bars[s], now, extended_hours)
    ]
    return mark_bar_only(gaps, feed_bar_days(settings.resolved_arctic_uri, gaps))


def feed_bar_days(uri: str, gaps: Sequence[Gap]) -> dict[str, set[dt.date]]:
    """Per symbol, the sessions of ``gaps`` out of tick history's reach whose 1-minute bars in the
    ArcticDB at ``uri`` are the feed's (a bar-only fill)."""
    store, minute = BarStore(uri), BarSpec.parse("1min")
    cells = {(g.symbol, g.session) for g in gaps if not g.reachable}
    out: dict[str, set[dt.date]] = {}
    for symbol, day in cells:
        if store.source(symbol, day, minute) == FEED:
            out.setdefault(symbol, set()).add(day)
    return out


def stored_coverage(
    store: TickStore, symbol: str, first: dt.date, last: dt.date
) -> dict[dt.date, np.ndarray]:
    """Per stored session of ``symbol`` from ``first`` to ``last``: its stored minute starts (epoch ns).

    Sessions with nothing stored are absent.
    """
    stamps = store.read_range([symbol], first, last, columns=[])["timestamp"]
    minutes = stored_minutes(stamps.array.asi8)
    if len(minutes) == 0:
        return {}
    days = pd.DatetimeIndex(minutes, tz="UTC").tz_convert(TZINFO).date
    cuts = np.flatnonzero(days[1:] != days[:-1]) + 1
    return {
        part_days[0]: part
        for part_days, part in zip(np.split(days, cuts), np.split(minutes, cuts), strict=True)
    }


def feed_minutes(
    endpoint: Endpoint,
    wanted: Mapping[str, Sequence[dt.date]],
    now: pd.Timestamp,
    extended_hours: bool = False,
) -> dict[str, dict[dt.date, FeedMinutes]]:
    """The feed's traded minutes per symbol and session of ``wanted``: one HIT request per session.

    Raises the client's ``IQFeedError`` when the feed cannot answer (``FeedUnavailable`` saying
    how to go on without it when it cannot be reached).
    """
    try:
        return asyncio.run(_ask(endpoint, wanted, now, extended_hours))
    except FeedUnavailable as err:
        raise FeedUnavailable(f"{err}; without the feed, ask with feed=False (oss20 gaps --no-feed)") from err


async def _ask(
    endpoint: Endpoint,
    wanted: Mapping[str, Sequence[dt.date]],
    now: pd.Timestamp,
    extended_hours: bool,
) -> dict[str, dict[dt.date, FeedMinutes]]:
    jobs: list[tuple[str, dt.date, pd.Timestamp, pd.Timestamp]] = []
    for symbol, days in wanted.items():
        for day in days:
            bounds = window(day, extended_hours, now)
            if bounds is not None:
                jobs.append((symbol, day, *bounds))
    out: dict[str, dict[dt.date, FeedMinutes]] = {symbol: {} for symbol in wanted}
    async with HistoryClient(endpoint, timeout=FEED_TIMEOUT) as history:
        # bars are labelled by their end: those ending in (lo, hi] cover the window's minutes
        replies = await asyncio.gather(
            *(
                history.interval_bars(symbol, 60, lo + pd.Timedelta(minutes=1), hi)
                for symbol, _, lo, hi in jobs
            )
        )
    for (symbol, day, _, _), bars in zip(jobs, replies, strict=True):
        out[symbol][day] = FeedMinutes.from_bars(bars)
    return out
