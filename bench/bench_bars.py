"""Bar building throughput: oss20's bar engine against pandas, polars, DuckDB, ArcticDB and Python loops.

Run from the repository root:  ``python bench/bench_bars.py [--ticks 10000000] [--repeat 3]``

The input is one busy symbol's regular-session trades (AAPL, ``Market(seed=7, activity=1.0)``,
prints in [09:30, 16:00) ET of consecutive sessions from 2024-09-03, cut at ``--ticks``), held as
the columns the engine takes (epoch ns, price, size, qualified) and as the tick frame. Every
figure is on the same ticks, in one process pinned to one core, best of ``--repeat`` runs
(numba compilation excluded by a warm-up):

- 1-minute time bars: ``BarBuilder.update_arrays`` and ``build_bars`` (the tick frame) against
  pandas ``resample`` per session (origin at the open), polars ``group_by_dynamic``, DuckDB
  ``time_bucket`` with the America/New_York zone, and ArcticDB's ``QueryBuilder.resample`` on an
  LMDB library in a temporary directory. Each peer's bars are checked equal to ours (count, start,
  OHLC, volume, trades): the array path treats every print as qualifying for OHLC, as the peers do.
- Volume and dollar bars against the vectorised idiom ``cumsum // threshold`` (numpy reduceat and
  pandas groupby); it carries each bar's excess over the threshold into the next, ours does not.
- Tick, volume and dollar imbalance bars against the plain Python loops of tests/bars_reference.py,
  timed on the first 200,000 ticks and extrapolated per tick.
- The kernels alone (``time_bars``, ``threshold_bars``, ``imbalance_bars`` on prepared keys) and
  each step of ``update_arrays`` and ``build_bars``, to show where the time goes.

Polars runs with one thread (POLARS_MAX_THREADS=1) and DuckDB with ``SET threads=1``; a child
process, unpinned, then runs ours, polars, DuckDB and ArcticDB again with their default thread
pools. The run waits (up to 15 minutes) for the load average to fall below 1.5 and records it.
Writes bench/results/bars.json and the table between the bars markers in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ["POLARS_MAX_THREADS"] = os.environ.get("BENCH_BARS_POLARS_THREADS", "1")  # before polars

import arcticdb
import duckdb
import numpy as np
import pandas as pd
import polars as pl
from _common import best_of, machine, now_utc, write_results

from oss20 import calendar
from oss20.bar_engine import BarBuilder, BarSpec, build_bars
from oss20.bar_engine import builders as B
from oss20.bar_engine import kernels as K
from oss20.market import Market

ROOT = Path(__file__).resolve().parent.parent
SYMBOL = "AAPL"
FIRST_DAY = dt.date(2024, 9, 3)
MINUTE = "1min"
THRESHOLDS = ("volume:100000", "dollar:25000000")  # ~100 bars a session each
IMBALANCE = ("tick_imbalance", "volume_imbalance", "dollar_imbalance")
LOOP_TICKS = 200_000
OPEN_OFFSET_S = 9 * 3600 + 30 * 60  # 09:30 ET is a whole number of minutes after midnight UTC too
MAX_LOAD, MAX_WAIT_S, QUIET_CORES = 1.5, 900, 0.3


# --- the ticks ---------------------------------------------------------------------------------------


class Ticks:
    """The benchmark's trades as the engine's columns (and the tick frame, in the main run)."""

    def __init__(
        self,
        times: np.ndarray,
        prices: np.ndarray,
        sizes: np.ndarray,
        opens: np.ndarray,
        frame: pd.DataFrame | None = None,
    ) -> None:
        self.times, self.prices, self.sizes = times, prices, sizes
        self.opens = opens  # each session's regular open, epoch ns
        self.all_qualify = np.ones(len(times), np.bool_)
        self.frame = frame

    @classmethod
    def of_frame(cls, frame: pd.DataFrame, opens: np.ndarray) -> Ticks:
        times = frame["timestamp"].dt.as_unit("ns").to_numpy(np.int64)
        return cls(times, frame["price"].to_numpy(np.float64), frame["size"].to_numpy(np.int64), opens, frame)

    def __len__(self) -> int:
        return len(self.times)

    @property
    def sessions(self) -> int:
        return int(np.searchsorted(self.opens, self.times[-1], side="right"))

    def indexed(self) -> pd.DataFrame:
        """price and size on a naive UTC DatetimeIndex (pandas and ArcticDB)."""
        index = pd.DatetimeIndex(self.times.view("M8[ns]"), name="timestamp")
        return pd.DataFrame({"price": self.prices, "size": self.sizes}, index=index)

    def polars(self) -> pl.DataFrame:
        stamps = pl.Series("timestamp", self.times).cast(pl.Datetime("ns", "UTC"))
        return pl.DataFrame([stamps, pl.Series("price", self.prices), pl.Series("size", self.sizes)])


def regular_ticks(n: int) -> Ticks:
    """The first ``n`` regular-session trades of SYMBOL from FIRST_DAY on (prints at the close left out)."""
    market = Market(seed=7, activity=1.0)
    frames, opens, total = [], [], 0
    for day in calendar.sessions(FIRST_DAY, FIRST_DAY + dt.timedelta(days=3650)):
        session = calendar.session(day)
        ticks = market.ticks(SYMBOL, day)
        stamps = ticks["timestamp"]
        frames.append(ticks.loc[((stamps >= session.open) & (stamps < session.close)).to_numpy()].copy())
        opens.append(session.open.value)
        total += len(frames[-1])
        if total >= n:
            break
    frame = pd.concat(frames, ignore_index=True).iloc[:n].reset_index(drop=True)
    return Ticks.of_frame(frame, np.array(opens, np.int64))


# --- ours ----------------------------------------------------------------------------------------------


def ours_arrays(ticks: Ticks, spec: str) -> pd.DataFrame:
    """BarBuilder.update_arrays on the columns, plus the bar still open (as build_bars returns it)."""
    builder = BarBuilder(SYMBOL, spec)
    done = builder.update_arrays(ticks.times, ticks.prices, ticks.sizes, ticks.all_qualify)
    return pd.concat([done, builder.partial()], ignore_index=True)


# --- time bar peers ------------------------------------------------------------------------------------


def pandas_resample(data: pd.DataFrame, opens: np.ndarray) -> pd.DataFrame:
    """Per session, resample bins with origin at the open; empty bins dropped."""
    bounds = np.searchsorted(data.index.asi8, opens)
    frames = []
    for lo, hi, origin in zip(bounds, [*bounds[1:], len(data)], opens, strict=True):
        every = data.iloc[lo:hi].resample(MINUTE, origin=pd.Timestamp(origin), closed="left", label="left")
        bars = every["price"].ohlc()
        bars["volume"], bars["trades"] = every["size"].sum(), every["size"].count()
        frames.append(bars.loc[bars["trades"] > 0])
    return pd.concat(frames)


def polars_dynamic(data: pl.DataFrame) -> pl.DataFrame:
    """group_by_dynamic on UTC: the 09:30 ET alignment is an offset of (09:30 mod 1 min) = 0."""
    return data.group_by_dynamic(
        "timestamp", every="1m", offset=f"{OPEN_OFFSET_S % 60}s", closed="left", label="left"
    ).agg(
        pl.col("price").first().alias("open"),
        pl.col("price").max().alias("high"),
        pl.col("price").min().alias("low"),
        pl.col("price").last().alias("close"),
        pl.col("size").sum().alias("volume"),
        pl.len().alias("trades"),
    )


DUCKDB_SQL = """
SELECT time_bucket(INTERVAL '1 minute', ts, 'America/New_York') AS bucket,
       arg_min(price, seq) AS open, max(price) AS high, min(price) AS low, arg_max(price, seq) AS close,
       sum(size) AS volume, count(*) AS trades
FROM ticks GROUP BY bucket ORDER BY bucket
"""


def duckdb_connect(ticks: Ticks, threads: int | None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with the ticks in a native table: ts TIMESTAMPTZ (µs, lossless), seq for order."""
    con = duckdb.connect()
    if threads is not None:
        con.execute(f"SET threads={threads}")
    con.execute("SET TimeZone='UTC'")
    source = pd.DataFrame(
        {"ns": ticks.times, "seq": np.arange(len(ticks)), "price": ticks.prices, "size": ticks.sizes}
    )
    con.register("source", source)
    con.execute(
        "CREATE TABLE ticks AS SELECT make_timestamp(ns // 1000)::TIMESTAMPTZ AS ts, seq, price, size "
        "FROM source"
    )
    con.unregister("source")
    return con


def duckdb_buckets(con: duckdb.DuckDBPyConnection) -> dict[str, np.ndarray]:
    """time_bucket with the time-zone argument; first/last as arg_min/arg_max of the row number (ties)."""
    return con.execute(DUCKDB_SQL).fetchnumpy()


ARCTIC_AGG = {
    "open": ("price", "first"),
    "high": ("price", "max"),
    "low": ("price", "min"),
    "close": ("price", "last"),
    "volume": ("size", "sum"),
    "trades": ("size", "count"),
}


def arctic_library(path: str, ticks: Ticks | None) -> Any:
    """The LMDB library holding the ticks (written when ``ticks`` is given)."""
    library = arcticdb.Arctic(f"lmdb://{path}").get_library("bench", create_if_missing=True)
    if ticks is not None:
        library.write(SYMBOL, ticks.indexed())
    return library


def arctic_resample(library: Any) -> pd.DataFrame:
    """QueryBuilder resample, buckets in UTC (09:30 ET is a whole minute there), read from LMDB."""
    query = arcticdb.QueryBuilder().resample(MINUTE, offset=f"{OPEN_OFFSET_S % 60}s").agg(ARCTIC_AGG)
    return library.read(SYMBOL, query_builder=query).data


def arctic_read(library: Any) -> pd.DataFrame:
    """The plain read of the same columns: what the resample pays for storage and decoding alone."""
    return library.read(SYMBOL).data


# --- threshold bar peers -------------------------------------------------------------------------------


def measure_of(ticks: Ticks, measure: str) -> np.ndarray:
    return ticks.sizes if measure == "volume" else ticks.prices * ticks.sizes


def numpy_cumsum(ticks: Ticks, measure: str, threshold: float) -> dict[str, np.ndarray]:
    """Bar ids cumsum // threshold, bars by reduceat: the excess over a threshold opens the next bar."""
    ids = np.cumsum(measure_of(ticks, measure)) // threshold
    starts = np.flatnonzero(np.diff(ids)) + 1
    starts = np.concatenate([[0], starts])
    ends = np.append(starts[1:], len(ids))
    p = ticks.prices
    return {
        "open": p[starts],
        "high": np.maximum.reduceat(p, starts),
        "low": np.minimum.reduceat(p, starts),
        "close": p[ends - 1],
        "volume": np.add.reduceat(ticks.sizes, starts),
        "trades": ends - starts,
    }


def pandas_cumsum(data: pd.DataFrame, measure: str, threshold: float) -> pd.DataFrame:
    """The same idiom in pandas: groupby(cumsum // threshold).agg(...)."""
    values = data["size"] if measure == "volume" else data["price"] * data["size"]
    return data.groupby((values.cumsum() // threshold).to_numpy()).agg(
        open=("price", "first"),
        high=("price", "max"),
        low=("price", "min"),
        close=("price", "last"),
        volume=("size", "sum"),
        trades=("size", "size"),
    )


# --- checks ----------------------------------------------------------------------------------------------


def check_time_bars(ours: pd.DataFrame, starts: np.ndarray, peer: dict[str, np.ndarray]) -> str:
    """Assert a peer's bars equal ours: count, start, OHLC, volume, trades."""
    assert len(starts) == len(ours), f"{len(starts)} bars against our {len(ours)}"
    np.testing.assert_array_equal(starts, ours["timestamp"].array.asi8)
    for column in ("open", "high", "low", "close"):
        np.testing.assert_allclose(np.asarray(peer[column], np.float64), ours[column].to_numpy(), rtol=1e-12)
    for column in ("volume", "trades"):
        np.testing.assert_array_equal(np.asarray(peer[column], np.int64), ours[column].to_numpy())
    return f"{len(ours):,} bars, equal to ours"


def ns(values: Any) -> np.ndarray:
    """Epoch ns of naive-UTC or tz-aware datetimes."""
    return pd.DatetimeIndex(pd.Series(values)).as_unit("ns").asi8


# --- timing ----------------------------------------------------------------------------------------------


def row(name: str, seconds: float, n: int, ours_s: float, **extra: object) -> dict[str, object]:
    line = f"{name:66s} {n / seconds:>14,.0f} ticks/s  {seconds:8.3f} s  x{seconds / ours_s:7.1f}"
    print(line, flush=True)
    return {"name": name, "seconds": seconds, "ticks_per_s": n / seconds, "ours_speedup": seconds / ours_s}


def plural(threads: int) -> str:
    return f"{threads} thread{'s' * (int(threads) != 1)}"


def timed(repeat: int, fn: Callable[[], object]) -> tuple[float, Any]:
    fn()  # warm-up: numba compilation, caches, first-touch of pages
    return best_of(repeat, fn)


def wait_for_quiet() -> list[float]:
    """Sleep until the 1-minute load average is below MAX_LOAD (or MAX_WAIT_S passed); return it."""
    deadline = time.monotonic() + MAX_WAIT_S
    while os.getloadavg()[0] > MAX_LOAD and time.monotonic() < deadline:
        print(f"load average {os.getloadavg()[0]:.2f} > {MAX_LOAD}: waiting", flush=True)
        time.sleep(30)
    return [round(x, 2) for x in os.getloadavg()]


def others_busy(seconds: float = 5.0) -> float:
    """Cores kept busy by other processes: /proc/stat sampled while this one sleeps."""

    def sample() -> tuple[int, int]:
        ticks = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
        return sum(ticks), ticks[3] + ticks[4]  # all, idle + iowait

    (total0, idle0), _, (total1, idle1) = sample(), time.sleep(seconds), sample()
    return (os.cpu_count() or 1) * (1 - (idle1 - idle0) / max(total1 - total0, 1))


def wait_for_idle_cores() -> float:
    """After our own data generation the load average counts us too: wait until others use < QUIET_CORES."""
    deadline = time.monotonic() + MAX_WAIT_S
    while (busy := others_busy()) > QUIET_CORES and time.monotonic() < deadline:
        print(f"other processes busy on {busy:.2f} cores: waiting", flush=True)
        time.sleep(25)
    return round(busy, 2)


def threaded_peer_rows(
    ticks: Ticks, repeat: int, ours: pd.DataFrame, t_ours: float, duck: Any, library: Any, label: str
) -> list[dict]:
    """The peers that can use threads (polars, DuckDB, ArcticDB), each checked against ours."""
    n, rows, frame_pl = len(ticks), [], ticks.polars()
    t, bars = timed(repeat, lambda: polars_dynamic(frame_pl))
    check = check_time_bars(ours, ns(bars["timestamp"].to_numpy()), bars.to_dict(as_series=False))
    threads = pl.thread_pool_size()
    rows.append(row(f"polars group_by_dynamic, {plural(threads)}", t, n, t_ours) | {"check": check})
    t, bars = timed(repeat, lambda: duckdb_buckets(duck))
    check = check_time_bars(ours, ns(bars["bucket"]), bars)
    threads = duck.execute("SELECT current_setting('threads')").fetchone()[0]
    rows.append(row(f"DuckDB time_bucket (America/New_York), {plural(threads)}", t, n, t_ours))
    rows[-1]["check"] = check
    t, bars = timed(repeat, lambda: arctic_resample(library))
    check = check_time_bars(ours, bars.index.asi8, {c: bars[c].to_numpy() for c in bars})
    rows.append(
        row(f"ArcticDB read + QueryBuilder.resample (LMDB), {label}", t, n, t_ours) | {"check": check}
    )
    t, _ = timed(repeat, lambda: arctic_read(library))
    rows.append(row(f"  ArcticDB plain read of the same columns, {label}", t, n, t_ours))
    rows[-1]["check"] = "no bars: storage and decoding alone"
    return rows


def time_bar_rows(ticks: Ticks, repeat: int, duck: Any, library: Any) -> list[dict]:
    """1-minute bars on one core: ours (arrays, tick frame) and the four peers."""
    n, rows = len(ticks), []
    t_ours, ours = timed(repeat, lambda: ours_arrays(ticks, MINUTE))
    rows.append(row("oss20 BarBuilder.update_arrays (all prints qualify)", t_ours, n, t_ours))
    rows[-1]["check"] = f"{len(ours):,} bars"
    t, framed = timed(repeat, lambda: build_bars(ticks.frame, MINUTE))
    np.testing.assert_array_equal(framed["volume"].to_numpy(), ours["volume"].to_numpy())
    rows.append(row("oss20 build_bars(tick frame)", t, n, t_ours))
    rows[-1]["check"] = "same bars; OHLC from C/E prints only"
    indexed = ticks.indexed()
    t, bars = timed(repeat, lambda: pandas_resample(indexed, ticks.opens))
    check = check_time_bars(ours, bars.index.asi8, {c: bars[c].to_numpy() for c in bars})
    rows.append(row("pandas resample per session (origin 09:30)", t, n, t_ours) | {"check": check})
    return rows + threaded_peer_rows(ticks, repeat, ours, t_ours, duck, library, "pinned to one core")


def threshold_rows(ticks: Ticks, repeat: int) -> list[dict]:
    """Volume and dollar bars: ours against the cumsum // threshold idiom, bar counts side by side."""
    n, rows, data = len(ticks), [], ticks.indexed().reset_index(drop=True)
    for text in THRESHOLDS:
        spec = BarSpec.parse(text)
        t_ours, ours = timed(repeat, lambda text=text: ours_arrays(ticks, text))
        rows.append(row(f"{text} oss20 update_arrays", t_ours, n, t_ours) | {"bars": len(ours)})
        t, bars = timed(repeat, lambda s=spec: numpy_cumsum(ticks, s.measure, s.size))
        rows.append(row(f"{text} numpy cumsum // threshold + reduceat", t, n, t_ours))
        rows[-1]["bars"] = len(bars["open"])
        t, frame = timed(repeat, lambda s=spec: pandas_cumsum(data, s.measure, s.size))
        rows.append(row(f"{text} pandas groupby(cumsum // threshold)", t, n, t_ours) | {"bars": len(frame)})
        assert int(frame["volume"].sum()) == int(ours["volume"].sum()) == int(ticks.sizes.sum())
    return rows


def reference_module() -> Any:
    sys.path.insert(0, str(ROOT / "tests"))
    return importlib.import_module("bars_reference")


def imbalance_rows(ticks: Ticks, repeat: int) -> list[dict]:
    """Imbalance bars: ours on every tick, the reference loop on LOOP_TICKS of them (checked equal)."""
    reference, n, rows = reference_module(), len(ticks), []
    subset = ticks.frame.iloc[:LOOP_TICKS]
    for text in IMBALANCE:
        spec = BarSpec.parse(text)
        t_ours, ours = timed(repeat, lambda text=text: ours_arrays(ticks, text))
        rows.append(row(f"{text} oss20 update_arrays", t_ours, n, t_ours) | {"bars": len(ours)})
        params = (spec.expected_ticks, spec.bar_span, spec.tick_span, spec.min_ticks, spec.max_ticks)
        t_loop, ref = best_of(1, lambda s=spec, p=params: reference.imbalance_bars(subset, s.measure, *p))
        mine = build_bars(subset, spec)
        assert len(mine) == len(ref), f"{text}: {len(mine)} bars, reference {len(ref)}"
        np.testing.assert_array_equal(mine["close"].to_numpy(), ref["close"].to_numpy())
        per_tick = t_loop / len(subset)
        name = f"{text} Python loop (bars_reference), timed on {len(subset):,} ticks, extrapolated"
        rows.append(
            row(name, per_tick * n, n, t_ours) | {"measured_s": t_loop, "measured_ticks": len(subset)}
        )
    return rows


# --- where the time goes ---------------------------------------------------------------------------------


BAR_KERNELS = ("time_bars_in_order", "time_bars", "threshold_bars", "imbalance_bars", "run_bars")


class StepTimer:
    """Times in place what the engine calls: bar_engine.builders' functions, the numba kernels of
    bar_engine.kernels and the given methods, outermost calls only (nested ones are inside them).
    Keeps the arguments of the last bar kernel call, so the kernel can be timed alone on them."""

    def __init__(self, *methods: tuple[type, str]) -> None:
        self.targets: list[tuple[Any, str]] = [
            (B, name) for name, f in vars(B).items() if inspect.isfunction(f) and f.__module__ == B.__name__
        ]
        self.targets += [(K, name) for name, f in vars(K).items() if hasattr(f, "py_func")]
        self.targets += list(methods)
        self.seconds: dict[str, float] = {}
        self.kernel: tuple[str, Callable[..., Any], tuple[Any, ...]] | None = None
        self._saved: list[tuple[Any, str, Any]] = []
        self._depth = 0

    def __enter__(self) -> StepTimer:
        for owner, name in self.targets:
            original = vars(owner)[name]
            self._saved.append((owner, name, original))
            setattr(owner, name, self._wrap(name, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, name, original in reversed(self._saved):
            setattr(owner, name, original)
        self._saved.clear()

    def _wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            if name in BAR_KERNELS:  # the accumulator and state are small: keep them as they were
                kept = tuple(a.copy() if isinstance(a, np.ndarray) and a.size <= 64 else a for a in args)
                self.kernel = (name, fn, kept)
            if self._depth:
                return fn(*args, **kwargs)
            self._depth += 1
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - t0
                self._depth -= 1

        return call


def fastest_steps(
    repeat: int, fn: Callable[[], object], *methods: tuple[type, str]
) -> tuple[float, StepTimer]:
    """Best of ``repeat`` wrapped runs of ``fn``: its time and the steps of that run."""
    fn()  # warm-up
    best: tuple[float, StepTimer] | None = None
    for _ in range(repeat):
        with StepTimer(*methods) as steps:
            t0 = time.perf_counter()
            fn()
            seconds = time.perf_counter() - t0
        if best is None or seconds < best[0]:
            best = (seconds, steps)
    assert best is not None
    return best


def kernel_alone(steps: StepTimer, repeat: int) -> tuple[str, float]:
    """The bar kernel on the arguments update_arrays gave it (fresh accumulator and state each call)."""
    assert steps.kernel is not None, "no bar kernel was called"
    name, kernel, args = steps.kernel

    def run() -> object:
        return kernel(*(a.copy() if isinstance(a, np.ndarray) and a.size <= 64 else a for a in args))

    return name, timed(repeat, run)[0]


def array_steps(ticks: Ticks, text: str, repeat: int) -> dict[str, object]:
    """update_arrays, each step it calls timed in place, and its bar kernel alone."""
    n, a = len(ticks), (ticks.times, ticks.prices, ticks.sizes, ticks.all_qualify)
    t_full, steps = fastest_steps(
        repeat, lambda: BarBuilder(SYMBOL, text).update_arrays(*a), (BarBuilder, "_frame")
    )
    kernel, t_kernel = kernel_alone(steps, repeat)
    parts = dict(steps.seconds)
    parts["other (numpy in update_arrays: mask, allocation)"] = t_full - sum(parts.values())
    print(
        f"{text:18s} {kernel} alone {n / t_kernel:>13,.0f} ticks/s, update_arrays {n / t_full:>12,.0f} "
        "ticks/s: " + ", ".join(f"{k.split(' (')[0]} {v * 1e3:.0f} ms" for k, v in parts.items()),
        flush=True,
    )
    return {
        "spec": text,
        "kernel": kernel,
        "kernel_s": t_kernel,
        "kernel_ticks_per_s": n / t_kernel,
        "update_arrays_s": t_full,
        "update_arrays_ticks_per_s": n / t_full,
        "steps_s": parts,
    }


def frame_steps(ticks: Ticks, repeat: int) -> dict[str, object]:
    """What build_bars adds on the tick frame around update_arrays."""
    methods = ((BarBuilder, "update_arrays"), (BarBuilder, "partial"))
    t_full, steps = fastest_steps(repeat, lambda: build_bars(ticks.frame, MINUTE), *methods)
    parts = dict(steps.seconds)
    parts["other (symbol split, basis qualification, columns, concat)"] = t_full - sum(parts.values())
    print("build_bars: " + ", ".join(f"{k} {v * 1e3:.0f} ms" for k, v in parts.items()), flush=True)
    return {"spec": MINUTE, "build_bars_s": t_full, "build_bars_ticks_per_s": len(ticks) / t_full} | {
        "steps_s": parts
    }


def engine_fingerprint() -> dict[str, str]:
    """Which bar engine was measured (it changes): sha256 prefix of each module's source."""
    return {
        Path(m.__file__).name: hashlib.sha256(Path(m.__file__).read_bytes()).hexdigest()[:12]
        for m in (B, K)
        if m.__file__
    }


# --- the runs ------------------------------------------------------------------------------------------


def all_threads_child(workdir: Path, repeat: int) -> None:
    """The child run, unpinned: ours and the threaded peers with their default pools, on the same ticks."""
    data = np.load(workdir / "ticks.npz")
    ticks = Ticks(data["times"], data["prices"], data["sizes"], data["opens"])
    t_ours, ours = timed(repeat, lambda: ours_arrays(ticks, MINUTE))
    rows = [row("oss20 BarBuilder.update_arrays (numba, one thread)", t_ours, len(ticks), t_ours)]
    rows[-1]["check"] = f"{len(ours):,} bars"
    duck = duckdb_connect(ticks, threads=None)
    library = arctic_library(str(workdir / "lmdb"), None)
    rows += threaded_peer_rows(ticks, repeat, ours, t_ours, duck, library, "default threads")
    (workdir / "threads.json").write_text(json.dumps(rows))


def run_all_threads(workdir: Path, ticks: Ticks, repeat: int) -> list[dict]:
    """The child run on the same ticks (saved to ``workdir``): every core, the peers' default threads."""
    np.savez(
        workdir / "ticks.npz", times=ticks.times, prices=ticks.prices, sizes=ticks.sizes, opens=ticks.opens
    )
    os.sched_setaffinity(0, range(os.cpu_count() or 1))  # the child inherits our affinity
    env = os.environ | {"BENCH_BARS_POLARS_THREADS": str(os.cpu_count() or 1)}
    command = [sys.executable, __file__, "--all-threads", str(workdir), "--repeat", str(repeat)]
    print(f"--- child process, all {os.cpu_count()} cores, default thread pools", flush=True)
    subprocess.run(command, env=env, check=True)
    return json.loads((workdir / "threads.json").read_text())


def readme_table(results: dict) -> list[str]:
    """The README tables of a run."""
    m, n, load = results["machine"], results["ticks"], results["load_average"]

    def table(title: str, rows: list[dict], last: str, key: str) -> list[str]:
        lines = [f"| {title} | ticks/s | time (s) | ours is x faster | {last} |", "|---|---:|---:|---:|---|"]
        for r in rows:
            lines.append(
                f"| {r['name']} | {r['ticks_per_s']:,.0f} | {r['seconds']:.3f} | {r['ours_speedup']:.1f} | "
                f"{r.get(key, '')} |"
            )
        return [*lines, ""]

    def bars(rows: list[dict]) -> list[dict]:
        return [r | {"bars": f"{r['bars']:,}" if "bars" in r else ""} for r in rows]

    lines = [
        f"{n:,} {results['symbol']} regular-session trades ({results['sessions']} sessions from "
        f"{results['first_day']}, activity 1.0), best of {results['repeat']}, "
        "one process pinned to one core; "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, numba {m['numba']}, polars {m['polars']}, "
        f"DuckDB {m['duckdb']}, ArcticDB {m['arcticdb']}; load average {load['start'][0]} before the run, "
        f"other processes busy on {load['others_busy_cores_before_timing']} cores before timing; "
        f"{results['date']}.",
        "",
        *table("1-minute time bars, one core", results["time_bars"], "output", "check"),
        *table(
            "1-minute time bars, all cores (child process)",
            results["time_bars_all_threads"],
            "output",
            "check",
        ),
        *table("threshold bars, one core", bars(results["threshold_bars"]), "bars", "bars"),
        *table("imbalance bars, one core", bars(results["imbalance_bars"]), "bars", "bars"),
        "| where the time goes | bar kernel | kernel alone ticks/s | update_arrays ticks/s | "
        "update_arrays steps (ms) |",
        "|---|---|---:|---:|---|",
    ]
    for k in results["kernels"]:
        parts = ", ".join(f"{name} {v * 1e3:.0f}" for name, v in k["steps_s"].items())
        lines.append(
            f"| {k['spec']} | {k['kernel']} | {k['kernel_ticks_per_s']:,.0f} | "
            f"{k['update_arrays_ticks_per_s']:,.0f} | {parts} |"
        )
    f = results["build_bars_frame"]
    extras = ", ".join(f"{name} {v * 1e3:.0f} ms" for name, v in f["steps_s"].items())
    speed = f"{f['build_bars_ticks_per_s']:,.0f} ticks/s"
    lines += ["", f"`build_bars` on the tick frame, 1-minute bars ({speed}), steps: {extras}."]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ticks", type=int, default=10_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; leave results and README alone")
    ap.add_argument("--all-threads", type=Path, help=argparse.SUPPRESS)  # the child run
    args = ap.parse_args()
    if args.all_threads:
        all_threads_child(args.all_threads, args.repeat)
        return

    engine = engine_fingerprint()  # the sources as imported, before any long wait
    cpu = max(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})  # threads started from now on (DuckDB, ArcticDB, polars) inherit it
    load_start = wait_for_quiet()
    t0 = time.perf_counter()
    ticks = regular_ticks(args.ticks)
    print(
        f"{len(ticks):,} ticks of {ticks.sessions} sessions in {time.perf_counter() - t0:.1f} s", flush=True
    )
    with tempfile.TemporaryDirectory(prefix="bench_bars_") as tmp:
        workdir = Path(tmp)
        t_write, library = best_of(1, lambda: arctic_library(str(workdir / "lmdb"), ticks))
        t_load, duck = best_of(1, lambda: duckdb_connect(ticks, threads=1))
        t_wait = time.perf_counter()
        busy = wait_for_idle_cores()
        t_wait = time.perf_counter() - t_wait
        load_timed = [round(x, 2) for x in os.getloadavg()]
        results: dict[str, Any] = {
            "benchmark": "bars",
            "date": now_utc(),
            "ticks": len(ticks),
            "symbol": SYMBOL,
            "first_day": str(FIRST_DAY),
            "sessions": ticks.sessions,
            "repeat": args.repeat,
            "pinned_cpu": cpu,
            "bar_engine_sha256": engine,
            "setup_s": {"arcticdb_write": t_write, "duckdb_load": t_load},
            "time_bars": time_bar_rows(ticks, args.repeat, duck, library),
            "threshold_bars": threshold_rows(ticks, args.repeat),
            "imbalance_bars": imbalance_rows(ticks, args.repeat),
            "kernels": [array_steps(ticks, s, args.repeat) for s in (MINUTE, *THRESHOLDS, *IMBALANCE)],
            "build_bars_frame": frame_steps(ticks, args.repeat),
        }
        duck.close()
        del library
        results["time_bars_all_threads"] = run_all_threads(workdir, ticks, args.repeat)
    results["load_average"] = {
        "start": load_start,
        "timed": load_timed,
        "end": [round(x, 2) for x in os.getloadavg()],
        "others_busy_cores_before_timing": busy,
    }
    results["machine"] = machine(
        polars=pl.__version__,
        duckdb=duckdb.__version__,
        arcticdb=arcticdb.__version__,
        polars_threads_one_core=pl.thread_pool_size(),
    )
    results["notes"] = (
        "ticks/s = input ticks / seconds; ours_speedup = peer seconds / ours seconds, measured in the "
        "same process. Main process pinned to one core (sched_setaffinity), POLARS_MAX_THREADS=1, "
        "DuckDB SET threads=1; time_bars_all_threads comes from an unpinned child process with the "
        "peers' default thread pools. Prints at exactly the close are left out so that every peer's "
        "grid matches ours (ours would put them in the last slot). DuckDB and ArcticDB are timed on "
        "data already in their storage (setup_s gives the load). The Python loops run once on "
        f"{LOOP_TICKS:,} ticks and are extrapolated per tick. The cumsum // threshold idiom carries "
        "each bar's excess into the next bar; ours starts every bar from zero and restarts at each "
        "session, hence different bar counts. Runtime: "
        f"{time.perf_counter() - t0 - t_wait:.0f} s, besides {t_wait:.0f} s waiting for other processes."
    )
    if not args.no_write:
        write_results("bars", results, readme_table(results))


if __name__ == "__main__":
    main()
