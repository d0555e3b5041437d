"""Level 1 parse and format throughput: oss20's numba parser against common alternatives.

Run from the repository root:  ``python bench/bench_parse.py [--lines 1000000] [--repeat 3]``

Builds ~1M realistic Q lines (our client's field selection, OSS20_UPDATE_FIELDS) with
``format_level1`` from a synthetic frame, then times on one core, in one process:

- ours: ``Level1Parser.feed`` on 1 MiB chunks cut at arbitrary byte offsets, concatenated into
  one LEVEL1_COLUMNS DataFrame (typed columns, tz-aware timestamps, derived basis);
- python: a straightforward per-line parser (split lines, split fields, float()/int() into lists,
  then a DataFrame; times and dates stay text);
- pandas.read_csv and polars.read_csv on the same bytes with the same columns and numeric dtypes
  (times and dates stay text; polars limited to one thread via POLARS_MAX_THREADS=1);
- formatting: ``format_level1`` in one call and in 10k-row batches, against a per-row f-string loop.

Each figure is the best of ``--repeat`` runs (numba compilation excluded by a warm-up). Writes
bench/results/parse.json and the table between the parse markers in bench/README.md.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Callable

os.environ["POLARS_MAX_THREADS"] = "1"  # must precede the polars import

import numpy as np
import pandas as pd
import polars as pl
from _common import best_of, machine, now_utc, write_results

from oss20 import schema
from oss20.iqfeed import protocol as P

FIELDS = P.OSS20_UPDATE_FIELDS
CHUNK = 1 << 20
SYMBOLS = (
    "AAPL",
    "MSFT",
    "SPY",
    "QQQ",
    "NVDA",
    "AMZN",
    "TSLA",
    "META",
    "GOOGL",
    "AMD",
    "IWM",
    "JPM",
    "BAC",
    "XOM",
    "NFLX",
    "INTC",
)


def synthetic_updates(n: int, seed: int = 20250102) -> pd.DataFrame:
    """A day of Level 1 updates for 16 symbols: ~35% trades, cent prices with some sub-penny prints."""
    rng = np.random.default_rng(seed)
    symbols = np.array(SYMBOLS, dtype=object)
    level = rng.uniform(20, 600, symbols.size)
    sym = rng.integers(0, symbols.size, n)
    drift = np.cumsum(rng.normal(0, 0.01, n))
    px = np.round(level[sym] * (1 + drift / 100), 2)
    subpenny = rng.random(n) < 0.08
    px[subpenny] = np.round(px[subpenny] + rng.integers(1, 99, subpenny.sum()) / 10_000, 4)
    spread = np.round(rng.integers(1, 4, n) / 100, 2)
    wall = (
        pd.Timestamp("2025-01-02 09:30").value + np.sort(rng.integers(0, 390 * 60 * 10**9, n)) // 1000 * 1000
    )
    is_trade = rng.random(n) < 0.35
    contents = np.where(
        is_trade,
        np.array(["C", "Cbav", "Cv", "E", "O"], dtype=object)[rng.integers(0, 5, n)],
        np.array(["b", "a", "ba", "bav"], dtype=object)[rng.integers(0, 4, n)],
    )
    basis = np.array(
        [next((c for c in s if c in "CEO"), "") for s in ("C", "Cbav", "Cv", "E", "O")], dtype=object
    )
    frame = pd.DataFrame(
        {
            "timestamp": pd.DatetimeIndex(wall.view("M8[ns]")).tz_localize(schema.TZ),
            "symbol": symbols[sym],
            "tick_id": rng.integers(1, 300_000, n),
            "market_center": rng.choice(np.array([5, 11, 19, 7, 26, 1], np.int16), n),
            "price": px,
            "size": rng.integers(1, 50, n) * np.where(rng.random(n) < 0.7, 100, 1),
            "total_volume": np.cumsum(rng.integers(1, 500, n)),
            "bid": np.round(px - spread / 2, 2),
            "ask": np.round(px + spread / 2, 2),
            "basis": "",
            "conditions": np.array(["01", "3D", "3D87", "", "17", "0517"], dtype=object)[
                rng.integers(0, 6, n)
            ],
            "aggressor": rng.integers(0, 3, n).astype(np.int8),
            "bid_size": rng.integers(1, 60, n) * 100,
            "ask_size": rng.integers(1, 60, n) * 100,
            "open": np.round(level[sym], 2),
            "high": np.round(level[sym] * 1.02, 2),
            "low": np.round(level[sym] * 0.98, 2),
            "close": np.round(level[sym] * 0.995, 2),
            "contents": contents,
        }
    )
    trade_kind = pd.Series(contents).map(dict(zip(("C", "Cbav", "Cv", "E", "O"), basis, strict=True)))
    frame["basis"] = trade_kind.fillna("").to_numpy(dtype=object)
    return schema.conform(frame, schema.LEVEL1_COLUMNS)


def ours(data: bytes) -> pd.DataFrame:
    parser = P.Level1Parser(FIELDS)
    frames = [parser.feed(data[i : i + CHUNK]).updates for i in range(0, len(data), CHUNK)]
    return pd.concat(frames, ignore_index=True)


_FLOAT = {"Most Recent Trade", "Bid", "Ask", "Open", "High", "Low", "Close"}
_INT = {
    "Most Recent Trade Size",
    "Most Recent Trade Market Center",
    "Total Volume",
    "Bid Size",
    "Ask Size",
    "TickID",
    "Most Recent Trade Aggressor",
}


def python_lines(data: bytes) -> pd.DataFrame:
    """The straightforward parser: per line, per field, Python conversions into lists."""
    names = list(FIELDS)
    convert = [float if n in _FLOAT else int if n in _INT else None for n in names]
    columns: list[list] = [[] for _ in names]
    for line in data.split(b"\n"):
        if not line.startswith(b"Q,"):
            continue
        parts = line.split(b",")
        for i, (conv, raw) in enumerate(zip(convert, parts[1 : 1 + len(names)], strict=True)):
            if conv is float:
                columns[i].append(float(raw) if raw else float("nan"))
            elif conv is int:
                columns[i].append(int(raw) if raw else 0)
            else:
                columns[i].append(raw.decode("latin-1"))
    return pd.DataFrame(dict(zip(names, columns, strict=True)))


def csv_names() -> list[str]:
    return ["type", *FIELDS, "trailing"]


def pandas_csv(data: bytes) -> pd.DataFrame:
    dtypes = {n: "float64" if n in _FLOAT else "int64" if n in _INT else "object" for n in FIELDS}
    return pd.read_csv(
        io.BytesIO(data),
        header=None,
        names=csv_names(),
        dtype={**dtypes, "type": "object"},
        keep_default_na=False,
        na_values={n: [""] for n in _FLOAT},
    )


def polars_csv(data: bytes) -> pl.DataFrame:
    schema_ = {"type": pl.Utf8}
    for n in FIELDS:
        schema_[n] = pl.Float64 if n in _FLOAT else pl.Int64 if n in _INT else pl.Utf8
    schema_["trailing"] = pl.Utf8
    return pl.read_csv(io.BytesIO(data), has_header=False, schema=schema_)


def fstring_lines(frame: pd.DataFrame) -> bytes:
    """The naive formatter: one f-string per row (default layout's fields, for scale)."""
    out = []
    local = frame["timestamp"].dt.tz_localize(None)
    for ts, sym, px, sz, mc, tv, bid, bsz, ask, asz, op, hi, lo, cl, cont, cond in zip(
        local,
        frame["symbol"],
        frame["price"],
        frame["size"],
        frame["market_center"],
        frame["total_volume"],
        frame["bid"],
        frame["bid_size"],
        frame["ask"],
        frame["ask_size"],
        frame["open"],
        frame["high"],
        frame["low"],
        frame["close"],
        frame["contents"],
        frame["conditions"],
        strict=True,
    ):
        out.append(
            f"Q,{sym},{px!r},{sz},{ts:%H:%M:%S.%f},{mc},{tv},{bid!r},{bsz},{ask!r},{asz},"
            f"{op!r},{hi!r},{lo!r},{cl!r},{cont},{cond},\n"
        )
    return "".join(out).encode("latin-1")


def readme_table(results: dict) -> list[str]:
    """The README table of a run: parse and format figures side by side with the peers."""
    rows = results["parse"]
    fmt = results["format"]
    lines = [
        f"Level 1 parse, {results['lines']:,} Q lines ({results['bytes'] / 1e6:.0f} MB, OSS20 fields), "
        f"best of {results['repeat']}, one core; {results['machine']['cpu']}, "
        f"Python {results['machine']['python']}, numba {results['machine']['numba']}, {results['date']}.",
        "",
        "| parser | lines/s | time (s) | ours is x faster | output |",
        "|---|---:|---:|---:|---|",
    ]
    for r in rows:
        speed = f"{r['lines_per_s']:,.0f} | {r['seconds']:.3f} | {r['ours_speedup']:.1f}"
        lines.append(f"| {r['name']} | {speed} | {r['output']} |")
    lines += [
        "",
        "| formatter | lines/s | time (s) | ours is x faster |",
        "|---|---:|---:|---:|",
    ]
    for r in fmt:
        lines.append(
            f"| {r['name']} | {r['lines_per_s']:,.0f} | {r['seconds']:.3f} | {r['ours_speedup']:.1f} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-write", action="store_true", help="print only; leave results and README alone")
    args = ap.parse_args()

    frame = synthetic_updates(args.lines)
    data = P.format_level1("Q", frame, FIELDS)  # also compiles the formatter
    ours(data[: 4 * CHUNK])  # compile the parser kernels
    n = len(frame)

    parse_rows = []
    t_ours, got = best_of(args.repeat, lambda: ours(data))
    pd.testing.assert_frame_equal(got, frame, check_exact=True)  # exact round trip of the whole day
    peers: list[tuple[str, Callable[[bytes], object], str, int]] = [
        (
            "oss20 Level1Parser.feed (numba, 1 MiB chunks)",
            ours,
            "typed LEVEL1 frame, tz-aware timestamps",
            args.repeat,
        ),
        ("per-line Python (split + float/int)", python_lines, "numbers typed, times/dates as text", 1),
        ("pandas.read_csv (C engine)", pandas_csv, "numbers typed, times/dates as text", args.repeat),
        ("polars.read_csv (1 thread)", polars_csv, "numbers typed, times/dates as text", args.repeat),
    ]
    for name, fn, output, repeat in peers:
        seconds = t_ours if fn is ours else best_of(repeat, lambda fn=fn: fn(data))[0]
        parse_rows.append(
            {
                "name": name,
                "seconds": seconds,
                "lines_per_s": n / seconds,
                "ours_speedup": seconds / t_ours,
                "output": output,
                "runs": repeat,
            }
        )
        print(
            f"{name:52s} {n / seconds:>12,.0f} lines/s  {seconds:7.3f} s  x{seconds / t_ours:5.1f}",
            flush=True,
        )

    format_rows = []
    t_one, _ = best_of(args.repeat, lambda: P.format_level1("Q", frame, FIELDS))
    batches = [frame.iloc[i : i + 10_000] for i in range(0, n, 10_000)]
    t_batch, _ = best_of(args.repeat, lambda: [P.format_level1("Q", b, FIELDS) for b in batches])
    sub = frame.iloc[: min(n, 200_000)]
    t_fstr, _ = best_of(1, lambda: fstring_lines(sub))
    t_fstr_scaled = t_fstr * n / len(sub)
    for name, seconds in (
        ("oss20 format_level1, one call", t_one),
        ("oss20 format_level1, 10k-row batches", t_batch),
        (f"per-row f-string loop (default fields; timed on {len(sub):,} rows)", t_fstr_scaled),
    ):
        format_rows.append(
            {"name": name, "seconds": seconds, "lines_per_s": n / seconds, "ours_speedup": seconds / t_one}
        )
        print(f"{name:52s} {n / seconds:>12,.0f} lines/s  {seconds:7.3f} s", flush=True)

    results = {
        "benchmark": "level1_parse",
        "date": now_utc(),
        "lines": n,
        "bytes": len(data),
        "chunk_bytes": CHUNK,
        "fields": list(FIELDS),
        "repeat": args.repeat,
        "parse": parse_rows,
        "format": format_rows,
        "machine": machine(polars=pl.__version__, polars_threads=pl.thread_pool_size()),
        "notes": "best of `repeat` runs (the per-line Python parser and the f-string formatter run once); "
        "numba compile excluded; POLARS_MAX_THREADS=1; pandas is single-threaded.",
    }
    if not args.no_write:
        write_results("parse", results, readme_table(results))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
