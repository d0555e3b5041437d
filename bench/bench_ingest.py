"""End-to-end ingest: simulator firehose -> Collector -> ArcticDB, latency at 20k trades/s, and reads.

Run from the repository root:  ``python bench/bench_ingest.py [--minutes 390] [--no-write]``

The simulator runs in a child process (the second core, as IQConnect would be), playing the
2025-01-02 session of the 10-symbol demo watchlist at realistic activity (1.0); the collector runs
in this process exactly as shipped, with its defaults (in-process bus and cache, LMDB ArcticDB,
fsync'd journal, one flush a second). Before each run the store is seeded with the trades before
the window, so the collector's summary-triggered history fill has nothing to fetch and every stored
trade of the window came through the live path.

1. ingest: the firehose (speed 0) from 09:30 for ``--minutes`` simulated minutes (the clock stops
   there), trades and quotes watched (the default) and trades only, until every trade of the window
   is in ArcticDB; the stored symbol-days are then asserted equal to ``Market.ticks``. Peers on the
   same firehose: ``Level1Stream`` counting trades (parse only: no validation, journal or storage)
   and the bare socket (bytes read, Q lines counted): the ceilings of the parser and of the feed.
2. latency: a paced session from 12:00 at ~``--rate`` trades/s. Every ``TickEvent`` carries when its
   batch was read off the socket (``received_ns``) and when it was published (``sent_ns``); a bus
   subscriber takes the difference (parse, tier 1, fsync'd journal and publish included).
3. read: ``TickStore.read`` of AAPL's day against raw ArcticDB, pandas/pyarrow, polars and DuckDB
   reading the same ticks from Parquet.

Writes bench/results/ingest.json and the ingest tables in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import multiprocessing as mp
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from _common import best_of, machine, now_utc, write_results

import oss20.collection
from oss20.bus import InProcessBus, TickEvent
from oss20.collection import Collector, CollectorOptions
from oss20.config import Settings
from oss20.iqfeed import protocol
from oss20.iqfeed.client import READ_SIZE, Endpoint, Level1Stream
from oss20.market import Market
from oss20.schema import TICK_COLUMNS, TZ
from oss20.storage.arctic import TickStore

try:
    import duckdb
except ImportError:  # not a project dependency: the DuckDB peer is skipped without it
    duckdb = None

DAY = dt.date(2025, 1, 2)
SEED = 7
ACTIVITY = 1.0
SYMBOLS = ("AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "SPY", "QQQ", "JPM", "XOM", "KO")
OPEN = dt.time(9, 30)
LATENCY_START = dt.time(12, 0)
SEED_FROM = pd.Timestamp.combine(DAY, dt.time(4, 0)).tz_localize(TZ).value - 1
SEED_SECONDS = 60  # the latency runs are seeded with the minute before their start
TARGET = 250_000  # the end-to-end target, ticks/s
DESIGN = 11_895  # the system design's requirement, ticks/s
LATENCY_TARGET_MS = 5.0
ORDER = ["symbol", "timestamp", "market_center", "tick_id"]


def at(time_of_day: dt.time, minutes: float = 0.0) -> pd.Timestamp:
    return pd.Timestamp.combine(DAY, time_of_day).tz_localize(TZ) + pd.Timedelta(minutes=minutes)


# -- the simulator, in a child process --------------------------------------------------------


def simulator_process(conn: Connection, activity: float) -> None:
    """Serve one simulator at a time over the shared market, as the parent asks."""
    from oss20.iqfeed.simulator import Simulator, SimulatorConfig

    market = Market(seed=SEED, activity=activity)
    days: dict[str, Any] = {}  # the symbol-days, built once: ~2 s and ~1 GB each time otherwise
    sim: Simulator | None = None
    while (message := conn.recv()) is not None:
        op, args = message
        if op == "start":
            config = SimulatorConfig(
                level1_port=0,
                lookup_port=0,
                admin_port=0,
                day=DAY,
                seed=SEED,
                activity=activity,
                symbols=SYMBOLS,
                **args["config"],
            )
            sim = Simulator(config, market=market)
            sim._days = days  # shared by this process's simulators (a benchmark shortcut)
            for day in days.values():  # but each run formats its lines afresh, as a new simulator would
                day._lines.clear()
            for symbol in SYMBOLS:  # build the days now, not while the clock runs
                sim.symbol_day(symbol)
            sim.clock.end_ns = args["stop_ns"]  # the window ends here: the clock stops, history too
            sim.start()
            conn.send(dict(sim.ports))
        elif op == "resume" and sim is not None:
            sim.resume()
            conn.send(None)
        elif op == "stop" and sim is not None:
            sim.stop()
            conn.send({"updates_sent": sim.updates_sent, "clock_ns": sim.clock.now_ns})
            sim = None


class RemoteSimulator:
    """The parent's handle on the child process's simulators."""

    def __init__(self, activity: float) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=simulator_process, args=(child, activity), daemon=True)
        self.process.start()
        self.pid = self.process.pid or 0

    def start(self, stop_ns: int, **config: object) -> Endpoint:
        """A simulator on free ports, its clock held until ``resume()``, stopping at ``stop_ns``."""
        self.conn.send(("start", {"config": {**config, "paused": True}, "stop_ns": stop_ns}))
        ports = self.conn.recv()
        return Endpoint("127.0.0.1", ports["level1"], ports["lookup"], ports["admin"])

    def resume(self) -> None:
        self.conn.send(("resume", {}))
        self.conn.recv()

    def stop(self) -> dict[str, int]:
        self.conn.send(("stop", {}))
        return self.conn.recv()

    def close(self) -> None:
        self.conn.send(None)
        self.process.join(10)


class CpuMeter:
    """How much of the machine other processes (and the hypervisor) took while a run was timed.

    Two cores are the whole budget here: another process busy at the same time (a test run, another
    benchmark) slows every figure, so each timed run records the CPU share nobody of ours used.
    """

    def __init__(self, *pids: int) -> None:
        self.pids = pids
        self._tick = os.sysconf("SC_CLK_TCK")

    def _sample(self) -> tuple[float, float, float, float]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        user, nice, system, _idle, _iowait, irq, softirq, steal = fields[:8]
        busy = (user + nice + system + irq + softirq) / self._tick
        own = 0.0
        for pid in (os.getpid(), *self.pids):
            with contextlib.suppress(OSError):
                stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                own += sum(int(v) for v in stat[11:15]) / self._tick  # with reaped children (the writer)
        return time.monotonic(), busy, own, steal / self._tick

    def __enter__(self) -> CpuMeter:
        self._start = self._sample()
        return self

    def __exit__(self, *exc: object) -> None:
        end = self._sample()
        wall = max(end[0] - self._start[0], 1e-9) * (os.cpu_count() or 1)
        self.others = max(end[1] - self._start[1] - (end[2] - self._start[2]), 0.0) / wall
        self.steal = (end[3] - self._start[3]) / wall

    def summary(self) -> dict[str, float]:
        return {"others_cpu_share": self.others, "steal_share": self.steal}


# -- ground truth -----------------------------------------------------------------------------


class Truth:
    """``Market.ticks`` of the watchlist for the day: the trades a window must end up stored."""

    def __init__(self, market: Market) -> None:
        self.ticks = {s: market.ticks(s, DAY) for s in SYMBOLS}
        self.updates = {
            s: market.level1(s, DAY)["timestamp"].to_numpy("datetime64[ns]").view(np.int64) for s in SYMBOLS
        }

    def _ns(self, symbol: str) -> np.ndarray:
        return self.ticks[symbol]["timestamp"].to_numpy("datetime64[ns]").view(np.int64)

    def between(self, lo_ns: int, hi_ns: int) -> pd.DataFrame:
        """The trades after ``lo_ns`` up to ``hi_ns`` included."""
        parts = [t[((n := self._ns(s)) > lo_ns) & (n <= hi_ns)] for s, t in self.ticks.items()]
        return pd.concat(parts, ignore_index=True)

    def trades(self, lo_ns: int, hi_ns: int) -> int:
        """Trades the feed streams for a watch from ``lo_ns`` to ``hi_ns`` (after lo, up to hi)."""
        return sum(int(((n := self._ns(s)) > lo_ns).sum() - (n > hi_ns).sum()) for s in SYMBOLS)

    def level1(self, lo_ns: int, hi_ns: int) -> int:
        """Level 1 updates (trades and quotes) streamed from ``lo_ns`` to ``hi_ns``."""
        return sum(int(((n > lo_ns) & (n <= hi_ns)).sum()) for n in self.updates.values())


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(ORDER, kind="stable").reset_index(drop=True)[list(TICK_COLUMNS)]


# -- the collector, as shipped ------------------------------------------------------------------


def seeded_settings(root: Path, truth: Truth, lo_ns: int, hi_ns: int) -> Settings:
    """Settings on a fresh data directory whose store holds the trades after ``lo_ns`` up to ``hi_ns``."""
    settings = Settings(data_dir=str(root))
    TickStore(settings.resolved_arctic_uri).merge(truth.between(lo_ns, hi_ns))
    return settings


async def resume_clock(sim: RemoteSimulator) -> float:
    """Let the simulator's clock go; return when it did."""
    await asyncio.to_thread(sim.resume)
    return time.perf_counter()


async def collect_until_stored(
    collector: Collector, sim: RemoteSimulator, expected: int, timeout: float
) -> dict[str, float]:
    """Run the collector; start the clock once every watch is acknowledged; stop when all is stored."""
    run = asyncio.create_task(collector.run())
    received_at = 0.0
    try:
        async with asyncio.timeout(timeout):
            while collector.stream.stats.summaries < len(SYMBOLS):
                await asyncio.sleep(0.002)
            t0 = await resume_clock(sim)
            while collector.counts.stored < expected:
                if not received_at and collector.counts.received >= expected:
                    received_at = time.perf_counter()
                await asyncio.sleep(0.002)
    finally:
        stored_at = time.perf_counter()
        collector.stop()
        await run
    return {"received": (received_at or stored_at) - t0, "stored": stored_at - t0}


def check_stored(collector: Collector, truth: Truth, lo_ns: int, hi_ns: int) -> int:
    """Assert the store holds exactly ``Market.ticks`` of the seeded span and the window; return rows."""
    stored = collector.store.read_range(SYMBOLS, DAY, DAY)
    expected = truth.between(lo_ns, hi_ns)
    pd.testing.assert_frame_equal(canonical(stored), canonical(expected))
    return len(stored)


def ingest_run(
    sim: RemoteSimulator, truth: Truth, root: Path, minutes: float, quotes: bool
) -> dict[str, Any]:
    """One collector run over the firehose window; checks the store against the ground truth."""
    start, stop = at(OPEN), at(OPEN, minutes)
    trades = truth.trades(start.value, stop.value)
    settings = seeded_settings(root, truth, SEED_FROM, start.value)
    endpoint = sim.start(stop.value, speed=0, start=OPEN)
    collector = Collector(SYMBOLS, settings, CollectorOptions(quotes=quotes), endpoint)
    meter = CpuMeter(sim.pid)
    try:
        with meter:
            times = asyncio.run(collect_until_stored(collector, sim, trades, timeout=900))
    finally:
        sim.stop()
    assert collector.counts.stored == trades, (collector.counts.stored, trades)
    rows = check_stored(collector, truth, SEED_FROM, stop.value)
    updates = truth.level1(start.value, stop.value) if quotes else trades
    return {
        "name": "oss20 Collector, " + ("trades + quotes" if quotes else "trades only"),
        "quotes": quotes,
        "window": f"{start:%H:%M}-{stop:%H:%M}",
        "trades": trades,
        "updates": updates,
        "history": collector.counts.history,
        "quarantined": collector.counts.quarantined,
        "flushes": collector.counts.flushes,
        "seconds": times["stored"],
        "ingest_seconds": times["received"],
        "ticks_per_s": trades / times["stored"],
        "updates_per_s": updates / times["stored"],
        "ingest_ticks_per_s": trades / times["received"],
        "stored_rows_checked": rows,
        "machine_load": meter.summary(),
    }


# -- peers: the same firehose without the collector ---------------------------------------------


async def naive_read(
    endpoint: Endpoint, sim: RemoteSimulator, trades: int, quotes: bool
) -> tuple[float, int, int]:
    """Level1Stream, counting trades until ``trades`` came: (seconds, trades, updates)."""
    stream = Level1Stream(endpoint)
    await stream.connect()
    await stream.watch(*SYMBOLS, trades_only=not quotes)
    t0 = 0.0
    async with asyncio.timeout(600):
        async for _ in stream.batches():
            if not t0:
                if stream.stats.summaries >= len(SYMBOLS):
                    t0 = await resume_clock(sim)
            elif stream.stats.trades >= trades:
                break
    seconds = time.perf_counter() - t0
    await stream.close()
    return seconds, stream.stats.trades, stream.stats.updates


async def socket_read(
    endpoint: Endpoint, sim: RemoteSimulator, updates: int, quotes: bool
) -> tuple[float, int]:
    """The bare socket: read and count Q lines until ``updates`` came, no parsing: (seconds, bytes)."""
    reader, writer = await asyncio.open_connection(endpoint.host, endpoint.level1_port, limit=1 << 24)
    writer.write(protocol.cmd_set_protocol("6.2"))
    writer.write(protocol.cmd_select_fields(protocol.OSS20_UPDATE_FIELDS[1:]))
    for symbol in SYMBOLS:
        writer.write(protocol.cmd_watch(symbol) if quotes else protocol.cmd_trades_only(symbol))
    await writer.drain()
    seen = received = summaries = 0
    t0 = 0.0
    tail = b""  # the last two bytes read: a line start may straddle two reads
    while seen < updates:
        chunk = await asyncio.wait_for(reader.read(READ_SIZE), 30)
        if not chunk:
            break
        data = tail + chunk
        tail = data[-2:]
        if not t0:
            summaries += data.count(b"\nP,")
            if summaries >= len(SYMBOLS):
                t0 = await resume_clock(sim)
            continue
        received += len(chunk)
        seen += data.count(b"\nQ,")
    seconds = time.perf_counter() - t0
    writer.close()
    return seconds, received


def peer_runs(
    sim: RemoteSimulator, truth: Truth, minutes: float, quotes: bool, repeat: int
) -> list[dict[str, Any]]:
    """The naive reader and the bare socket on the firehose window, best of ``repeat`` each."""
    start, stop = at(OPEN), at(OPEN, minutes)
    trades = truth.trades(start.value, stop.value)
    updates = truth.level1(start.value, stop.value) if quotes else trades
    mode = "trades + quotes" if quotes else "trades only"
    naive, bare = [], []
    for _ in range(repeat):
        endpoint = sim.start(stop.value, speed=0, start=OPEN)
        try:
            seconds, got, seen = asyncio.run(naive_read(endpoint, sim, trades, quotes))
        finally:
            sim.stop()
        assert got == trades and seen == updates, (got, trades, seen, updates)
        naive.append(seconds)
        endpoint = sim.start(stop.value, speed=0, start=OPEN)
        try:
            bare.append(asyncio.run(socket_read(endpoint, sim, updates, quotes)))
        finally:
            sim.stop()
    seconds, nbytes = min(bare)
    return [
        {
            "name": f"peer: Level1Stream counting trades, {mode}",
            "quotes": quotes,
            "trades": trades,
            "updates": updates,
            "seconds": min(naive),
            "runs": repeat,
            "ticks_per_s": trades / min(naive),
            "updates_per_s": updates / min(naive),
        },
        {
            "name": f"peer: bare socket, Q lines counted, {mode}",
            "quotes": quotes,
            "trades": trades,
            "updates": updates,
            "seconds": seconds,
            "runs": repeat,
            "ticks_per_s": trades / seconds,
            "updates_per_s": updates / seconds,
            "bytes_per_s": nbytes / seconds,
        },
    ]


# -- latency at ~20k trades/s --------------------------------------------------------------------


def quantiles_ms(values: np.ndarray) -> dict[str, float]:
    ms = values / 1e6
    return {f"p{q}_ms": float(np.percentile(ms, q)) for q in (50, 90, 99)} | {"max_ms": float(ms.max())}


def latency_run(
    sim: RemoteSimulator, truth: Truth, root: Path, rate: float, seconds: float, quotes: bool
) -> dict[str, Any]:
    """The collector on a paced session at ~``rate`` trades/s for ~``seconds`` s: read -> publish."""
    start = at(LATENCY_START)
    minutes = 1.0
    while truth.trades(start.value, at(LATENCY_START, minutes).value) < rate * seconds:
        minutes += 1.0
    stop = at(LATENCY_START, minutes)
    trades = truth.trades(start.value, stop.value)
    speed = (stop - start).total_seconds() * rate / trades
    seed_from = start.value - SEED_SECONDS * 10**9
    settings = seeded_settings(root, truth, seed_from, start.value)
    endpoint = sim.start(stop.value, speed=speed, start=LATENCY_START)
    bus = InProcessBus(subscriber_queue=10_000_000)  # the subscriber reads after the run
    collector = Collector(SYMBOLS, settings, CollectorOptions(quotes=quotes), endpoint, bus=bus)
    events = bus.subscribe(kinds=["tick"])
    meter = CpuMeter(sim.pid)
    try:
        with meter:
            times = asyncio.run(collect_until_stored(collector, sim, trades, timeout=seconds * 4 + 60))
    finally:
        sim.stop()
    check_stored(collector, truth, seed_from, stop.value)
    assert events.dropped == 0, f"the subscriber lagged and lost {events.dropped} events"
    batches: dict[int, list[int]] = {}  # received_ns -> [last sent_ns, trades]
    for event in events.drain():
        if isinstance(event, TickEvent) and event.received_ns:
            entry = batches.setdefault(event.received_ns, [0, 0])
            entry[0] = max(entry[0], event.sent_ns)
            entry[1] += len(event.ticks["tick_id"])
    received = np.fromiter(batches, np.int64, len(batches))
    sent, counts = np.array(list(batches.values()), np.int64).T
    latency = sent - received
    span = (received.max() - received.min()) / 1e9
    return {
        "name": "trades + quotes" if quotes else "trades only",
        "quotes": quotes,
        "window": f"{start:%H:%M}-{stop:%H:%M}",
        "speed": speed,
        "trades": trades,
        "batches": len(latency),
        "trades_per_batch": float(counts.mean()),
        "achieved_ticks_per_s": float(counts.sum()) / span,
        "read_to_publish": quantiles_ms(latency),
        "within_target": float((latency <= LATENCY_TARGET_MS * 1e6).mean()),
        "seconds": times["stored"],
        "machine_load": meter.summary(),
    }


def print_latency(lat: dict[str, Any]) -> None:
    q = lat["read_to_publish"]
    print(
        f"  {lat['name']}: {lat['achieved_ticks_per_s']:,.0f} trades/s, {lat['trades_per_batch']:.0f} "
        f"trades/batch; read -> publish p50 {q['p50_ms']:.2f} p90 {q['p90_ms']:.2f} p99 {q['p99_ms']:.2f} "
        f"max {q['max_ms']:.1f} ms; other processes took {lat['machine_load']['others_cpu_share']:.0%}",
        flush=True,
    )


# -- read speed of one symbol-day ---------------------------------------------------------------


def read_runs(market: Market, root: Path, repeat: int) -> dict[str, Any]:
    symbol = "AAPL"
    store = TickStore(Settings(data_dir=str(root)).resolved_arctic_uri)
    ticks = market.ticks(symbol, DAY)
    store.merge(ticks)
    key = store.key(symbol, DAY)
    frame = store.read(symbol, DAY)
    pd.testing.assert_frame_equal(canonical(frame), canonical(ticks))
    path = root / "aapl.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    rows = len(frame)
    peers: list[tuple[str, Callable[[], object], str]] = [
        ("oss20 TickStore.read", lambda: store.read(symbol, DAY), "tick frame (conformed, symbol column)"),
        ("ArcticDB lib.read(key).data", lambda: store.ticks.read(key).data, "frame indexed by timestamp"),
        (
            "ArcticDB lib.read_batch([key]) (TickStore.read's call)",
            lambda: store.ticks.read_batch([key])[0].data,
            "frame indexed by timestamp",
        ),
        ("pandas.read_parquet (pyarrow)", lambda: pd.read_parquet(path), "tick frame"),
        ("polars.read_parquet", lambda: pl.read_parquet(path), "polars frame"),
    ]
    if duckdb is not None:
        con = duckdb.connect()
        query = f"select * from read_parquet('{path}')"
        peers += [
            ("DuckDB read_parquet -> pandas", lambda: con.sql(query).df(), "pandas frame"),
            ("DuckDB read_parquet -> Arrow", lambda: _arrow(con.sql(query)), "Arrow table"),
        ]
    out = []
    ours = None
    for name, fn, output in peers:
        fn()  # warm: open files, first-call setup
        seconds, got = best_of(repeat, fn)
        assert len(got) == rows, (name, len(got), rows)  # type: ignore[arg-type]
        ours = ours or seconds
        out.append(
            {
                "name": name,
                "seconds": seconds,
                "ms": seconds * 1e3,
                "rows_per_s": rows / seconds,
                "vs_ours": ours / seconds,
                "output": output,
            }
        )
        print(f"  {name:40s} {rows / seconds:>14,.0f} rows/s {seconds * 1e3:8.1f} ms", flush=True)
    return {
        "symbol": symbol,
        "day": str(DAY),
        "rows": rows,
        "parquet_bytes": path.stat().st_size,
        "segments": store.segments(symbol, DAY),
        "peers": out,
    }


def _arrow(relation: Any) -> pa.Table:
    """DuckDB's Arrow table of a relation (``to_arrow_table`` from 1.4, ``fetch_arrow_table`` before)."""
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def readme_table(results: dict) -> list[str]:
    """The README tables of a run: firehose and its peers, latency, reads."""
    m = results["machine"]
    ing = results["ingest"]
    lines = [
        f"{len(results['symbols'])} symbols ({', '.join(results['symbols'])}) at activity "
        f"{results['activity']}, {results['day']}; {m['cpu']}, {m['cores']} cores, Python {m['python']}, "
        f"pandas {m['pandas']}, {results['date']}; whole run {results['total_seconds']:.0f} s.",
        "",
        f"Firehose {ing['window']}: every trade of the window stored in ArcticDB, then checked equal to "
        "`Market.ticks` (s until stored includes waiting for the last 1 s flush); best of "
        f"{results['collector_repeat']} collector runs and of {results['peer_repeat']} peer runs, every "
        "collector run's trades/s in the last column:",
        "",
        "| reader | trades | updates | s until stored | trades/s stored | updates/s | trades/s "
        "journaled + published | of 250k | of 11,895 | CPU taken by other processes | all runs, trades/s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in ing["runs"]:
        sustained = f"{r['ingest_ticks_per_s']:,.0f}" if "ingest_ticks_per_s" in r else ""
        others = f"{r['machine_load']['others_cpu_share']:.0%}" if "machine_load" in r else ""
        every = ", ".join(f"{v / 1000:,.0f}k" for v in r.get("all_ticks_per_s", []))
        lines.append(
            f"| {r['name']} | {r['trades']:,} | {r['updates']:,} | {r['seconds']:.2f} | "
            f"{r['ticks_per_s']:,.0f} | {r['updates_per_s']:,.0f} | {sustained} | "
            f"{r['ticks_per_s'] / TARGET:.2f}x | {r['ticks_per_s'] / DESIGN:.1f}x | {others} | {every} |"
        )
    lines += [
        "",
        f"Latency, paced session from 12:00 aiming at {results['rate']:,.0f} trades/s: per batch, from "
        "its socket read (parse, tier 1, journal write included) to its last `TickEvent` published, "
        f"seen by a bus subscriber; target p99 < {LATENCY_TARGET_MS:.0f} ms; the run with the median p99 "
        f"of {results['collector_repeat']}, every run's p99 in the last column:",
        "",
        "| watch | trades/s reached | trades/batch | batches | p50 ms | p90 ms | p99 ms | max ms | "
        "within 5 ms | CPU taken by other processes | all runs, p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for lat in results["latency"]:
        q = lat["read_to_publish"]
        lines.append(
            f"| {lat['name']} | {lat['achieved_ticks_per_s']:,.0f} | {lat['trades_per_batch']:.0f} | "
            f"{lat['batches']:,} | {q['p50_ms']:.2f} | {q['p90_ms']:.2f} | {q['p99_ms']:.2f} | "
            f"{q['max_ms']:.1f} | {lat['within_target']:.1%} | "
            f"{lat['machine_load']['others_cpu_share']:.0%} | "
            + ", ".join(f"{v:.2f}" for v in lat.get("all_p99_ms", []))
            + " |"
        )
    rd = results["read"]
    lines += [
        "",
        f"Read of one symbol-day ({rd['symbol']} {rd['day']}, {rd['rows']:,} ticks), best of "
        f"{results['repeat']}:",
        "",
        "| reader | rows/s | ms | vs TickStore.read | output |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rd["peers"]:
        lines.append(
            f"| {r['name']} | {r['rows_per_s']:,.0f} | {r['ms']:.1f} | {r['vs_ours']:.2f}x | {r['output']} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=390.0, help="simulated minutes of firehose from 09:30")
    ap.add_argument("--rate", type=float, default=20_000.0, help="trades/s of the latency runs")
    ap.add_argument("--latency-seconds", type=float, default=20.0)
    ap.add_argument("--repeat", type=int, default=5, help="best of, for the reads")
    ap.add_argument("--peer-repeat", type=int, default=3, help="best of, for the firehose peers")
    ap.add_argument(
        "--collector-repeat",
        type=int,
        default=3,
        help="collector runs per watch: the best firehose and the median latency run are reported",
    )
    ap.add_argument("--no-write", action="store_true", help="print only; leave results and README alone")
    args = ap.parse_args()

    began = time.perf_counter()
    sim = RemoteSimulator(ACTIVITY)
    market = Market(seed=SEED, activity=ACTIVITY)
    truth = Truth(market)
    root = Path(tempfile.mkdtemp(prefix="oss20-bench-ingest-"))
    try:
        print("warm-up (numba compilation in both processes) ...", flush=True)
        peer_runs(sim, truth, 2.0, True, 1)
        ingest_run(sim, truth, root / "warm", 2.0, True)
        runs = []
        for quotes in (True, False):
            for peer in peer_runs(sim, truth, args.minutes, quotes, args.peer_repeat):
                runs.append(peer)
                print(_line(peer), flush=True)
            run = fastest_run(
                [
                    least_disturbed(
                        lambda n, q=quotes, k=k: ingest_run(
                            sim, truth, root / f"ingest-{q}-{k}-{n}", args.minutes, q
                        )
                    )
                    for k in range(args.collector_repeat)
                ]
            )
            runs.append(run)
            print(_line(run), flush=True)
        runs.sort(key=lambda r: (not r["quotes"], r["name"].startswith("peer")))
        latency = []
        for quotes in (True, False):
            latency.append(
                median_run(
                    [
                        least_disturbed(
                            lambda n, q=quotes, k=k: latency_run(
                                sim, truth, root / f"latency-{q}-{k}-{n}", args.rate, args.latency_seconds, q
                            )
                        )
                        for k in range(args.collector_repeat)
                    ]
                )
            )
            print_latency(latency[-1])
        print("read ...", flush=True)
        read = read_runs(market, root / "read", args.repeat)
    finally:
        sim.close()
        shutil.rmtree(root, ignore_errors=True)

    results = {
        "benchmark": "ingest",
        "date": now_utc(),
        "day": str(DAY),
        "symbols": list(SYMBOLS),
        "activity": ACTIVITY,
        "repeat": args.repeat,
        "peer_repeat": args.peer_repeat,
        "collector_repeat": args.collector_repeat,
        "rate": args.rate,
        "targets": {"issue_ticks_per_s": TARGET, "design_ticks_per_s": DESIGN, "p99_ms": LATENCY_TARGET_MS},
        "ingest": {"window": f"{at(OPEN):%H:%M}-{at(OPEN, args.minutes):%H:%M}", "runs": runs},
        "latency": latency,
        "read": read,
        "total_seconds": time.perf_counter() - began,
        "library_files_modified": lib_versions(),
        "machine": machine(
            polars=pl.__version__,
            pyarrow=pa.__version__,
            duckdb=duckdb.__version__ if duckdb is not None else None,
        ),
        "notes": "simulator in a child process on the same machine; collector as shipped with default "
        "options (in-process bus and cache, LMDB, fsync'd journal, 1 s flushes); store seeded with the "
        "ticks before the window so all stored ticks of the window came live; stored days asserted "
        "equal to Market.ticks.",
    }
    if not args.no_write:
        write_results("ingest", results, readme_table(results))
    print(f"total {time.perf_counter() - began:.0f} s", flush=True)
    sys.stdout.flush()


DISTURBED = 0.10  # share of the CPUs other processes may take before a timed run is done again


def fastest_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest firehose run, with every run's trades/s kept beside it."""
    best = dict(max(runs, key=lambda r: r["ticks_per_s"]))
    best["all_ticks_per_s"] = [r["ticks_per_s"] for r in runs]
    return best


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The latency run with the median p99, with every run's p99 kept beside it."""
    ranked = sorted(runs, key=lambda r: r["read_to_publish"]["p99_ms"])
    middle = dict(ranked[len(ranked) // 2])
    middle["all_p99_ms"] = [r["read_to_publish"]["p99_ms"] for r in runs]
    return middle


def least_disturbed(run: Callable[[int], dict[str, Any]], tries: int = 2) -> dict[str, Any]:
    """``run(attempt)`` until other processes left it alone (or ``tries`` runs): the least disturbed."""
    best: dict[str, Any] | None = None
    for attempt in range(tries):
        result = run(attempt)
        result["attempt"] = attempt + 1
        share = result["machine_load"]["others_cpu_share"]
        if best is None or share < best["machine_load"]["others_cpu_share"]:
            best = result
        if share <= DISTURBED:
            break
        print(f"  (other processes took {share:.0%} of the CPUs during that run)", flush=True)
    assert best is not None
    return best


def lib_versions() -> dict[str, str]:
    """Modification times of the library files on the measured path (the code changes often)."""
    root = Path(oss20.collection.__file__).parent
    names = [
        "collection.py",
        "schema.py",
        "bus.py",
        "validation/tier1.py",
        "storage/journal.py",
        "storage/arctic.py",
        "storage/bar_store.py",
        "bar_engine/builders.py",
        "bar_engine/live.py",
        "iqfeed/client.py",
        "iqfeed/protocol/level1.py",
    ]
    out = {}
    for name in names:
        with contextlib.suppress(OSError):
            stamp = (root / name).stat().st_mtime
            out[name] = dt.datetime.fromtimestamp(stamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return out


def _line(r: dict[str, Any]) -> str:
    return (
        f"{r['name']:52s} {r['ticks_per_s']:>10,.0f} trades/s {r['updates_per_s']:>10,.0f} updates/s "
        f"{r['seconds']:7.2f} s  x{r['ticks_per_s'] / TARGET:.2f} of 250k, x{r['ticks_per_s'] / DESIGN:.1f} "
        "of design"
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
