"""Synthetic market speed: a symbol-day of Level 1 updates, and daily bars against a naive peer.

Run from the repository root:  ``python bench/bench_market.py [--repeat 3] [--no-write]``

At activity 1.0 (realistic counts), in one process, each run on a fresh Market so nothing is
cached: ``Market.level1`` for one day of AAPL, SPY and KO (a quiet name); ``Market.daily`` over a
month of sessions side by side with the naive way to the same bars (every day's ``ticks()``,
summarised with pandas), checked equal; and ``Market.daily`` over the 252 sessions of 2024, what an
HDX/HDT request for a year costs the simulator. Best of ``--repeat`` runs, numba compilation
excluded by a warm-up. Writes bench/results/market.json and the market table in bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt

import pandas as pd
from _common import best_of, machine, now_utc, write_results

from oss20 import calendar
from oss20.market import Market

DAY = dt.date(2025, 1, 2)
SYMBOLS = ("AAPL", "SPY", "KO")
MONTH = ("2024-12-01", "2024-12-31")
YEAR = ("2024-01-01", "2024-12-31")


def daily_from_ticks(symbol: str, start: str, end: str) -> pd.DataFrame:
    """The peer: simulate every day in full and summarise its regular-session trades with pandas."""
    market = Market(seed=7, activity=1.0)
    rows = []
    for day in calendar.sessions(start, end):
        ticks = market.ticks(symbol, day)
        regular = ticks[ticks["basis"] == "C"]
        rows.append(
            {
                "date": day,
                "open": regular["price"].iloc[0],
                "high": regular["price"].max(),
                "low": regular["price"].min(),
                "close": regular["price"].iloc[-1],
                "volume": ticks["total_volume"].iloc[-1],
            }
        )
    return pd.DataFrame(rows)


def readme_table(results: dict) -> list[str]:
    """The README table of a run."""
    m = results["machine"]
    lines = [
        f"Synthetic market at activity 1.0, best of {results['repeat']}, fresh Market per run; "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, numba {m['numba']}, {results['date']}.",
        "",
        f"| Market.level1, one day ({results['day']}) | rows | trades | seconds | rows/s |",
        "|---|---:|---:|---:|---:|",
    ]
    for r in results["level1"]:
        lines.append(
            f"| {r['symbol']} | {r['rows']:,} | {r['trades']:,} | {r['seconds']:.3f} | "
            f"{r['rows'] / r['seconds']:,.0f} |"
        )
    d, y = results["daily_month"], results["daily_year"]
    lines += [
        "",
        "| daily bars, AAPL | sessions | seconds | ms/session | ours is x faster |",
        "|---|---:|---:|---:|---:|",
        f"| Market.daily (trade stream only), {d['start'][:7]} | {d['sessions']} | {d['seconds']:.3f} | "
        f"{d['seconds'] / d['sessions'] * 1e3:.1f} | 1.0 |",
        f"| peer: ticks() per day + pandas summary, {d['start'][:7]} | {d['sessions']} | "
        f"{d['peer_seconds']:.3f} | {d['peer_seconds'] / d['sessions'] * 1e3:.1f} | "
        f"{d['peer_seconds'] / d['seconds']:.1f} |",
        f"| Market.daily, all of 2024 | {y['sessions']} | {y['seconds']:.3f} | "
        f"{y['seconds'] / y['sessions'] * 1e3:.1f} | |",
    ]
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; leave results and README alone")
    args = ap.parse_args()

    Market(seed=7, activity=0.01).level1("KO", DAY)  # compile (or load) the kernels
    Market(seed=7, activity=0.01).daily("KO", *MONTH)

    level1_rows = []
    for symbol in SYMBOLS:
        seconds, frame = best_of(args.repeat, lambda s=symbol: Market(seed=7, activity=1.0).level1(s, DAY))
        trades = int(frame["contents"].isin(["C", "E", "O"]).sum())
        level1_rows.append({"symbol": symbol, "seconds": seconds, "rows": len(frame), "trades": trades})
        print(f"level1 {symbol:5s} {DAY}  {seconds:7.3f} s  {len(frame):>9,} rows  {trades:>9,} trades")

    month_sessions = len(calendar.sessions(*MONTH))
    t_ours, ours = best_of(args.repeat, lambda: Market(seed=7, activity=1.0).daily("AAPL", *MONTH))
    t_peer, peer = best_of(1, lambda: daily_from_ticks("AAPL", *MONTH))
    pd.testing.assert_frame_equal(ours.drop(columns="open_interest"), peer, check_dtype=False)
    print(
        f"daily  AAPL  {MONTH[0][:7]}: ours {t_ours:.3f} s, ticks()+pandas {t_peer:.3f} s, "
        f"x{t_peer / t_ours:.1f}"
    )

    year_sessions = len(calendar.sessions(*YEAR))
    t_year, daily = best_of(args.repeat, lambda: Market(seed=7, activity=1.0).daily("AAPL", *YEAR))
    assert len(daily) == year_sessions
    print(f"daily  AAPL  2024 ({year_sessions} sessions)  {t_year:7.3f} s")

    results = {
        "benchmark": "market",
        "date": now_utc(),
        "activity": 1.0,
        "day": DAY.isoformat(),
        "repeat": args.repeat,
        "level1": level1_rows,
        "daily_month": {
            "symbol": "AAPL",
            "start": MONTH[0],
            "end": MONTH[1],
            "sessions": month_sessions,
            "seconds": t_ours,
            "peer": "ticks() per day + pandas summary",
            "peer_seconds": t_peer,
        },
        "daily_year": {
            "symbol": "AAPL",
            "start": YEAR[0],
            "end": YEAR[1],
            "sessions": year_sessions,
            "seconds": t_year,
        },
        "machine": machine(),
        "notes": "best of `repeat` runs (the peer runs once), each on a fresh Market; numba compile "
        "excluded; daily() spreads its sessions over the machine's cores (threads, kernels release the GIL).",
    }
    if not args.no_write:
        write_results("market", results, readme_table(results))


if __name__ == "__main__":
    main()
