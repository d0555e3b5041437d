"""History data lines (port 9100): format ticks, interval bars and daily bars (simulator), and
parse replies back into frames (client), with numba kernels over whole buffers.

Replies carry the columns of ``schema.TICK_COLUMNS``, ``schema.INTERVAL_BAR_COLUMNS`` and
``schema.DAILY_COLUMNS``; the end and error lines and per-request splitting live in ``framing``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oss20 import schema
from oss20.iqfeed.protocol import _kernels as K
from oss20.iqfeed.protocol._columns import int_range_bad, localize, materialize
from oss20.iqfeed.protocol._layout import Layout
from oss20.iqfeed.protocol._render import render
from oss20.iqfeed.protocol.errors import Malformed
from oss20.iqfeed.protocol.fields import ENDMSG
from oss20.iqfeed.protocol.framing import request_prefix
from oss20.schema import DAILY_COLUMNS, INTERVAL_BAR_COLUMNS

_PAT_E = np.frombuffer(b"E", np.uint8)
_PAT_END = np.frombuffer(ENDMSG.encode(), np.uint8)
_PAT_LH = np.frombuffer(b"LH", np.uint8)


@dataclass
class HistoryReply:
    """A parsed history reply: rows, the error text if the server sent one, whether it ended.

    ``markers`` counts the error and end lines, so rows + malformed + markers = lines read.
    """

    frame: pd.DataFrame
    error: str | None
    complete: bool
    malformed: list[Malformed]
    markers: int = 0


# ----------------------------------------------------------------------------------------------
# formatting (simulator side)


def _is_62(protocol: str) -> bool:
    """True when ``protocol`` (e.g. "6.2") has the 6.2 history format (LH, aggressor, day code)."""
    try:
        major, minor = (int(p) for p in protocol.split(".")[:2])
    except ValueError:
        raise ValueError(f"protocol must look like '6.1' or '6.2', not {protocol!r}") from None
    return (major, minor) >= (6, 2)


def _line_prefix(request_id: str, protocol: str) -> bytes:
    """What precedes the data on every history line: ``RID,``, then ``LH,`` under protocol 6.2."""
    return request_prefix(request_id) + (b"LH," if _is_62(protocol) else b"")


_TICK_SPEC: list[tuple[int, str | None]] = [
    (K.F_DATETIME_US, "timestamp"),
    (K.F_PRICE, "price"),
    (K.F_INT, "size"),
    (K.F_INT, "total_volume"),
    (K.F_PRICE, "bid"),
    (K.F_PRICE, "ask"),
    (K.F_INT, "tick_id"),
    (K.F_STR, "basis"),
    (K.F_INT, "market_center"),
    (K.F_STR, "conditions"),
]
_TICK_SPEC_62 = [*_TICK_SPEC, (K.F_INT, "aggressor"), (K.F_DAY, "timestamp")]


def format_tick_history(request_id: str, ticks: pd.DataFrame, protocol: str) -> bytes:
    """Tick history data lines (HTX/HTD/HTT) for a ``schema.TICK_COLUMNS`` frame; no end line.

    ``RID,[LH,]CCYY-MM-DD HH:MM:SS.ffffff,Last,LastSize,TotalVolume,Bid,Ask,TickID,Basis,
    MarketCenter,Conditions,[Aggressor,DayCode,]`` with the bracketed parts under protocol >= 6.2
    (DayCode = day of month). Follow with ``format_end``. A NaN price is sent empty, which our
    parser reads back but pyiqfeed cannot: keep history prices finite for third-party clients.
    """
    spec = _TICK_SPEC_62 if _is_62(protocol) else _TICK_SPEC
    return render(ticks, spec, _line_prefix(request_id, protocol), b",\n")


def format_interval_bars(request_id: str, bars: pd.DataFrame, protocol: str) -> bytes:
    """Interval bar data lines: ``RID,[LH,]CCYY-MM-DD HH:MM:SS,High,Low,Open,Close,TotalVolume,
    PeriodVolume,NumberOfTrades,`` (note High, Low before Open, Close); no end line."""
    spec: list[tuple[int, str | None]] = [
        (K.F_DATETIME_S, "timestamp"),
        (K.F_PRICE, "high"),
        (K.F_PRICE, "low"),
        (K.F_PRICE, "open"),
        (K.F_PRICE, "close"),
        (K.F_INT, "total_volume"),
        (K.F_INT, "volume"),
        (K.F_INT, "trades"),
    ]
    return render(bars, spec, _line_prefix(request_id, protocol), b",\n")


def format_daily(request_id: str, daily: pd.DataFrame, protocol: str) -> bytes:
    """Daily/weekly/monthly data lines: ``RID,[LH,]CCYY-MM-DD,High,Low,Open,Close,PeriodVolume,
    OpenInterest,``; no end line."""
    spec: list[tuple[int, str | None]] = [
        (K.F_DATE_ISO, "date"),
        (K.F_PRICE, "high"),
        (K.F_PRICE, "low"),
        (K.F_PRICE, "open"),
        (K.F_PRICE, "close"),
        (K.F_INT, "volume"),
        (K.F_INT, "open_interest"),
    ]
    return render(daily, spec, _line_prefix(request_id, protocol), b",\n")


# ----------------------------------------------------------------------------------------------
# parsing (client side)


@dataclass(frozen=True)
class _HistoryKind:
    """How to read one kind of history reply: layout, slot names, frame builder."""

    layout: Layout
    floats: tuple[str, ...]
    ints: tuple[str, ...]
    strs: tuple[str, ...]
    idef: np.ndarray
    build: Callable[[dict[str, Any], str, int], pd.DataFrame]


def _build_ticks(c: dict[str, Any], symbol: str, n: int) -> pd.DataFrame:
    c["timestamp"] = localize(c.pop("local"))
    c["symbol"] = np.full(n, symbol, dtype=object)
    return pd.DataFrame(
        {
            k: np.asarray(c[k]).astype(v, copy=False) if k != "timestamp" else c[k]
            for k, v in schema.TICK_COLUMNS.items()
        },
        copy=False,
    )


def _build_bars(c: dict[str, Any], symbol: str, n: int) -> pd.DataFrame:
    c["timestamp"] = localize(c.pop("local"))
    c["symbol"] = np.full(n, symbol, dtype=object)
    return pd.DataFrame(
        {
            k: np.asarray(c[k]).astype(v, copy=False) if k != "timestamp" else c[k]
            for k, v in INTERVAL_BAR_COLUMNS.items()
        },
        copy=False,
    )


def _build_daily(c: dict[str, Any], symbol: str, n: int) -> pd.DataFrame:
    c["date"] = (c.pop("local") * K.DAY_NS).view("M8[ns]")
    c["symbol"] = np.full(n, symbol, dtype=object)
    return pd.DataFrame(
        {k: np.asarray(c[k]).astype(v, copy=False) for k, v in DAILY_COLUMNS.items()}, copy=False
    )


_TICKS = _HistoryKind(
    Layout.build(
        (
            "Timestamp",
            "Last",
            "LastSize",
            "TotalVolume",
            "Bid",
            "Ask",
            "TickID",
            "BasisForLast",
            "TradeMarketCenter",
            "TradeConditions",
            "TradeAggressor",
            "DayCode",
        ),
        {
            "Timestamp": (K.K_DATETIME, 0),
            "Last": (K.K_PRICE, 0),
            "LastSize": (K.K_INT, 1),
            "TotalVolume": (K.K_INT, 2),
            "Bid": (K.K_PRICE, 1),
            "Ask": (K.K_PRICE, 2),
            "TickID": (K.K_INT, 3),
            "BasisForLast": (K.K_LETTERS, 0),
            "TradeMarketCenter": (K.K_INT, 4),
            "TradeConditions": (K.K_HEX, 1),
            "TradeAggressor": (K.K_INT, 5),
        },
        nmin=10,
    ),
    ("price", "bid", "ask"),
    ("local", "size", "total_volume", "tick_id", "market_center", "aggressor"),
    ("basis", "conditions"),
    np.array([K.NAT, 0, 0, 0, 0, 0], np.int64),
    _build_ticks,
)
_BARS = _HistoryKind(
    Layout.build(
        ("Timestamp", "High", "Low", "Open", "Close", "TotalVolume", "PeriodVolume", "NumberOfTrades"),
        {
            "Timestamp": (K.K_DATETIME, 0),
            "High": (K.K_PRICE, 1),
            "Low": (K.K_PRICE, 2),
            "Open": (K.K_PRICE, 0),
            "Close": (K.K_PRICE, 3),
            "TotalVolume": (K.K_INT, 1),
            "PeriodVolume": (K.K_INT, 2),
            "NumberOfTrades": (K.K_INT, 3),
        },
    ),
    ("open", "high", "low", "close"),
    ("local", "total_volume", "volume", "trades"),
    (),
    np.array([K.NAT, 0, 0, 0], np.int64),
    _build_bars,
)
_DAILY = _HistoryKind(
    Layout.build(
        ("Date", "High", "Low", "Open", "Close", "PeriodVolume", "OpenInterest"),
        {
            "Date": (K.K_DATE_ISO, 0),
            "High": (K.K_PRICE, 1),
            "Low": (K.K_PRICE, 2),
            "Open": (K.K_PRICE, 0),
            "Close": (K.K_PRICE, 3),
            "PeriodVolume": (K.K_INT, 1),
            "OpenInterest": (K.K_INT, 2),
        },
    ),
    ("open", "high", "low", "close"),
    ("local", "volume", "open_interest"),
    (),
    np.array([K.NAT, 0, 0], np.int64),
    _build_daily,
)


def _header_fields(parts: list[bytes]) -> int:
    """How many fields (RequestID, LH) precede the data in a history line split on commas."""
    first = parts[0]
    if len(first) >= 10 and first[4:5] == b"-" and first[7:8] == b"-" and first[:4].isdigit():
        return 0
    return 2 if len(parts) > 1 and parts[1] == b"LH" else 1


def _parse_history(data: bytes, symbol: str, kind: _HistoryKind) -> HistoryReply:
    data = bytes(data)
    buf = np.frombuffer(data, np.uint8)
    cap = data.count(b"\n") + 1
    layout = kind.layout
    fout = np.empty((max(len(kind.floats), 1), cap), np.float64)
    iout = np.empty((len(kind.ints), cap), np.int64)
    sst = np.empty((max(len(kind.strs), 1), cap), np.int64)
    sln = np.empty_like(sst)
    row_slow = np.empty(cap, np.bool_)
    row_start = np.empty(cap, np.int64)
    row_end = np.empty(cap, np.int64)
    oth_start = np.empty(cap, np.int64)
    oth_end = np.empty(cap, np.int64)
    oth_kind = np.empty(cap, np.int64)
    bad_start = np.empty(cap, np.int64)
    bad_end = np.empty(cap, np.int64)
    bad_code = np.empty(cap, np.int64)
    bad_field = np.empty(cap, np.int64)
    n, noth, nbad = K.scan_history(
        buf,
        len(data),
        layout.kinds,
        layout.cols,
        layout.nmin,
        kind.idef,
        _PAT_E,
        _PAT_END,
        _PAT_LH,
        fout,
        iout,
        sst,
        sln,
        row_slow,
        row_start,
        row_end,
        oth_start,
        oth_end,
        oth_kind,
        bad_start,
        bad_end,
        bad_code,
        bad_field,
    )
    error: str | None = None
    complete = False
    for i in range(noth):
        if oth_kind[i] == 2:
            complete = True
        elif error is None:
            words = data[oth_start[i] : oth_end[i]].decode("latin-1").split(",")
            text = words[words.index("E") + 1 :]
            if text and text[-1] == "":
                text.pop()
            error = ",".join(text) or "Unknown Error"
    bad: list[tuple[int, Malformed]] = []
    for i in range(nbad):
        line = data[bad_start[i] : bad_end[i]]
        parts = line.split(b",")
        skip = _header_fields(parts) if parts else 0
        bad.append(
            (
                int(bad_start[i]),
                Malformed(line, layout.reason(int(bad_code[i]), int(bad_field[i]), line, skip)),
            )
        )
    for r in np.flatnonzero(row_slow[:n]).tolist():
        parts = data[row_start[r] : row_end[r]].split(b",")
        layout.fix_slow(fout, r, parts[_header_fields(parts) :])
    cols: dict[str, Any] = {name: fout[i, :n] for i, name in enumerate(kind.floats)}
    cols.update({name: iout[i, :n] for i, name in enumerate(kind.ints)})
    cols.update({name: materialize(data, buf, sst[i, :n], sln[i, :n]) for i, name in enumerate(kind.strs)})
    keep = np.ones(n, bool)
    for name in ("market_center", "aggressor"):
        if name in cols:
            out_of_range = int_range_bad(cols[name], schema.TICK_COLUMNS[name])
            for r in np.flatnonzero(out_of_range).tolist():
                line = data[row_start[r] : row_end[r]]
                bad.append((int(row_start[r]), Malformed(line, f"{name} {cols[name][r]} out of range")))
            keep &= ~out_of_range
    if not keep.all():
        cols = {k: v[keep] for k, v in cols.items()}
        n = int(keep.sum())
    bad.sort(key=lambda item: item[0])
    return HistoryReply(kind.build(cols, symbol, n), error, complete, [m for _, m in bad], int(noth))


def parse_tick_history(data: bytes, symbol: str) -> HistoryReply:
    """A tick history reply (HTX/HTD/HTT) -> ``schema.TICK_COLUMNS`` rows in received order.

    Accepts lines with or without RequestID and LH, with or without the 6.2 aggressor and day
    code, with or without a trailing comma; never raises on bad lines (see ``malformed``).
    """
    return _parse_history(data, symbol, _TICKS)


def parse_interval_bars(data: bytes, symbol: str) -> HistoryReply:
    """An interval bar reply (HIX/HID/HIT) -> ``INTERVAL_BAR_COLUMNS`` rows."""
    return _parse_history(data, symbol, _BARS)


def parse_daily(data: bytes, symbol: str) -> HistoryReply:
    """A daily/weekly/monthly reply (HDX/HDT/HWX/HMX) -> ``DAILY_COLUMNS`` rows."""
    return _parse_history(data, symbol, _DAILY)
