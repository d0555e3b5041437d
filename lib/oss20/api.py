"""The verbs a quant reaches for first: ``oss20.ticks``, ``oss20.bars``, ``oss20.quality`` and ``oss20.gaps``.

They read the store the settings name (``OSS20_*``; embedded storage under ./data by default)
and return frames in America/New_York; ``as_polars=True`` gives a polars frame instead.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import pandas as pd

from oss20 import calendar
from oss20.config import Settings
from oss20.schema import BAR_COLUMNS, empty_frame


def ticks(
    symbols: str | Sequence[str],
    start: dt.date | str,
    end: dt.date | str | None = None,
    columns: Sequence[str] | None = None,
    as_polars: bool = False,
    settings: Settings | None = None,
) -> Any:
    """Stored ticks of ``symbols`` on the sessions from ``start`` to ``end`` (default: ``start`` only).

    ``columns`` limits what is read (timestamp and symbol always come); the read is one ArcticDB
    batch over every symbol-day.

    >>> oss20.ticks("AAPL", "2025-01-02", columns=["price", "size"])  # doctest: +SKIP
    """
    from oss20.storage.arctic import TickStore

    store = TickStore((settings or Settings.from_env()).resolved_arctic_uri)
    first, last = _days(start, end)
    frame = store.read_range(_symbols(symbols), first, last, columns)
    return _out(frame, as_polars)


def bars(
    symbols: str | Sequence[str],
    spec: str,
    start: dt.date | str,
    end: dt.date | str | None = None,
    extended_hours: bool = False,
    as_polars: bool = False,
    settings: Settings | None = None,
) -> Any:
    """Bars of ``spec`` ("5min", "volume:10000", "tick_imbalance"...) of ``symbols``, ``start`` to ``end``.

    Days whose bars are stored complete are read; the others are built from stored ticks, and
    stored (complete) once their session is over, so the next call only reads.

    >>> oss20.bars("AAPL", "5min", "2025-01-02", "2025-01-03")  # doctest: +SKIP
    """
    from oss20.bar_engine import BarSpec, build_bars
    from oss20.storage.arctic import TickStore
    from oss20.storage.bar_store import BarStore

    parsed = BarSpec.parse(spec)
    uri = (settings or Settings.from_env()).resolved_arctic_uri
    tick_store, bar_store = TickStore(uri), BarStore(uri)
    first, last = _days(start, end)
    frames = []
    for symbol in _symbols(symbols):
        for day in calendar.sessions(first, last):
            if bar_store.complete(symbol, day, parsed, extended_hours):
                frames.append(bar_store.read([symbol], parsed, day, day, extended_hours))
                continue
            built = build_bars(tick_store.read(symbol, day), parsed, extended_hours)
            if len(built) and _over(day):
                bar_store.write(built, symbol, day, parsed, extended_hours, complete=True)
            frames.append(built)
    frames = [f for f in frames if len(f)]
    frame = pd.concat(frames, ignore_index=True) if frames else empty_frame(BAR_COLUMNS)
    return _out(frame, as_polars)


def _symbols(symbols: str | Sequence[str]) -> list[str]:
    from oss20.symbols import validate_symbol

    names = symbols.split(",") if isinstance(symbols, str) else list(symbols)
    return [validate_symbol(s) for s in names if str(s).strip()]


def _days(start: dt.date | str, end: dt.date | str | None) -> tuple[dt.date, dt.date]:
    first = calendar.to_date(start)
    last = calendar.to_date(end) if end is not None else first
    if last < first:
        raise ValueError(f"the range ends ({last}) before it starts ({first})")
    return first, last


def _over(day: dt.date) -> bool:
    """True once ``day``'s after-hours session has closed: its ticks are all in."""
    return pd.Timestamp.now(tz="America/New_York") >= calendar.session(day).post_close


def _out(frame: pd.DataFrame, as_polars: bool) -> Any:
    if not as_polars:
        return frame
    import polars as pl

    return pl.from_pandas(frame)


def quality(
    symbols: str | Sequence[str],
    start: dt.date | str,
    end: dt.date | str | None = None,
    feed: bool = True,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Validate stored ``symbols`` from ``start`` to ``end`` (tiers 1-4) and return every check.

    One row per check: symbol, day, tier, check, status (pass, warn, fail), metrics, details
    (offending rows and time ranges) and the day's 0-100 quality score. The results are also in
    the catalog, on the bus and in the cache; ``feed=False`` skips the feed's bars (tier 3 warns).

    >>> oss20.quality(["AAPL", "MSFT"], "2025-01-02", "2025-01-03")  # doctest: +SKIP
    """
    from oss20 import validate
    from oss20.validation.report import results_frame

    first, last = _days(start, end)
    return results_frame(validate.run(_symbols(symbols), first, last, settings, feed=feed))


def gaps(
    symbols: str | Sequence[str],
    start: dt.date | str,
    end: dt.date | str | None = None,
    extended_hours: bool = False,
    feed: bool = True,
    now: pd.Timestamp | str | None = None,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """What is missing from the stored ticks of ``symbols`` from ``start`` to ``end`` (default: ``start``).

    One row per gap: symbol, session (date), start and end ([start, end) in America/New_York, to
    the minute), expected_trades (the feed's count in those minutes), reason ("missing session",
    "partial session" or "hole") and reachable (tick history still reaches it at ``now``, default
    the current time). Sessions come from the NYSE calendar (holidays skipped, half days end
    early), regular hours unless ``extended_hours``. With ``feed`` (the default) the feed's
    1-minute bars say which minutes traded, so a quiet minute is never a gap; ``feed=False`` asks
    nothing, finds missing sessions and stretches of 10+ minutes without a stored trade, and
    leaves expected_trades empty. Rules in ``oss20.backfill.gaps``; raises ``IQFeedError`` or
    ``OSError`` when the feed cannot answer.

    >>> oss20.gaps(["AAPL", "MSFT"], "2025-01-02", "2025-01-10")  # doctest: +SKIP
    """
    from oss20.backfill.coverage import find
    from oss20.backfill.gaps import gaps_frame

    settings = settings or Settings.from_env()
    moment = pd.Timestamp.now(tz="America/New_York") if now is None else pd.Timestamp(now)
    first, last = _days(start, end)
    return gaps_frame(find(_symbols(symbols), first, last, settings, moment, extended_hours, feed))
