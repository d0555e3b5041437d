"""Synthetic market speed: seconds per symbol-day of Level 1 updates, and a year of daily bars.

Run from the repository root:  ``python bench/bench_market.py [--repeat 3] [--no-write]``

At activity 1.0 (realistic counts) times, in one process: ``Market.level1`` for one day of AAPL,
SPY and KO (a low-activity name), each on a fresh Market so nothing is cached; and
``Market.daily`` over the 252 sessions of 2024 for AAPL (what an HDX/HDT request for a year
costs). Figures are the best of ``--repeat`` runs, numba compilation excluded by a warm-up.
Writes bench/results/market.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import numba
import numpy as np
import pandas as pd
from oss20 import calendar
from oss20.market import Market

HERE = Path(__file__).resolve().parent
DAY = dt.date(2025, 1, 2)
SYMBOLS = ("AAPL", "SPY", "KO")
YEAR = ("2024-01-01", "2024-12-31")


def best_of(repeat: int, fn: Callable[[], object]) -> tuple[float, object]:
    """Best wall time of ``repeat`` runs and the last result."""
    best, result = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - t0)
    return best, result


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; leave bench/results alone")
    args = ap.parse_args()

    Market(seed=7, activity=0.01).level1("KO", DAY)  # compile (or load) the kernels
    Market(seed=7, activity=0.01).daily("KO", "2024-12-02", "2024-12-31")

    level1_rows = []
    for symbol in SYMBOLS:
        seconds, frame = best_of(args.repeat, lambda s=symbol: Market(seed=7, activity=1.0).level1(s, DAY))
        trades = int(frame["contents"].isin(["C", "E", "O"]).sum())
        level1_rows.append({"symbol": symbol, "seconds": seconds, "rows": len(frame), "trades": trades})
        print(f"level1 {symbol:5s} {DAY}  {seconds:7.3f} s  {len(frame):>9,} rows  {trades:>9,} trades")

    sessions = len(calendar.sessions(*YEAR))
    seconds, daily = best_of(args.repeat, lambda: Market(seed=7, activity=1.0).daily("AAPL", *YEAR))
    assert len(daily) == sessions
    print(
        f"daily  AAPL  {sessions} sessions of 2024  {seconds:7.3f} s  ({seconds / sessions * 1e3:.1f} ms/day)"
    )

    results = {
        "benchmark": "market",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "activity": 1.0,
        "day": DAY.isoformat(),
        "repeat": args.repeat,
        "level1": level1_rows,
        "daily": {
            "symbol": "AAPL",
            "start": YEAR[0],
            "end": YEAR[1],
            "sessions": sessions,
            "seconds": seconds,
        },
        "machine": {
            "cpu": cpu_model(),
            "cores": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "numba": numba.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
        "notes": "best of `repeat` runs, each on a fresh Market (no cache); numba compile excluded; "
        "daily() spreads its sessions over the machine's cores (threads, kernels release the GIL).",
    }
    if not args.no_write:
        (HERE / "results").mkdir(exist_ok=True)
        (HERE / "results" / "market.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
