"""Backfill throughput: simulator tick history -> tier 1 -> ArcticDB, local pool and Dask.

Run from the repository root:  ``python bench/bench_backfill.py [--no-write]``

A store holds 2024-12-20 of eight busy symbols (realistic activity, 1.0) and misses the six
sessions after it whole (2024-12-23 to -31: ~7.8M trades). A finished simulator (its day 2025-01-02,
clock at 20:00) serves history from a child process (the second core, where IQConnect would be); its
market has those days generated before any run, as a real server has them on disk. The backfill is
planned once (``plan_backfill``, extended hours, the feed's bars for the expected trades), then run
as shipped (``run_backfill``) on a fresh copy of the cut store each time: the local pool with 1, 4
and 8 concurrent requests, and a real Dask cluster (a ``dask scheduler`` and two ``dask worker``
processes on loopback, started and stopped here) at 8. Every run must store exactly the missing
ticks, keep within the simulator's 50 requests/s and draw no throttle reply.

Where the time goes: in the local runs the executor's steps are timed in place (wrappers around
the request/reply exchange, taking the request ids off, the reply parse, tier 1 and the merge), and
the CPU seconds of the backfill's processes and of the simulator's are read from /proc (each process
once). Side by side, on one chunk (AAPL 2024-12-27 before noon), each step alone on one core: the
simulator's reply generation, the exchange over loopback (generation + socket), the request ids off,
the parse, tier 1, the merge into a fresh day, the append of the next chunk and the same chunk again,
next to the merge's peers on the same rows: a plain ArcticDB ``write``/``append`` and a pandas dedup
(``drop_duplicates`` and a ``merge`` against the stored identities) before the same write/append.
``--before FILE`` keeps an earlier build's runs (JSON) in the results and the README to compare with.

Writes bench/results/backfill.json and the backfill tables in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
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

import arcticdb
import dask
import numpy as np
import pandas as pd
import psutil
from _common import best_of, machine, now_utc, write_results

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the integration tests' helpers: the Dask cluster's processes

import oss20.backfill.executor as executor  # noqa: E402
from oss20.backfill import planner  # noqa: E402
from oss20.backfill.chunks import Chunk  # noqa: E402
from oss20.backfill.run import plan_backfill, run_backfill  # noqa: E402
from oss20.config import Settings  # noqa: E402
from oss20.iqfeed import protocol  # noqa: E402
from oss20.iqfeed.client import Endpoint, HistoryClient  # noqa: E402
from oss20.iqfeed.history_desk import HistoryDesk  # noqa: E402
from oss20.market import Market  # noqa: E402
from oss20.schema import TZ  # noqa: E402
from oss20.storage.arctic import TickStore, _disk_frame, _to_disk  # noqa: E402
from oss20.validation.tier1 import Tier1State, check_ticks  # noqa: E402
from tests.integration.test_backfill_dask import WORKERS  # noqa: E402
from tests.servers import dask_cluster  # noqa: E402

SEED = 7
ACTIVITY = 1.0
SYMBOLS = ("AAPL", "SPY", "NVDA", "TSLA", "QQQ", "MSFT", "AMZN", "META")
STORED = dt.date(2024, 12, 20)
MISSING = (
    dt.date(2024, 12, 23),
    dt.date(2024, 12, 24),  # an early close (13:00), extended hours to 17:00
    dt.date(2024, 12, 26),
    dt.date(2024, 12, 27),
    dt.date(2024, 12, 30),
    dt.date(2024, 12, 31),
)
"""Six sessions (about 8M trades): runs of several seconds, so the first requests' wait and the last
replies' merge (the pipeline filling and draining) weigh little against the steady state."""
SIM_DAY = dt.date(2025, 1, 2)
NOW = pd.Timestamp("2025-01-02 20:00", tz=TZ)
"""The finished simulator's clock: the missing sessions are over and within tick history's reach."""
TARGET = 1_000_000  # the target, ticks/s stored with 8 concurrent requests
BUDGET = 50.0  # the simulator's (and IQFeed's) history requests per second
LOCAL = (1, 4, 8)
DASK_CONCURRENCY = 8
PEER_SYMBOL, PEER_DAY = "AAPL", dt.date(2024, 12, 27)


# -- the simulator, in a child process ------------------------------------------------------


def simulator_process(conn: Connection) -> None:
    """A finished simulator serving history until the parent sends None; counts on request."""
    from oss20.iqfeed.simulator import Simulator, SimulatorConfig

    market = Market(seed=SEED, activity=ACTIVITY, cache_rows=50_000_000)
    for symbol in SYMBOLS:  # history a real server has on disk: generated before any run
        for day in (STORED, *MISSING):
            market.ticks(symbol, day)
    config = SimulatorConfig(
        level1_port=0,
        lookup_port=0,
        admin_port=0,
        day=SIM_DAY,
        seed=SEED,
        activity=ACTIVITY,
        start=dt.time(20, 0),
        symbols=SYMBOLS,
    )
    sim = Simulator(config, market=market).start()
    conn.send(dict(sim.ports))
    while conn.recv() is not None:
        conn.send({"requests": sim.history_requests, "throttled": sim.history_throttled})
    sim.stop()


class RemoteSimulator:
    """The parent's handle on the child's simulator: its endpoint, request counts and pid."""

    def __init__(self) -> None:
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=simulator_process, args=(child,), daemon=True)
        self.process.start()
        ports = self.conn.recv()
        self.ports = ports
        self.endpoint = Endpoint("127.0.0.1", ports["level1"], ports["lookup"], ports["admin"])
        self.pid = self.process.pid or 0

    def counts(self) -> dict[str, int]:
        self.conn.send("counts")
        return self.conn.recv()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send(None)
        self.process.join(15)


# -- the Dask cluster ------------------------------------------------------------------------


# -- the scenario -----------------------------------------------------------------------------


def settings_for(sim: RemoteSimulator, data_dir: Path) -> Settings:
    return Settings(
        data_dir=str(data_dir),
        level1_port=sim.ports["level1"],
        lookup_port=sim.ports["lookup"],
        admin_port=sim.ports["admin"],
    )


def cut_store(market: Market, settings: Settings) -> None:
    """The store: ``STORED`` whole for every symbol, the ``MISSING`` sessions absent."""
    store = TickStore(settings.resolved_arctic_uri)
    for symbol in SYMBOLS:
        store.merge(market.ticks(symbol, STORED))


def stored_counts(settings: Settings) -> dict[str, int]:
    """Ticks stored per symbol-day of the missing sessions (index only is read)."""
    store = TickStore(settings.resolved_arctic_uri)
    out = {}
    for symbol in SYMBOLS:
        for day in MISSING:
            out[f"{symbol} {day}"] = len(store.read(symbol, day, columns=[]))
    return out


# -- timing the executor's steps in place ----------------------------------------------------


class Steps:
    """Wrappers on the executor's steps that add up their wall time (outermost calls only) and
    note when each history request went out."""

    NAMES = ("exchange", "strip", "parse", "tier1", "merge", "catalog")

    def __init__(self) -> None:
        self.seconds = dict.fromkeys(self.NAMES, 0.0)
        self.calls = dict.fromkeys(self.NAMES, 0)
        self.sent: list[float] = []
        self._saved: list[tuple[object, str, object]] = []

    def _timed(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t0
                self.calls[name] += 1

        return wrapper

    def _timed_async(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            self.sent.append(t0)
            try:
                return await fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - t0
                self.calls[name] += 1

        return wrapper

    def _patch(self, owner: object, attr: str, new: object) -> None:
        self._saved.append((owner, attr, getattr(owner, attr)))
        setattr(owner, attr, new)

    def __enter__(self) -> Steps:
        self._patch(HistoryClient, "_exchange", self._timed_async("exchange", HistoryClient._exchange))
        self._patch(protocol, "strip_request_id", self._timed("strip", protocol.strip_request_id))
        self._patch(protocol, "parse_tick_history", self._timed("parse", protocol.parse_tick_history))
        self._patch(executor, "check_ticks", self._timed("tier1", executor.check_ticks))
        # the work under the store's lock (merges of one store take turns): not the wait for it
        self._patch(TickStore, "_merge_day", self._timed("merge", TickStore._merge_day))
        from oss20.storage.catalog import Catalog

        for name in ("update_task",):
            self._patch(Catalog, name, self._timed("catalog", getattr(Catalog, name)))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attr, old in reversed(self._saved):
            setattr(owner, attr, old)

    def peak_rate(self) -> int:
        """Most requests sent within any one second (the client's side of the budget)."""
        sent = np.sort(np.asarray(self.sent))
        if len(sent) == 0:
            return 0
        return int(max(np.searchsorted(sent, t + 1.0, side="left") - i for i, t in enumerate(sent)))


def cpu_seconds(pids: list[int], exclude: tuple[int, ...] = ()) -> float:
    """User + system CPU seconds of ``pids`` and their live descendants, each process counted once,
    without ``exclude`` and its descendants (the simulator is this process's child)."""
    procs: dict[int, psutil.Process] = {}
    skip: set[int] = set()
    for pid in exclude:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            skip |= {p.pid for p in [proc, *proc.children(recursive=True)]}
    for pid in pids:
        with contextlib.suppress(psutil.Error):
            proc = psutil.Process(pid)
            procs.update({p.pid: p for p in [proc, *proc.children(recursive=True)] if p.pid not in skip})
    total = 0.0
    for p in procs.values():
        with contextlib.suppress(psutil.Error):
            t = p.cpu_times()
            total += t.user + t.system
    return total


def machine_busy() -> float:
    """CPU seconds the whole machine has spent busy since boot (all processes)."""
    t = psutil.cpu_times()
    return t.user + t.nice + t.system + t.irq + t.softirq


QUIET = 0.3
"""Cores other processes may keep busy when a run starts (2 cores in all); waited for up to --wait s."""


def wait_for_quiet(limit: float, ours: list[int]) -> float:
    """Wait (up to ``limit`` seconds) until other processes keep fewer than ``QUIET`` cores busy
    over a 2 s sample; the cores they kept busy in the last sample."""
    deadline = time.monotonic() + limit
    while True:
        busy0, own0, t0 = machine_busy(), cpu_seconds(ours), time.monotonic()
        time.sleep(2.0)
        others = max(0.0, machine_busy() - busy0 - (cpu_seconds(ours) - own0)) / (time.monotonic() - t0)
        if others < QUIET or time.monotonic() > deadline:
            return others


# -- one run ----------------------------------------------------------------------------------


def backfill_run(
    name: str,
    base: Path,
    root: Path,
    sim: RemoteSimulator,
    chunks: list[Chunk],
    truth: dict[str, int],
    concurrency: int,
    scheduler: str = "",
    cluster_pids: tuple[int, ...] = (),
    wait: float = 0.0,
) -> dict[str, Any]:
    """Backfill a fresh copy of the cut store; figures, steps and the CPU each process took."""
    data = root / name
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(base, data)
    settings = settings_for(sim, data)
    settings.dask_scheduler = scheduler
    time.sleep(1.5)  # the simulator's and the shared budget's buckets full again after the last run
    quiet = wait_for_quiet(wait, [os.getpid(), sim.pid, *cluster_pids])
    load = os.getloadavg()
    before = sim.counts()
    ours = [os.getpid(), *cluster_pids]
    cpu0, sim0, busy0 = cpu_seconds(ours, (sim.pid,)), cpu_seconds([sim.pid]), machine_busy()
    with Steps() as steps:
        t0 = time.perf_counter()
        outcomes = run_backfill(chunks, settings, concurrency=concurrency)
        wall = time.perf_counter() - t0
    cpu1, sim1, busy1 = cpu_seconds(ours, (sim.pid,)), cpu_seconds([sim.pid]), machine_busy()
    after = sim.counts()
    failed = [o.error for o in outcomes if o.status != "done"]
    assert not failed, failed
    counts = stored_counts(settings)
    quarantined = sum(o.quarantined for o in outcomes)
    diff = {k: (counts[k], truth[k]) for k in truth if counts[k] != truth[k]}
    assert not diff, f"{name}: (stored, truth) {diff}, quarantined {quarantined}"
    stored = sum(o.stored for o in outcomes)
    assert stored == sum(truth.values()), (stored, sum(truth.values()))
    requests = after["requests"] - before["requests"]
    throttled = after["throttled"] - before["throttled"]
    client_cpu, sim_cpu = cpu1 - cpu0, sim1 - sim0
    others = max(0.0, (busy1 - busy0) - client_cpu - sim_cpu)
    shutil.rmtree(data, ignore_errors=True)
    local = not scheduler
    return {
        "name": name,
        "executor": "dask" if scheduler else "local pool",
        "concurrency": concurrency,
        "chunks": len(chunks),
        "symbol_days": len({c.key for c in chunks}),
        "ticks_stored": stored,
        "ticks_received": sum(o.received for o in outcomes),
        "seconds": wall,
        "ticks_per_s": stored / wall,
        "of_target": stored / wall / TARGET,
        "history_requests": requests,
        "requests_per_s": requests / wall,
        "peak_requests_in_1s": steps.peak_rate() if local else None,
        "throttled": throttled,
        "cpu_seconds": {"backfill": client_cpu, "simulator": sim_cpu, "other_processes": others},
        "cpu_us_per_tick": {"backfill": client_cpu / stored * 1e6, "simulator": sim_cpu / stored * 1e6},
        "cpu_share_of_wall": {
            "backfill": client_cpu / wall,
            "simulator": sim_cpu / wall,
            "other_processes": others / wall,
        },
        "steps_seconds": dict(steps.seconds) if local else None,
        "steps_calls": dict(steps.calls) if local else None,
        "loadavg_before": load,
        "others_cores_before": quiet,
    }


# -- each step alone, on one chunk -----------------------------------------------------------


STEP_NAMES = {
    "generate": "simulator reply generation (HistoryDesk.reply)",
    "exchange": "request to reply bytes over loopback (generation + socket)",
    "strip": "request ids off the reply (strip_request_id)",
    "parse": "parse (parse_tick_history)",
    "tier1": "tier 1 (check_ticks)",
    "merge_new": "TickStore.merge into a new day (write)",
    "merge_next": "TickStore.merge of the next chunk (append)",
    "merge_again": "TickStore.merge of the same chunk again (nothing new)",
    "write": "peer: plain ArcticDB Library.write of the same rows",
    "append": "peer: plain ArcticDB Library.append of the next chunk",
    "pandas_new": "peer: pandas dedup (drop_duplicates) + write, new day",
    "pandas_next": "peer: pandas dedup (read stored ids, merge) + append, next chunk",
}
"""The single steps of one chunk, timed alone; each merge figure is per tick of the first chunk."""


def peers(sim: RemoteSimulator, market: Market, root: Path, repeat: int) -> dict[str, Any]:
    """Each step of one chunk alone (best of ``repeat``), side by side: ticks/s of each; the merge
    next to a plain ArcticDB write/append of the same rows and a pandas-merge dedup."""
    day = PEER_DAY
    lo = pd.Timestamp.combine(day, dt.time(4, 0)).tz_localize(TZ)
    hi = pd.Timestamp.combine(day, dt.time(12, 0)).tz_localize(TZ) - pd.Timedelta(microseconds=1)
    hi2 = pd.Timestamp.combine(day, dt.time(20, 0)).tz_localize(TZ) - pd.Timedelta(microseconds=1)
    desk = HistoryDesk(market)
    request = protocol.TickRequest(kind="HTT", symbol=PEER_SYMBOL, request_id="B1", begin=lo, end=hi)
    command = protocol.format_request(request)
    market.ticks(PEER_SYMBOL, day)  # generated once, as in the simulator
    gen_s, reply = best_of(repeat, lambda: desk.reply(request, NOW, "6.2"))

    async def exchange() -> bytes:
        async with HistoryClient(sim.endpoint, connections=1, rate=1000.0) as history:
            await history._exchange(command, "B1")  # connect and handshake outside the timing
            t0 = time.perf_counter()
            data = await history._exchange(command, "B1")
            exchange.seconds = min(getattr(exchange, "seconds", 1e9), time.perf_counter() - t0)  # type: ignore[attr-defined]
            return data

    for _ in range(repeat):
        data = asyncio.run(exchange())
    ex_s = exchange.seconds  # type: ignore[attr-defined]
    strip_s, body = best_of(repeat, lambda: protocol.strip_request_id(data, "B1"))
    parse_s, parsed = best_of(repeat, lambda: protocol.parse_tick_history(body, PEER_SYMBOL))
    frame = parsed.frame
    n = len(frame)
    tier_s, clean = best_of(repeat, lambda: check_ticks(frame, Tier1State()).clean)
    second = check_ticks(
        desk.ticks(
            protocol.TickRequest(kind="HTT", symbol=PEER_SYMBOL, request_id="B2", begin=hi, end=hi2), NOW
        ),
        Tier1State(),
    ).clean
    runs = iter(range(1_000_000))

    def fresh_store() -> TickStore:
        return TickStore(f"lmdb://{root / f'peer-{next(runs)}'}")

    def timed_on(prepare: Callable[[], Any], step: Callable[[Any], object]) -> float:
        """Best of ``repeat`` of ``step(prepare())``, the preparation untimed."""
        best = float("inf")
        for _ in range(repeat):
            ready = prepare()
            t0 = time.perf_counter()
            step(ready)
            best = min(best, time.perf_counter() - t0)
        return best

    def stored_first() -> TickStore:
        store = fresh_store()
        store.merge(clean)
        return store

    merge_new_s = timed_on(fresh_store, lambda store: store.merge(clean))
    merge_next_s = timed_on(stored_first, lambda store: store.merge(second))
    merge_again_s = timed_on(stored_first, lambda store: store.merge(clean))
    disk, disk2 = _disk_frame(clean), _disk_frame(second)

    def plain_library() -> Any:
        return arcticdb.Arctic(f"lmdb://{root / f'plain-{next(runs)}'}").get_library(
            "t", create_if_missing=True
        )

    def plain_written() -> Any:
        lib = plain_library()
        lib.write("AAPL", disk)
        return lib

    write_s = timed_on(plain_library, lambda lib: lib.write("AAPL", disk))
    append_s = timed_on(plain_written, lambda lib: lib.append("AAPL", disk2))
    frame1, frame2 = clean.frame(), second.frame()
    identity_cols = ["market_center", "tick_id"]

    def pandas_new(lib: Any) -> None:
        lib.write("AAPL", _to_disk(frame1.drop_duplicates(identity_cols)))

    def pandas_next(lib: Any) -> None:
        held = lib.read("AAPL", columns=identity_cols).data.reset_index(drop=True)
        both = frame2.drop_duplicates(identity_cols).merge(held, on=identity_cols, how="left", indicator=True)
        new = both.loc[both["_merge"] == "left_only"].drop(columns="_merge")
        lib.append("AAPL", _to_disk(new))

    pandas_new_s = timed_on(plain_library, pandas_new)
    pandas_next_s = timed_on(plain_written, pandas_next)
    per_first = n / max(len(second), 1)  # the next-chunk figures scaled to the first chunk's ticks
    seconds = {
        "generate": gen_s,
        "exchange": ex_s,
        "strip": strip_s,
        "parse": parse_s,
        "tier1": tier_s,
        "merge_new": merge_new_s,
        "merge_next": merge_next_s * per_first,
        "merge_again": merge_again_s,
        "write": write_s,
        "append": append_s * per_first,
        "pandas_new": pandas_new_s,
        "pandas_next": pandas_next_s * per_first,
    }
    return {
        "chunk": f"{PEER_SYMBOL} {day} 04:00-12:00",
        "ticks": n,
        "reply_bytes": len(data),
        "second_chunk_ticks": len(second),
        "seconds": {STEP_NAMES[k]: v for k, v in seconds.items()},
        "us_per_tick": {k: v / n * 1e6 for k, v in seconds.items()},
        "reply_size_check": len(reply),
    }


# -- output -----------------------------------------------------------------------------------


def readme_table(results: dict[str, Any]) -> list[str]:
    m = results["machine"]
    runs = results["runs"]
    plan = results["plan"]
    lines = [
        f"{results['ticks']:,} ticks missing: {len(SYMBOLS)} symbols ({', '.join(SYMBOLS)}) x "
        f"{len(MISSING)} whole sessions ({MISSING[0]} to {MISSING[-1]}, extended hours, activity "
        f"{ACTIVITY}), {plan['chunks']} chunks of about {plan['chunk_trades']:,} trades, "
        f"{plan['symbol_days']} symbol-days; simulator in a child process; each run on a fresh copy of the "
        f"cut store; {m['cpu']}, {m['cores']} cores, Python {m['python']}, ArcticDB {m['arcticdb']}, "
        f"Dask {m['dask']}; {results['date']}.",
        "",
        "| run | ticks stored | seconds | ticks/s stored | x of 1M target | history requests | "
        "requests/s (peak in 1 s) | throttled | CPU: backfill / simulator / others (cores) | "
        "CPU µs per tick: backfill / simulator | load avg (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---:|",
    ]
    for r in runs:
        peak = f" ({r['peak_requests_in_1s']})" if r["peak_requests_in_1s"] is not None else ""
        share = r["cpu_share_of_wall"]
        lines.append(
            f"| {r['name']} | {r['ticks_stored']:,} | {r['seconds']:.2f} | {r['ticks_per_s']:,.0f} | "
            f"{r['of_target']:.2f} | {r['history_requests']} | {r['requests_per_s']:.1f}{peak} | "
            f"{r['throttled']} | {share['backfill']:.2f} / {share['simulator']:.2f} / "
            f"{share['other_processes']:.2f} | {r['cpu_us_per_tick']['backfill']:.2f} / "
            f"{r['cpu_us_per_tick']['simulator']:.2f} | {r['loadavg_before'][0]:.2f} |"
        )
    lines += [
        "",
        "| where a local run's time goes (s, summed over requests) | exchange (budget wait, simulator, "
        "socket) | request ids off | parse | tier 1 | merge into ArcticDB | catalog |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in runs:
        if r["steps_seconds"] is None:
            continue
        s = r["steps_seconds"]
        lines.append(
            f"| {r['name']} ({r['seconds']:.1f} s wall) | {s['exchange']:.2f} | {s.get('strip', 0.0):.2f} | "
            f"{s['parse']:.2f} | "
            f"{s['tier1']:.2f} | {s['merge']:.2f} | {s['catalog']:.2f} |"
        )
    p = results["peers"]
    lines += [
        "",
        f"| each step alone, one chunk ({p['chunk']}, {p['ticks']:,} ticks, {p['reply_bytes'] / 1e6:.1f} MB "
        "reply), best of 3 | seconds | µs/tick | ticks/s |",
        "|---|---:|---:|---:|",
    ]
    for name, seconds in p["seconds"].items():
        lines.append(
            f"| {name} | {seconds:.3f} | {seconds / p['ticks'] * 1e6:.2f} | {p['ticks'] / seconds:,.0f} |"
        )
    before = results.get("before")
    if before:
        lines += [
            "",
            f"Before this build ({before['build']}; {before['date']}), the same scenario and machine:",
            "",
            "| run (before) | seconds | ticks/s stored | x of 1M target | CPU: backfill / simulator / others "
            "(cores) | CPU µs per tick: backfill / simulator | load avg (1 min) | "
            "steps (s): exchange / parse / tier 1 / merge |",
            "|---|---:|---:|---:|---|---|---:|---|",
        ]
        for r in before["runs"]:
            steps = r.get("steps_seconds") or {}
            lines.append(
                f"| {r['name']} | {r['seconds']:.2f} | {r['ticks_per_s']:,.0f} | "
                f"{r['ticks_per_s'] / TARGET:.2f} | "
                f"{r['cpu']} | {r['cpu_us_per_tick']} | {r['load']:.2f} | "
                + (
                    " / ".join(f"{steps[k]:.2f}" for k in ("exchange", "parse", "tier1", "merge"))
                    if steps
                    else ""
                )
                + " |"
            )
        if before.get("peers"):
            lines += ["", "| one step alone, before | seconds | ticks/s |", "|---|---:|---:|"]
            lines += [
                f"| {name} | {sec:.3f} | {before['peers_ticks'] / sec:,.0f} |"
                for name, sec in before["peers"].items()
            ]
    ratios = results["merge_ratios"]
    lines += [
        "",
        f"The merge against its peers on the same rows: {ratios['merge_new_vs_plain_write']:.2f}x a plain "
        f"ArcticDB write (new day), {ratios['merge_next_vs_plain_append']:.2f}x a plain append (next chunk); "
        f"a pandas dedup takes {ratios['pandas_dedup_vs_merge_new']:.2f}x and "
        f"{ratios['pandas_dedup_vs_merge_next']:.2f}x the merge's time.",
        "",
        results["finding"],
    ]
    return lines


def print_run(r: dict[str, Any]) -> None:
    share = r["cpu_share_of_wall"]
    print(
        f"{r['name']:18s} {r['ticks_stored']:>10,} ticks {r['seconds']:7.2f} s "
        f"{r['ticks_per_s']:>10,.0f} ticks/s x{r['of_target']:.2f} of target  {r['history_requests']:4d} req "
        f"{r['requests_per_s']:5.1f} req/s (peak {r['peak_requests_in_1s']})  throttled {r['throttled']}  "
        f"cpu backfill {share['backfill']:.2f} sim {share['simulator']:.2f} "
        f"({r['cpu_us_per_tick']['backfill']:.2f} / {r['cpu_us_per_tick']['simulator']:.2f} µs/tick) "
        f"others {share['other_processes']:.2f}  load {r['loadavg_before'][0]:.2f}",
        flush=True,
    )
    if r["steps_seconds"]:
        print("   steps (s): " + " ".join(f"{k}={v:.2f}" for k, v in r["steps_seconds"].items()), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="best of N for the single-step peers")
    parser.add_argument("--no-write", action="store_true", help="print only; leave results and README alone")
    parser.add_argument("--no-dask", action="store_true", help="skip the Dask run")
    parser.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for a quiet machine before each run"
    )
    parser.add_argument(
        "--chunk-trades", type=int, default=0, help="plan with this planner.CHUNK_TRADES (an experiment)"
    )
    parser.add_argument("--concurrency", type=int, nargs="*", default=list(LOCAL), help="local pool runs")
    parser.add_argument(
        "--before", default="", help="JSON of an earlier build's runs, kept in the results to compare with"
    )
    args = parser.parse_args()
    if args.chunk_trades:
        planner.CHUNK_TRADES = args.chunk_trades
    began = time.perf_counter()
    root = Path(tempfile.mkdtemp(prefix="bench-backfill-"))
    sim = RemoteSimulator()
    market = Market(seed=SEED, activity=ACTIVITY)
    runs: list[dict[str, Any]] = []
    try:
        base = root / "cut"
        settings = settings_for(sim, base)
        cut_store(market, settings)
        truth = {f"{s} {d}": len(market.ticks(s, d)) for s in SYMBOLS for d in MISSING}
        t0 = time.perf_counter()
        chunks = plan_backfill(list(SYMBOLS), STORED, MISSING[-1], settings, NOW, extended_hours=True)
        plan_s = time.perf_counter() - t0
        assert {c.key for c in chunks} == {(s, d) for s in SYMBOLS for d in MISSING}, chunks
        print(
            f"{sum(truth.values()):,} ticks missing in {len(chunks)} chunks; planned in {plan_s:.1f} s",
            flush=True,
        )
        print("peers on one chunk ...", flush=True)
        peer = peers(sim, market, root, args.repeat)
        for name, seconds in peer["seconds"].items():
            print(f"   {name:60s} {seconds:7.3f} s {peer['ticks'] / seconds:>12,.0f} ticks/s", flush=True)
        for concurrency in args.concurrency:
            runs.append(
                backfill_run(
                    f"local pool, {concurrency}", base, root, sim, chunks, truth, concurrency, wait=args.wait
                )
            )
            print_run(runs[-1])
        if not args.no_dask:
            with dask_cluster(root, WORKERS) as (address, processes):
                runs.append(
                    backfill_run(
                        f"dask, {DASK_CONCURRENCY}",
                        base,
                        root,
                        sim,
                        chunks,
                        truth,
                        DASK_CONCURRENCY,
                        scheduler=address,
                        cluster_pids=tuple(p.pid for p in processes),
                        wait=args.wait,
                    )
                )
            print_run(runs[-1])
    finally:
        sim.close()
        shutil.rmtree(root, ignore_errors=True)

    results = {
        "benchmark": "backfill",
        "date": now_utc(),
        "symbols": list(SYMBOLS),
        "stored_session": str(STORED),
        "missing_sessions": [str(d) for d in MISSING],
        "simulator_day": str(SIM_DAY),
        "activity": ACTIVITY,
        "ticks": sum(truth.values()),
        "plan": {
            "chunks": len(chunks),
            "symbol_days": len({c.key for c in chunks}),
            "chunk_trades": planner.CHUNK_TRADES,
            "seconds": plan_s,
        },
        "target_ticks_per_s": TARGET,
        "budget_requests_per_s": BUDGET,
        "runs": runs,
        "peers": peer,
        "merge_ratios": merge_ratios(peer),
        "before": json.loads(Path(args.before).read_text()) if args.before else None,
        "total_seconds": time.perf_counter() - began,
        "machine": machine(arcticdb=arcticdb.__version__, dask=dask.__version__),
        "loadavg_after": os.getloadavg(),
    }
    results["finding"] = finding(results)
    print(results["finding"], flush=True)
    if not args.no_write:
        write_results("backfill", results, readme_table(results))
    print(f"total {time.perf_counter() - began:.0f} s", flush=True)


def merge_ratios(peer: dict[str, Any]) -> dict[str, float]:
    """The merge against its peers on the same rows: x the plain write/append, and pandas' x ours."""
    us = peer["us_per_tick"]
    return {
        "merge_new_vs_plain_write": us["merge_new"] / us["write"],
        "merge_next_vs_plain_append": us["merge_next"] / us["append"],
        "pandas_dedup_vs_merge_new": us["pandas_new"] / us["merge_new"],
        "pandas_dedup_vs_merge_next": us["pandas_next"] / us["merge_next"],
    }


def finding(results: dict[str, Any]) -> str:
    """What limits throughput: CPU per tick, from the steps alone and as the runs spent it, against
    two cores; the target against the runs at 8 concurrent requests."""
    us = results["peers"]["us_per_tick"]
    ratios = merge_ratios(results["peers"])
    merge = (us["merge_new"] + us["merge_next"]) / 2
    client = us["strip"] + us["parse"] + us["tier1"] + merge
    gen = us["generate"]
    per_request = results["ticks"] / results["plan"]["chunks"]
    runs = results["runs"]
    local = [r for r in runs if r["executor"] == "local pool"]
    best = max(runs, key=lambda r: r["ticks_per_s"])
    at8 = [r for r in runs if r["concurrency"] == 8]
    fastest = max(local, key=lambda r: r["ticks_per_s"])
    spent = fastest["cpu_us_per_tick"]["backfill"] + fastest["cpu_us_per_tick"]["simulator"]
    others = [r["cpu_share_of_wall"]["other_processes"] for r in runs]
    loads = [r["loadavg_before"][0] for r in runs]
    return (
        f"What limits it, from the steps alone: one tick costs {gen:.2f} µs of the simulator's CPU to "
        f"generate and {client:.2f} µs of the backfill's (request ids off {us['strip']:.2f}, parse "
        f"{us['parse']:.2f}, tier 1 {us['tier1']:.2f}, merge {merge:.2f} as the mean of a new day and an "
        f"append). The merge costs {ratios['merge_new_vs_plain_write']:.2f}x a plain ArcticDB write of "
        f"the same rows into a new day and {ratios['merge_next_vs_plain_append']:.2f}x a plain append of "
        f"the next chunk; a pandas dedup (drop_duplicates, a merge against the stored identities) takes "
        f"{ratios['pandas_dedup_vs_merge_new']:.1f}x and {ratios['pandas_dedup_vs_merge_next']:.1f}x its "
        f"time. In the runs a stored tick cost {fastest['cpu_us_per_tick']['backfill']:.2f} µs of the "
        f"backfill's CPU and {fastest['cpu_us_per_tick']['simulator']:.2f} µs of the simulator's "
        f"({fastest['name']}; the socket reads, the frames between the steps and ArcticDB's threads come on "
        f"top of the steps), so two free cores cannot store more than {2e6 / spent:,.0f} ticks/s, and the "
        f"local pool's backfill used {fastest['cpu_share_of_wall']['backfill']:.2f} cores: its event loop "
        "reads every socket, takes the request ids off and parses each reply, so it is busy most of the "
        f"wall. The request budget is far away: {per_request:,.0f} ticks per request x {BUDGET:.0f} "
        f"requests/s = {per_request * BUDGET:,.0f} ticks/s, and the runs sent "
        f"{min(r['requests_per_s'] for r in runs):.1f}-{max(r['requests_per_s'] for r in runs):.1f} "
        f"requests/s. With 8 concurrent requests: "
        + ", ".join(
            f"{r['name']} {r['ticks_per_s']:,.0f} ticks/s ({r['of_target']:.2f}x the target)" for r in at8
        )
        + f"; best run {best['ticks_per_s']:,.0f} ({best['name']}). Other processes kept "
        f"{min(others):.2f}-{max(others):.2f} of the 2 cores busy during the runs (load average "
        f"{min(loads):.1f}-{max(loads):.1f}); with other sessions' tests and browsers on the machine the "
        "same build stores proportionally less (the backfill gets what the other processes leave)."
    )


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
