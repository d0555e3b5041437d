"""The `oss20` command line: simulate, demo, collect and ticks (more verbs arrive with bars and backfill)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import signal
import sys
from collections.abc import Iterator
from typing import Annotated

import typer

from oss20 import calendar
from oss20.config import Settings

app = typer.Typer(help="oss20: an open tick-data platform for DTN IQFeed users.", no_args_is_help=True)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s",
        stream=sys.stderr,
    )


@contextlib.contextmanager
def _exit_on(*errors: type[Exception]) -> Iterator[None]:
    """Turn an expected failure into its message and exit status 2, without a traceback."""
    try:
        yield
    except errors as err:
        typer.echo(f"oss20: {err}", err=True)
        raise typer.Exit(2) from None


def _symbols(text: str | None) -> tuple[str, ...]:
    from oss20.market import UNIVERSE
    from oss20.symbols import validate_symbol

    if not text:
        return ()
    try:
        symbols = tuple(validate_symbol(s) for s in text.split(",") if s.strip())
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    unknown = [s for s in symbols if s not in UNIVERSE]
    if unknown:
        raise typer.BadParameter(
            f"not in the simulated universe: {', '.join(unknown)}; known: {', '.join(UNIVERSE)}"
        )
    return symbols


def _watchlist(text: str | None) -> list[str]:
    """Symbols to collect: any valid tickers (a real IQFeed knows more than the simulator)."""
    from oss20.symbols import validate_symbol

    raw = text if text is not None else Settings.from_env().watchlist
    try:
        symbols = [validate_symbol(s) for s in raw.split(",") if s.strip()]
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if not symbols:
        raise typer.BadParameter("no symbols to collect: pass --symbols AAPL,MSFT or set OSS20_WATCHLIST")
    return list(dict.fromkeys(symbols))


def _day(text: str) -> dt.date:
    try:
        day = calendar.to_date(text)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if not calendar.is_session(day):
        raise typer.BadParameter(f"{day} is not an NYSE trading day")
    return day


def _time(text: str | None) -> dt.time | None:
    if text is None:
        return None
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"not a time of day: {text!r}; expected HH:MM or HH:MM:SS") from None


@app.command()
def simulate(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    level1_port: Annotated[int, typer.Option(help="Level 1 port (0 picks a free one).")] = 5009,
    history_port: Annotated[int, typer.Option(help="Lookup/history port.")] = 9100,
    admin_port: Annotated[int, typer.Option(help="Admin port.")] = 9300,
    speed: Annotated[float, typer.Option(help="Simulated seconds per second; 0 is a firehose.")] = 1.0,
    seed: Annotated[int, typer.Option(help="Market seed: same seed, same ticks.")] = 7,
    day: Annotated[
        str | None, typer.Option(help="Trading day to play (default: the latest session).")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="Simulated time of day to start at (default 09:30).")
    ] = None,
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols (default: the whole universe).")
    ] = None,
    activity: Annotated[float, typer.Option(help="Scale of trading activity (1.0 realistic).")] = 1.0,
    drop_every: Annotated[float, typer.Option(help="Fault: drop Level 1 connections every N seconds.")] = 0.0,
    stall_every: Annotated[
        float, typer.Option(help="Fault: stall the Level 1 stream every N seconds.")
    ] = 0.0,
    stall_seconds: Annotated[float, typer.Option(help="Fault: how long each stall lasts.")] = 3.0,
    duplicate_rate: Annotated[float, typer.Option(help="Fault: share of lines sent twice.")] = 0.0,
    reorder_rate: Annotated[float, typer.Option(help="Fault: share of lines swapped with the next.")] = 0.0,
    bad_price_rate: Annotated[float, typer.Option(help="Fault: share of lines with a negative price.")] = 0.0,
    malformed_rate: Annotated[float, typer.Option(help="Fault: share of lines cut short with junk.")] = 0.0,
    off_price_rate: Annotated[
        float, typer.Option(help="Fault: share of lines whose price is moved 5% away (bad prints).")
    ] = 0.0,
    server_disconnect: Annotated[
        tuple[float, float] | None,
        typer.Option(
            help="Fault: every EVERY seconds IQConnect loses DTN for SECONDS (Not Connected, Level 1 "
            "data lost, then one more reconnect).",
            metavar="EVERY SECONDS",
        ),
    ] = None,
    dump: Annotated[
        tuple[str, str] | None,
        typer.Option(
            help="Write SYMBOL DAY's ground-truth ticks as CSV to stdout and exit.", metavar="SYMBOL DAY"
        ),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run the IQFeed-protocol simulator (an IQConnect stand-in) on loopback."""
    from oss20.iqfeed.faults import FaultPlan
    from oss20.iqfeed.simulator import PortUnavailable, Simulator, SimulatorConfig
    from oss20.market import Market

    _setup_logging(log_level)
    if dump is not None:
        symbol, when = _symbols(dump[0])[0], _day(dump[1])
        Market(seed=seed, activity=activity).ticks(symbol, when).to_csv(sys.stdout, index=False)
        return
    try:
        faults = FaultPlan(
            duplicate_rate,
            reorder_rate,
            bad_price_rate,
            malformed_rate,
            drop_every,
            stall_every,
            stall_seconds,
            off_price_rate,
            disconnect_every=server_disconnect[0] if server_disconnect else 0.0,
            disconnect_seconds=server_disconnect[1] if server_disconnect else 3.0,
        )
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    config = SimulatorConfig(
        host=host,
        level1_port=level1_port,
        lookup_port=history_port,
        admin_port=admin_port,
        day=_day(day) if day is not None else None,
        start=_time(start),
        speed=speed,
        seed=seed,
        activity=activity,
        symbols=_symbols(symbols),
        faults=faults,
    )
    with contextlib.suppress(KeyboardInterrupt), _exit_on(PortUnavailable):
        asyncio.run(Simulator(config).serve())


@app.command()
def demo(
    symbols: Annotated[str, typer.Option(help="Watchlist.")] = "AAPL,MSFT,NVDA,AMZN,TSLA,SPY,QQQ,JPM,XOM,KO",
    speed: Annotated[float, typer.Option(help="Simulated seconds per second.")] = 1.0,
    duration: Annotated[
        float | None, typer.Option(help="Stop after N seconds (default: until Ctrl-C).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "WARNING",
) -> None:
    """Start the simulator and the collector (storage under OSS20_DATA_DIR) and watch them live."""
    from oss20.collection import Collector, CollectorOptions
    from oss20.iqfeed.client import Endpoint
    from oss20.iqfeed.simulator import PortUnavailable, Simulator, SimulatorConfig
    from oss20.terminal import watch_collector

    _setup_logging(log_level)
    settings = Settings.from_env()
    config = SimulatorConfig(
        host=settings.iqfeed_host,
        level1_port=settings.level1_port,
        lookup_port=settings.lookup_port,
        admin_port=settings.admin_port,
        speed=speed,
    )
    with _exit_on(PortUnavailable), Simulator(config).running() as sim:
        endpoint = Endpoint(
            settings.iqfeed_host, sim.ports["level1"], sim.ports["lookup"], sim.ports["admin"]
        )
        collector = Collector(list(_symbols(symbols)), settings, CollectorOptions(), endpoint)

        async def run() -> None:
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, collector.stop)
            await watch_collector(collector, duration)

        asyncio.run(run())


@app.command()
def collect(
    symbols: Annotated[
        str | None, typer.Option(help="Comma-separated symbols (default: OSS20_WATCHLIST).")
    ] = None,
    duration: Annotated[
        float | None, typer.Option(help="Stop after N seconds (default: until Ctrl-C or SIGTERM).")
    ] = None,
    metrics_port: Annotated[
        int | None, typer.Option(help="Prometheus port (default OSS20_METRICS_PORT; -1 disables).")
    ] = None,
    flush_every: Annotated[float, typer.Option(help="Seconds between ArcticDB writes.")] = 1.0,
    trades_only: Annotated[bool, typer.Option(help="Watch trades only (no quote updates).")] = False,
    bars: Annotated[
        str, typer.Option(help="Bar specs built live, comma-separated ('' for none), e.g. 1min,volume:10000.")
    ] = "1min",
    shard: Annotated[
        str | None, typer.Option(help="Own shard K/N of the watchlist (N collectors, one store and bus).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Collect live ticks from IQFeed (host and ports from OSS20_* settings) into ArcticDB, exactly once."""
    from oss20.bar_engine import BarSpec
    from oss20.collection import Collector, CollectorOptions
    from oss20.symbols import shard as shard_of

    try:
        specs = tuple(BarSpec.parse(text).name for text in bars.split(",") if text.strip())
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None

    _setup_logging(log_level)
    settings = Settings.from_env()
    port = settings.metrics_port if metrics_port is None else metrics_port
    options = CollectorOptions(
        flush_every=flush_every,
        metrics_port=None if port < 0 else port,
        quotes=not trades_only,
        bar_specs=specs,
    )
    everything = _watchlist(symbols)
    watchlist = everything
    if shard is not None:
        try:
            watchlist = shard_of(everything, shard)
        except ValueError as err:
            raise typer.BadParameter(str(err)) from None
        if not watchlist:
            raise typer.BadParameter(f"shard {shard} owns none of the {len(everything)} symbols")
        logging.getLogger(__name__).info("shard %s watches %s", shard, ",".join(watchlist))
    collector = Collector(watchlist, settings, options)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, collector.stop)
        counts = await collector.run(duration)
        typer.echo(" ".join(f"{k}={v}" for k, v in counts.as_dict().items()))

    with _exit_on(OSError):
        asyncio.run(run())


@app.command()
def ticks(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. AAPL.")],
    day: Annotated[str, typer.Argument(help="Trading day, YYYY-MM-DD.")],
    format: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
    output: Annotated[str | None, typer.Option("-o", "--output", help="File (default: stdout).")] = None,
) -> None:
    """Export one stored symbol-day with the columns of `oss20 simulate --dump`."""
    from oss20.explore import EXPORT_FORMATS, write_ticks
    from oss20.storage.arctic import TickStore
    from oss20.symbols import validate_symbol

    if format not in EXPORT_FORMATS:
        raise typer.BadParameter(f"unknown format {format!r}; expected {' or '.join(EXPORT_FORMATS)}")
    try:
        ticker = validate_symbol(symbol)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    when = _day(day)
    store = TickStore(Settings.from_env().resolved_arctic_uri)
    frame = store.read(ticker, when)
    if frame.empty:
        stored = ", ".join(d.isoformat() for d in store.days(ticker)[-5:]) or "none"
        typer.echo(f"oss20: no ticks stored for {ticker} on {when}; latest stored days: {stored}", err=True)
        raise typer.Exit(2)
    sink = output if output is not None else sys.stdout if format == "csv" else sys.stdout.buffer
    write_ticks(frame, format, sink)


@app.command()
def bars(
    symbol: Annotated[str, typer.Argument(help="Ticker, e.g. AAPL.")],
    spec: Annotated[
        str, typer.Argument(help="Bar spec: 5min, 1d, tick:500, volume:10000, tick_imbalance, ...")
    ],
    start: Annotated[str, typer.Option(help="First trading day, YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Option(help="Last trading day (default: --start).")] = None,
    extended_hours: Annotated[bool, typer.Option(help="Include pre-market and after hours.")] = False,
    output: Annotated[
        str | None, typer.Option("-o", "--output", help="Write the bars to FILE (.csv or .parquet).")
    ] = None,
) -> None:
    """Build bars from stored ticks (stored for next time once a session is over) and summarise them."""
    import pandas as pd
    from rich.console import Console
    from rich.progress import track
    from rich.table import Table

    from oss20.api import bars as build
    from oss20.bar_engine import BarSpec

    try:
        parsed = BarSpec.parse(spec)
        first, last = calendar.to_date(start), calendar.to_date(end or start)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if output is not None and not output.endswith((".csv", ".parquet")):
        raise typer.BadParameter(f"output must end in .csv or .parquet, got {output!r}")
    days = calendar.sessions(first, last)
    if not days:
        raise typer.BadParameter(f"no NYSE trading day between {first} and {last}")
    with _exit_on(ValueError):
        frames = [
            build(symbol, parsed.name, day, extended_hours=extended_hours)
            for day in track(days, description=f"{symbol} {parsed.name}", console=Console(stderr=True))
        ]
    frame = pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)
    if output is not None:
        (frame.to_csv if output.endswith(".csv") else frame.to_parquet)(output, index=False)
    table = Table(title=f"{symbol} {parsed.name} bars")
    for name in ("day", "bars", "first", "last", "volume", "trades"):
        table.add_column(name, justify="left" if name == "day" else "right")
    for day, part in frame.groupby(frame["timestamp"].dt.date):
        table.add_row(
            str(day),
            f"{len(part):,}",
            part["timestamp"].min().strftime("%H:%M:%S"),
            part["timestamp"].max().strftime("%H:%M:%S"),
            f"{part['volume'].sum():,}",
            f"{part['trades'].sum():,}",
        )
    Console().print(table)
    if frame.empty:
        typer.echo(f"oss20: no ticks stored for {symbol} from {first} to {last}", err=True)
        raise typer.Exit(2)


@app.command()
def validate(
    symbols: Annotated[list[str], typer.Argument(help="Tickers, e.g. AAPL MSFT.")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Option(help="Last day (default: --start).")] = None,
    feed: Annotated[bool, typer.Option(help="Cross-check with the feed's bars (tier 3).")] = True,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "WARNING",
) -> None:
    """Validate stored symbol-days (tiers 1-4), record the results and print a summary table."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
    from rich.table import Table

    from oss20 import validate as runner

    _setup_logging(log_level)
    tickers, first, last, days = _span(symbols, start, end)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("validating", total=len(tickers) * len(days))
        with _exit_on(ValueError, OSError):
            reports = runner.run(
                tickers,
                first,
                last,
                feed=feed,
                progress=lambda symbol, day: progress.update(
                    task, advance=1, description=f"validated {symbol} {day}"
                ),
            )
    table = Table(title=f"quality of {', '.join(tickers)}, {first} to {last}")
    for name in ("symbol", "day", "score", "status", "failed", "warned"):
        table.add_column(name, justify="right" if name == "score" else "left")
    colour = {"pass": "green", "warn": "yellow", "fail": "red"}
    for report in reports:
        table.add_row(
            report.symbol,
            str(report.day),
            str(report.score),
            f"[{colour[report.status]}]{report.status}[/]",
            ", ".join(f"t{x.tier} {x.check}" for x in report.results if x.status == "fail"),
            ", ".join(f"t{x.tier} {x.check}" for x in report.results if x.status == "warn"),
        )
    Console().print(table)
    if any(report.status == "fail" for report in reports):
        raise typer.Exit(1)


@app.command()
def gaps(
    symbols: Annotated[list[str], typer.Argument(help="Tickers, e.g. AAPL MSFT.")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Option(help="Last day (default: --start).")] = None,
    extended_hours: Annotated[bool, typer.Option(help="Look at pre-market and after hours too.")] = False,
    feed: Annotated[
        bool, typer.Option(help="Ask the feed's 1-minute bars which minutes traded (and how much).")
    ] = True,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "WARNING",
) -> None:
    """List missing sessions, partial sessions and intraday holes in the stored ticks. Gaps older than
    tick history reaches whose sessions hold the feed's bars (`oss20 backfill` filled them) are listed
    with reason bar-only: their ticks are absent for good, their 1-minute and daily bars are stored."""
    import pandas as pd
    from rich.console import Console
    from rich.table import Table

    from oss20.api import gaps as find
    from oss20.backfill.gaps import BAR_ONLY, REASONS
    from oss20.iqfeed.client import IQFeedError

    _setup_logging(log_level)
    tickers, first, last, days = _span(symbols, start, end)
    with _exit_on(ValueError, OSError, IQFeedError):
        frame = find(tickers, first, last, extended_hours=extended_hours, feed=feed)
    table = Table(title=f"gaps of {', '.join(tickers)}, {first} to {last}")
    for name in ("symbol", "session", "start", "end", "expected trades", "reason", "reachable"):
        table.add_column(name, justify="right" if name == "expected trades" else "left")
    for row in frame.to_dict("records"):
        table.add_row(
            row["symbol"],
            str(row["session"]),
            row["start"].strftime("%H:%M"),
            row["end"].strftime("%H:%M"),
            "?" if pd.isna(row["expected_trades"]) else f"{row['expected_trades']:,}",
            row["reason"],
            "yes" if row["reachable"] else "[red]no[/]",
        )
    Console().print(table)
    counts = frame["reason"].value_counts()
    known = frame["expected_trades"].sum() if feed else None
    typer.echo(
        f"{len(frame)} gaps in {len(tickers) * len(days)} symbol-sessions ("
        + ", ".join(
            f"{reason} {counts.get(reason, 0)}"
            for reason in REASONS
            if reason != BAR_ONLY or reason in counts
        )
        + ")"
        + (f"; {known:,} expected trades" if known is not None else "; feed not asked")
        + f"; {int((~frame['reachable']).sum())} out of tick history's reach"
    )


def _span(
    symbols: list[str], start: str, end: str | None
) -> tuple[list[str], dt.date, dt.date, list[dt.date]]:
    """Validated tickers, the first and last day and the sessions between; bad input is a usage error."""
    from oss20.symbols import validate_symbol

    try:
        tickers = [validate_symbol(s) for text in symbols for s in text.split(",") if s.strip()]
        first, last = calendar.to_date(start), calendar.to_date(end or start)
    except ValueError as err:
        raise typer.BadParameter(str(err)) from None
    if first > last:
        raise typer.BadParameter(f"--start {first} is after --end {last}")
    days = calendar.sessions(first, last)
    if not days:
        raise typer.BadParameter(f"no NYSE trading day between {first} and {last}")
    return tickers, first, last, days


@app.command()
def backfill(
    symbols: Annotated[list[str], typer.Argument(help="Tickers, e.g. AAPL MSFT.")],
    start: Annotated[str, typer.Option(help="First day, YYYY-MM-DD.")],
    end: Annotated[str | None, typer.Option(help="Last day (default: --start).")] = None,
    dry_run: Annotated[bool, typer.Option(help="Print the plan and fetch nothing.")] = False,
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="History requests in flight.")] = 8,
    extended_hours: Annotated[bool, typer.Option(help="Fill pre-market and after hours too.")] = False,
    feed: Annotated[bool, typer.Option(help="Find holes with the feed's 1-minute bars.")] = True,
    bars: Annotated[
        bool,
        typer.Option(
            help="Fill sessions older than tick history reaches with the feed's 1-minute and daily bars."
        ),
    ] = True,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "WARNING",
) -> None:
    """Fill the reachable gaps of the stored ticks from IQFeed history, chunk by chunk (recorded in
    the catalog; a chunk run twice stores nothing twice), and, with --bars (the default), store the
    feed's 1-minute and daily bars of sessions tick history no longer reaches (bar-only coverage).
    Exit 1 when a chunk failed."""
    from rich.console import Console
    from rich.progress import Progress
    from rich.table import Table

    from oss20.backfill.bars import fill_bars
    from oss20.backfill.run import plan_fills, run_backfill
    from oss20.iqfeed.client import Endpoint, IQFeedError, feed_time

    _setup_logging(log_level)
    tickers, first, last, _ = _span(symbols, start, end)
    settings = Settings.from_env()
    with _exit_on(ValueError, OSError, IQFeedError):
        now = asyncio.run(feed_time(Endpoint.from_settings(settings)))  # history's reach counts from it
        plan = plan_fills(tickers, first, last, settings, now, feed=feed, extended_hours=extended_hours)
    chunks, bar_chunks = plan.ticks, plan.bars if bars else []
    console = Console(stderr=True)
    table = Table(title=f"backfill plan: {len(chunks)} chunks")
    for name in ("symbol", "session", "start", "end", "expected trades", "reason", "reachable until"):
        table.add_column(name, justify="right" if name == "expected trades" else "left")
    for c in chunks:
        expected = "?" if c.expected_trades is None else f"{c.expected_trades:,}"
        times = (c.start.strftime("%H:%M:%S"), c.end.strftime("%H:%M:%S"))
        table.add_row(c.symbol, str(c.session), *times, expected, c.reason, str(c.deadline))
    console.print(table)
    if bar_chunks:
        shown = Table(
            title=f"bar-only plan: {len(bar_chunks)} sessions beyond tick history (1-minute and daily bars)"
        )
        for name in ("symbol", "session", "expected trades", "reason"):
            shown.add_column(name, justify="right" if name == "expected trades" else "left")
        for b in bar_chunks:
            expected = "?" if b.expected_trades is None else f"{b.expected_trades:,}"
            shown.add_row(b.symbol, str(b.session), expected, b.reason)
        console.print(shown)
    elif plan.bars:
        typer.echo(f"oss20: {len(plan.bars)} sessions beyond tick history left alone (--no-bars)", err=True)
    executor = f"Dask cluster at {settings.dask_scheduler}" if settings.dask_scheduler else "local pool"
    typer.echo(f"oss20: executor: {executor}", err=True)
    if dry_run or not (chunks or bar_chunks):
        typer.echo(
            f"oss20: {len(bar_chunks)} bar-only sessions and {len(chunks)} chunks planned"
            + (" (dry run: nothing fetched)" if dry_run else "")
        )
        return
    with Progress(transient=False) as progress:
        bar = progress.add_task("backfill", total=len(chunks) + len(bar_chunks))

        def advance(outcome: object) -> None:
            progress.advance(bar)

        with _exit_on(ValueError, OSError, IQFeedError):
            outcomes = (
                run_backfill(chunks, settings, concurrency=concurrency, on_done=advance) if chunks else []
            )
            bar_outcomes = fill_bars(bar_chunks, settings, concurrency=concurrency, on_done=advance)
    failed = [o for o in outcomes if o.status == "failed"]
    bars_failed = [o for o in bar_outcomes if o.status == "failed"]
    stored = sum(o.stored for o in outcomes)
    received = sum(o.received for o in outcomes)
    typer.echo(
        f"oss20: {len(outcomes) - len(failed)} chunks done, {len(failed)} failed; "
        f"{received:,} ticks received, {stored:,} newly stored; "
        f"{len(bar_outcomes) - len(bars_failed)} bar-only sessions filled, {len(bars_failed)} failed"
    )
    for outcome in failed:
        typer.echo(
            f"  failed {outcome.chunk.symbol} {outcome.chunk.start} - {outcome.chunk.end}: {outcome.error}",
            err=True,
        )
    for bar_outcome in bars_failed:
        typer.echo(
            f"  failed bars {bar_outcome.chunk.symbol} {bar_outcome.chunk.session}: {bar_outcome.error}",
            err=True,
        )
    if failed or bars_failed:
        raise typer.Exit(1)


@app.command()
def serve(
    port: Annotated[int, typer.Option(help="HTTP port of the dashboards.")] = 5006,
    address: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    origin: Annotated[
        list[str] | None, typer.Option(help="Allowed websocket origin host:port (repeatable).")
    ] = None,
) -> None:
    """Serve every dashboard (dashboards/*.ipynb) with login, /health and /metrics; without
    OSS20_REDIS_URL the server also runs the simulator and the collector."""
    if not 0 <= port <= 65535:
        raise typer.BadParameter(f"port {port} is not a TCP port (0-65535)")
    origins = origin or [f"localhost:{port}", f"127.0.0.1:{port}"]
    typer.echo(f"oss20: dashboards on http://{address}:{port}/", err=True)
    # The dashboards' server lives in the app package (the layer above this library): run it as a module.
    os.execv(sys.executable, [sys.executable, "-m", "app.server", str(port), address, *origins])


users = typer.Typer(help="Dashboard users and their roles (kept in the catalog).", no_args_is_help=True)
app.add_typer(users, name="users")


@users.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    role: Annotated[str, typer.Option(help="viewer, trader or admin.")] = "viewer",
) -> None:
    """Create a user or change its password and role. The password is read from OSS20_NEW_PASSWORD
    or asked for (never an argument: arguments show in process lists and shell history)."""
    from oss20.passwords import ROLES
    from oss20.storage.catalog import open_catalog

    if role not in ROLES:
        raise typer.BadParameter(f"unknown role {role!r}; expected one of {', '.join(ROLES)}")
    password = os.environ.get("OSS20_NEW_PASSWORD") or typer.prompt(
        f"Password for {username}", hide_input=True, confirmation_prompt=True
    )
    with _exit_on(ValueError), open_catalog(Settings.from_env().resolved_catalog_url) as catalog:
        catalog.set_user(username, password, role)
    typer.echo(f"oss20: user {username} is {role}")


@users.command("list")
def users_list() -> None:
    """Every user with their role."""
    from oss20.storage.catalog import open_catalog

    with open_catalog(Settings.from_env().resolved_catalog_url) as catalog:
        for user in catalog.users():
            typer.echo(f"{user.username}\t{user.role}\t{user.updated_at:%Y-%m-%d %H:%M}")


@users.command("remove")
def users_remove(username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
    """Delete a user."""
    from oss20.storage.catalog import open_catalog

    with _exit_on(ValueError), open_catalog(Settings.from_env().resolved_catalog_url) as catalog:
        if not catalog.remove_user(username):
            typer.echo(f"oss20: no user {username!r}", err=True)
            raise typer.Exit(2)
    typer.echo(f"oss20: user {username} removed")


jobs_app = typer.Typer(
    help=(
        "Scheduled upkeep jobs (end-of-day backfill, reconciliation and validation, compaction, health, "
        "journal pruning)."
    ),
    no_args_is_help=True,
)
app.add_typer(jobs_app, name="jobs")


@jobs_app.command("list")
def jobs_list() -> None:
    """Every job, its schedule (cron, New York time; system_config 'schedule' overrides) and its purpose."""
    from jobs.registry import JOBS, schedule
    from oss20.storage.catalog import open_catalog

    with _exit_on(ValueError), open_catalog(Settings.from_env().resolved_catalog_url) as catalog:
        plan = schedule(catalog)
    for name, spec in JOBS.items():
        typer.echo(f"{name:<16}{plan.get(name, 'off'):<16}{spec.description}")


@jobs_app.command("run")
def jobs_run(
    name: Annotated[str, typer.Argument(help="Job name (see `oss20 jobs list`).")],
    date: Annotated[
        str | None,
        typer.Option("--date", help="Day YYYY-MM-DD (end-of-day jobs: default the latest session)."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "WARNING",
) -> None:
    """Run one job now, for cron, systemd timers or Kubernetes CronJobs. Exit 0 done, 1 the job failed,
    2 bad input, 3 another run holds the job's lock."""
    import json

    from jobs.registry import JobLocked, job, resolve_day, run_job

    _setup_logging(log_level)
    settings = Settings.from_env()
    with _exit_on(ValueError):
        job(name)
        day = resolve_day(name, None if date is None else calendar.to_date(date))
    try:
        run = run_job(name, settings, day)
    except JobLocked as exc:
        typer.echo(f"oss20: {exc}", err=True)
        raise typer.Exit(3) from None
    typer.echo(
        json.dumps({"job": name, "status": run.status, "task": run.task_id, **run.result}, default=str)
    )
    if run.status == "failed":
        typer.echo(f"oss20: job {name} failed: {run.error}", err=True)
        raise typer.Exit(1)


@app.command()
def scheduler(
    duration: Annotated[
        float | None, typer.Option(help="Stop after N seconds (default: until SIGTERM or Ctrl-C).")
    ] = None,
    log_level: Annotated[str, typer.Option(help="Logging level.")] = "INFO",
) -> None:
    """Run the jobs on their cron schedules on this machine (APScheduler). Several schedulers on one
    catalog run each slot of a job once: the job's catalog lock and the recorded slot see to it."""
    from jobs.scheduler import run_scheduler

    _setup_logging(log_level)
    with _exit_on(ValueError):
        plan = run_scheduler(Settings.from_env(), duration)
    typer.echo(f"oss20: scheduler stopped ({len(plan)} jobs scheduled)", err=True)


if __name__ == "__main__":
    app()
