"""The verbs a quant reaches for first: ``ticks``, ``bars``, ``quality``, ``gaps``, ``coverage``,
``sql``, ``fill_gaps`` and ``simulate``.

They use the store of the latest ``oss20.connect`` (else ``OSS20_*``; embedded storage under
./data by default) and return frames in America/New_York; ``as_polars=True`` gives polars.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pandas as pd

from oss20 import calendar
from oss20.config import Settings
from oss20.connection import current
from oss20.schema import BAR_COLUMNS, empty_frame

T = TypeVar("T")


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

    >>> oss20.ticks("AAPL", "2025-01-02", columns=["price", "size"]).shape
    (4127, 4)
    >>> oss20.ticks(["AAPL", "MSFT"], "2025-01-02", "2025-01-03", columns=["price"]).groupby("symbol").size()
    symbol
    AAPL    8415
    MSFT    4978
    dtype: int64
    """
    from oss20.storage.arctic import TickStore

    store = TickStore((settings or current()).resolved_arctic_uri)
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

    >>> oss20.bars("AAPL", "30min", "2025-01-02")[["timestamp", "open", "close", "volume"]].head(3)
                      timestamp     open    close  volume
    0 2025-01-02 09:30:00-05:00  246.980  245.090  186478
    1 2025-01-02 10:00:00-05:00  245.140  245.090   99441
    2 2025-01-02 10:30:00-05:00  245.301  245.049   87168
    """
    from oss20.bar_engine import BarSpec, build_bars
    from oss20.storage.arctic import TickStore
    from oss20.storage.bar_store import BarStore

    parsed = BarSpec.parse(spec)
    uri = (settings or current()).resolved_arctic_uri
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

    >>> checks = oss20.quality("AAPL", "2025-01-02")
    >>> checks.groupby("status").size(), checks["score"].iloc[0]
    (status
    pass    15
    dtype: int64, np.int64(100))
    """
    from oss20 import validate
    from oss20.validation.report import results_frame

    first, last = _days(start, end)
    reports = _off_loop(validate.run, _symbols(symbols), first, last, settings or current(), feed=feed)
    return results_frame(reports)


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
    the feed's clock, or the wall clock with ``feed=False``). Sessions come from the NYSE calendar
    (holidays skipped, half days end early), regular hours unless ``extended_hours``. With ``feed``
    (the default) the feed's 1-minute bars say which minutes traded, so a quiet minute is never a
    gap; ``feed=False`` asks nothing, finds missing sessions and stretches of 10+ minutes without a
    stored trade, and leaves expected_trades empty. Rules in ``oss20.backfill.gaps``; raises
    ``IQFeedError`` or ``OSError`` when the feed cannot answer.

    >>> oss20.gaps("MSFT", "2024-12-31", "2025-01-03")[["symbol", "session", "reason", "expected_trades"]]
      symbol     session           reason  expected_trades
    0   MSFT  2024-12-31  missing session             2391
    """
    from oss20.backfill.coverage import find
    from oss20.backfill.gaps import gaps_frame

    settings = settings or current()
    moment = _now(settings, feed) if now is None else pd.Timestamp(now)
    first, last = _days(start, end)
    return gaps_frame(_off_loop(find, _symbols(symbols), first, last, settings, moment, extended_hours, feed))


def coverage(
    symbols: str | Sequence[str],
    start: dt.date | str,
    end: dt.date | str | None = None,
    extended_hours: bool = False,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """How complete the store is: one row per symbol and session from ``start`` to ``end`` with its
    state ("full", "partial", "bar-only", "missing" or "unreachable"), its number of gaps and the
    trades they miss, from the gaps ``oss20.gaps`` finds (so the feed is asked, by its clock).
    ``oss20.charts.coverage`` draws it as a heatmap.

    >>> oss20.coverage("MSFT", "2024-12-31", "2025-01-03")
      symbol     session    state  gaps  expected_trades
    0   MSFT  2024-12-31  missing     1             2391
    1   MSFT  2025-01-02     full     0                0
    2   MSFT  2025-01-03     full     0                0
    """
    from oss20.backfill.coverage import find
    from oss20.backfill.overview import coverage_grid, stored_days

    settings = settings or current()
    names, (first, last) = _symbols(symbols), _days(start, end)
    found = _off_loop(find, names, first, last, settings, _now(settings, True), extended_hours, True)
    tick_days, bar_days = stored_days(settings.resolved_arctic_uri, names, first, last)
    return coverage_grid(names, calendar.sessions(first, last), found, tick_days, bar_days)


def sql(query: str, explain: bool = False, settings: Settings | None = None) -> Any:
    """Run a SELECT over the store with DuckDB and return a pandas frame (times in America/New_York).

    Views: ``ticks`` (every stored tick, with ``symbol`` and trading ``day``), ``bars_time_bars``
    and the other ``bars_<family>`` libraries (with ``interval``), and ``quality`` (one row per
    validation check, with the day's ``score``). Symbol, day and time predicates in a WHERE are
    pushed down to the ArcticDB read, and only the columns the query names are read, so a query on
    one symbol-day reads one symbol-day. ``explain=True`` returns what would be read and DuckDB's
    physical plan instead. Bad SQL raises ``SqlError`` and a symbol with nothing stored
    ``UnknownSymbol``, both ValueErrors that say what is wrong.

    >>> oss20.sql("SELECT count(*) AS trades FROM ticks WHERE symbol = 'AAPL' AND day = '2025-01-02'")
       trades
    0    4127
    >>> oss20.sql(
    ...     "SELECT symbol, round(sum(price * size) / sum(size), 2) AS vwap FROM ticks "
    ...     "WHERE day = '2025-01-03' GROUP BY symbol ORDER BY symbol"
    ... )
      symbol    vwap
    0   AAPL  243.96
    1   MSFT  418.96
    """
    from oss20 import query as store_query

    settings = settings or current()
    if explain:
        return store_query.explain(query, settings)
    return store_query.run(query, settings).frame


def fill_gaps(
    symbols: str | Sequence[str],
    start: dt.date | str,
    end: dt.date | str | None = None,
    extended_hours: bool = False,
    dry_run: bool = False,
    concurrency: int = 8,
    settings: Settings | None = None,
) -> pd.DataFrame:
    """Fill the gaps of ``symbols`` from ``start`` to ``end``: ticks from IQFeed tick history where
    it still reaches, the feed's 1-minute and daily bars (bar-only coverage) where it no longer does.

    The gaps are found as ``oss20.gaps`` finds them, split into chunks recorded in the catalog and
    fetched within the shared history-request budget; what was already stored is never stored
    twice. Returns one row per chunk: symbol, session, kind ("ticks" or "bars"), start and end (tick
    chunks), expected_trades, status, received and stored (ticks, or a bar chunk's bars), error.
    ``dry_run=True`` returns the plan (status "planned") and fetches nothing.

    >>> plan = oss20.fill_gaps("KO", "2025-01-02", dry_run=True)
    >>> plan[["symbol", "kind", "expected_trades", "status"]]
      symbol   kind  expected_trades   status
    0     KO  ticks              628  planned
    >>> plan["start"].dt.strftime("%H:%M").tolist(), plan["end"].dt.strftime("%H:%M:%S.%f").tolist()
    (['09:30'], ['15:59:59.999999'])
    >>> oss20.fill_gaps("KO", "2025-01-02")[["symbol", "kind", "status", "stored"]]
      symbol   kind status  stored
    0     KO  ticks   done     628
    """
    from oss20.backfill.bars import BarOutcome, fill_bars
    from oss20.backfill.executor import ChunkOutcome
    from oss20.backfill.run import plan_fills, run_backfill

    settings = settings or current()
    first, last = _days(start, end)
    now = _now(settings, True)
    plan = _off_loop(plan_fills, _symbols(symbols), first, last, settings, now, extended_hours=extended_hours)
    if dry_run:
        ticks = [ChunkOutcome("", c, "planned") for c in plan.ticks]
        bars = [BarOutcome("", c, "planned") for c in plan.bars]
    else:
        ticks = _off_loop(run_backfill, plan.ticks, settings, concurrency=concurrency) if plan.ticks else []
        bars = _off_loop(fill_bars, plan.bars, settings, concurrency=concurrency) if plan.bars else []
    rows: list[tuple[Any, ...]] = [
        (
            t.chunk.symbol,
            t.chunk.session,
            "ticks",
            t.chunk.start,
            t.chunk.end,
            t.chunk.expected_trades,
            t.status,
            t.received,
            t.stored,
            t.error,
        )
        for t in ticks
    ]
    rows += [
        (b.chunk.symbol, b.chunk.session, "bars", pd.NaT, pd.NaT, b.chunk.expected_trades, *_bar_counts(b))
        for b in bars
    ]
    columns = ["symbol", "session", "kind", "start", "end", "expected_trades"]
    return pd.DataFrame(rows, columns=[*columns, "status", "received", "stored", "error"])


def simulate(
    last_day: dt.date | str,
    seed: int = 7,
    activity: float = 1.0,
    settings: Settings | None = None,
) -> Any:
    """Start the bundled IQFeed simulator on free loopback ports with its clock at the end of
    ``last_day`` (so that day and the ~180 days before it are tick history), and point the verbs'
    feed at it. Returns the running ``Simulator``; ``stop()`` it when done. ``activity`` scales the
    market's trading (0.05 is a light, fast market for examples).

    >>> sim = oss20.simulate("2025-01-03", activity=0.02)
    >>> sim.stop()
    """
    from oss20.connection import use
    from oss20.iqfeed.simulator import Simulator, SimulatorConfig
    from oss20.market import Market

    day = calendar.to_date(last_day)
    config = SimulatorConfig(
        level1_port=0,
        lookup_port=0,
        admin_port=0,
        day=day,
        seed=seed,
        activity=activity,
        start=dt.time(20, 0),
    )
    simulator = Simulator(config, market=Market(seed=seed, activity=activity)).start()
    base = settings or current()
    ports = {f"{name}_port": port for name, port in simulator.ports.items()}
    use(base.replaced(iqfeed_host=config.host, **ports))
    return simulator


def live(
    symbols: str | Sequence[str],
    speed: float = 1.0,
    day: dt.date | str | None = None,
    settings: Settings | None = None,
) -> Any:
    """A live view of ``symbols`` for a notebook: the dashboards' watchlist (last, change, bid, ask,
    spread, volume, ticks/s, quality) above the chosen symbol's live candles, volume and trades.

    With ``OSS20_REDIS_URL`` set it follows the collector that publishes there; otherwise it runs a
    collector of its own into the connected store, on the simulator (free ports, playing ``day``,
    default the latest session, at ``speed`` simulated seconds per second) or, with
    ``simulate=False`` in the settings, on IQConnect. Needs ``pn.extension("tabulator")`` first;
    call ``.stop()`` on the view when done.

    >>> view = oss20.live(["AAPL", "MSFT"], speed=60, day="2025-01-03")
    >>> view.runtime.symbols
    ['AAPL', 'MSFT']
    >>> view.stop()
    """
    from app.components.live_view import LiveView
    from app.runtime import Runtime

    settings = settings or current()
    if settings.simulate and not settings.redis_url:
        ports = {"level1_port": 0, "lookup_port": 0, "admin_port": 0}
        settings = settings.replaced(**ports)
    session = calendar.to_date(day) if day is not None else None
    return LiveView(Runtime(settings, _symbols(symbols), speed, session))


def _bar_counts(outcome: Any) -> tuple[str, int, int, str]:
    """A bar chunk's status, bars received and stored (the same: bars replace), and error."""
    bars = outcome.minute_bars + outcome.daily_bars
    return outcome.status, bars, bars, outcome.error


def _now(settings: Settings, feed: bool) -> pd.Timestamp:
    """The feed's clock when it is asked anyway (history's reach counts from it), else the wall clock."""
    if not feed:
        return pd.Timestamp.now(tz="America/New_York")
    from oss20.iqfeed.client import Endpoint, feed_time

    return _off_loop(asyncio.run, feed_time(Endpoint.from_settings(settings)))


def _off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call ``fn`` here, or in a worker thread when this thread runs an event loop (Jupyter's
    kernel does), since the I/O below starts event loops of its own and those cannot nest."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args, **kwargs)
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(fn, *args, **kwargs).result()
