"""Level 1 (port 5009): Q/P update lines from frames, and ``Level1Parser`` for the stream back.

Both directions run numba kernels over whole buffers (no per-line Python); prices format as the
shortest decimal that parses back to the same double, so ``parse(format(frame))`` is exact.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from oss20 import schema
from oss20.iqfeed.protocol import _kernels as K
from oss20.iqfeed.protocol._columns import empty, int_range_bad, materialize, utc_ns
from oss20.iqfeed.protocol._layout import Layout
from oss20.iqfeed.protocol._render import render
from oss20.iqfeed.protocol.errors import Malformed
from oss20.iqfeed.protocol.fields import DEFAULT_UPDATE_FIELDS, MAX_LINE, TIME_SOURCES
from oss20.tick_arrays import TickArrays

_MESSAGE_TYPES = frozenset("STnEFNR")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_BASIS = np.array(["", "C", "E", "O"], dtype=object)
_STOP = np.frombuffer(b"S,CURRENT UPDATE FIELDNAMES", np.uint8)


class Level1Batch:
    """What one ``Level1Parser.feed`` produced, each part in stream order.

    Updates (Q) and summaries (P) are held as ``schema.LEVEL1_COLUMNS`` arrays with timestamps as
    epoch ns (UTC); their DataFrames are built on first use, so a reader that only needs the
    trades' columns (the collector) never pays for a frame.
    """

    def __init__(
        self,
        update_columns: dict[str, np.ndarray],
        summary_columns: dict[str, np.ndarray],
        messages: list[tuple[str, ...]],
        malformed: list[Malformed],
    ) -> None:
        self.update_columns = update_columns
        self.summary_columns = summary_columns
        self.messages = messages
        self.malformed = malformed
        self.received_ns = 0  # when the bytes were read (epoch ns), set by the reader that has a clock

    @property
    def n_updates(self) -> int:
        return len(self.update_columns["timestamp"])

    @property
    def n_summaries(self) -> int:
        return len(self.summary_columns["timestamp"])

    @functools.cached_property
    def updates(self) -> pd.DataFrame:
        return _level1_frame(self.update_columns)

    @functools.cached_property
    def summaries(self) -> pd.DataFrame:
        return _level1_frame(self.summary_columns)

    @functools.cached_property
    def trade_arrays(self) -> TickArrays:
        """Updates that report a trade (contents hold C, E or O), as ``TickArrays``."""
        cols = self.update_columns
        mask = cols["basis"] != ""
        every = bool(mask.all())
        return TickArrays({name: cols[name] if every else cols[name][mask] for name in schema.TICK_COLUMNS})

    def trades(self) -> pd.DataFrame:
        """The trade updates as a ``schema.TICK_COLUMNS`` frame."""
        return self.trade_arrays.frame()


def _level1_frame(columns: dict[str, np.ndarray]) -> pd.DataFrame:
    if len(columns["timestamp"]) == 0:
        return empty(schema.LEVEL1_COLUMNS)
    stamps = schema.timestamps(columns["timestamp"])
    data = {name: stamps if name == "timestamp" else columns[name] for name in schema.LEVEL1_COLUMNS}
    return pd.DataFrame(data, copy=False)


# ----------------------------------------------------------------------------------------------
# formatting (simulator side)

_L1_FORMAT: dict[str, tuple[int, str]] = {
    "Symbol": (K.F_STR, "symbol"),
    "Most Recent Trade": (K.F_PRICE, "price"),
    "Most Recent Trade Size": (K.F_INT, "size"),
    "Most Recent Trade Time": (K.F_TIME, "timestamp"),
    "Most Recent Trade Date": (K.F_DATE_MDY, "timestamp"),
    "Most Recent Trade Market Center": (K.F_INT, "market_center"),
    "Most Recent Trade Conditions": (K.F_STR, "conditions"),
    "Most Recent Trade Aggressor": (K.F_INT, "aggressor"),
    "Total Volume": (K.F_INT, "total_volume"),
    "Bid": (K.F_PRICE, "bid"),
    "Bid Size": (K.F_INT, "bid_size"),
    "Bid Time": (K.F_TIME, "timestamp"),
    "Ask": (K.F_PRICE, "ask"),
    "Ask Size": (K.F_INT, "ask_size"),
    "Ask Time": (K.F_TIME, "timestamp"),
    "Open": (K.F_PRICE, "open"),
    "High": (K.F_PRICE, "high"),
    "Low": (K.F_PRICE, "low"),
    "Close": (K.F_PRICE, "close"),
    "Message Contents": (K.F_STR, "contents"),
    "TickID": (K.F_INT, "tick_id"),
}


def _normalize_fields(fields: Sequence[str]) -> tuple[str, ...]:
    """The field layout with Symbol first (moved there or inserted, as IQFeed does)."""
    out = [f for f in fields if f != "Symbol"]
    return ("Symbol", *out)


def format_level1(kind: str, frame: pd.DataFrame, fields: Sequence[str]) -> bytes:
    """Q (update) or P (summary) lines, one per row of a ``schema.LEVEL1_COLUMNS`` frame.

    ``fields`` is the connection's layout (Symbol first; inserted if missing). Times come from
    ``timestamp`` unless the frame also has ``trade_timestamp``/``bid_timestamp``/``ask_timestamp``
    (see TIME_SOURCES). Fields without a column are empty unless the frame has a column named like
    the IQFeed field (its values are sent as text). Example line for the default layout::

        Q,AAPL,234.05,100,09:30:00.123456,5,1200,234.04,300,234.06,200,233.1,234.5,232.9,233.5,Cba,3D,
    """
    if kind not in ("Q", "P"):
        raise ValueError(f"Level 1 line kind must be 'Q' or 'P', not {kind!r}")
    spec: list[tuple[int, str | None]] = []
    for name in _normalize_fields(fields):
        if name in _L1_FORMAT:
            fk, src = _L1_FORMAT[name]
            if name in TIME_SOURCES and TIME_SOURCES[name] in frame.columns:
                src = TIME_SOURCES[name]
            spec.append((fk, src))
        elif name in frame.columns:
            spec.append((K.F_STR, name))
        else:
            spec.append((K.F_EMPTY, None))
    return render(frame, spec, kind.encode() + b",", b",\n")


# ----------------------------------------------------------------------------------------------
# parsing (client side)

# Level 1 slots: float columns, int columns (then times/dates), string columns.
_L1_FLOATS = ("price", "bid", "ask", "open", "high", "low", "close")
_L1_INTS = ("tick_id", "market_center", "size", "total_volume", "aggressor", "bid_size", "ask_size")
_L1_STRS = ("symbol", "contents", "conditions")
_L1_IDEF = np.array([0] * 7 + [K.NAT] * 4, np.int64)
_L1_PARSE: dict[str, tuple[int, int]] = {
    "Symbol": (K.K_SYMBOL, 0),
    "Most Recent Trade": (K.K_PRICE, 0),
    "Bid": (K.K_PRICE, 1),
    "Ask": (K.K_PRICE, 2),
    "Open": (K.K_PRICE, 3),
    "High": (K.K_PRICE, 4),
    "Low": (K.K_PRICE, 5),
    "Close": (K.K_PRICE, 6),
    "TickID": (K.K_INT, 0),
    "Most Recent Trade Market Center": (K.K_INT, 1),
    "Most Recent Trade Size": (K.K_INT, 2),
    "Total Volume": (K.K_INT, 3),
    "Most Recent Trade Aggressor": (K.K_INT, 4),
    "Bid Size": (K.K_INT, 5),
    "Ask Size": (K.K_INT, 6),
    "Most Recent Trade Time": (K.K_TIME, K.L1_TRADE_TIME),
    "Bid Time": (K.K_TIME, K.L1_BID_TIME),
    "Ask Time": (K.K_TIME, K.L1_ASK_TIME),
    "Most Recent Trade Date": (K.K_DATE_MDY, K.L1_TRADE_DATE),
    "Message Contents": (K.K_LETTERS, K.L1_CONTENTS),
    "Most Recent Trade Conditions": (K.K_HEX, 2),
}


_ROW_BYTES = 64  # output arrays start at one row per 64 bytes of input and grow when lines are shorter


class _Outputs(NamedTuple):
    """The output arrays of ``K.scan_level1``, in its argument order: rows, other lines, bad lines."""

    fout: np.ndarray
    iout: np.ndarray
    sst: np.ndarray
    sln: np.ndarray
    row_kind: np.ndarray
    row_ts: np.ndarray
    row_basis: np.ndarray
    row_slow: np.ndarray
    row_start: np.ndarray
    row_end: np.ndarray
    oth_start: np.ndarray
    oth_end: np.ndarray
    bad_start: np.ndarray
    bad_end: np.ndarray
    bad_code: np.ndarray
    bad_field: np.ndarray

    @classmethod
    def empty(cls, cap: int) -> _Outputs:
        """Room for ``cap`` rows, other lines and bad lines each."""
        rows, strs = (len(_L1_FLOATS), cap), (len(_L1_STRS), cap)
        return cls(
            fout=np.empty(rows, np.float64),
            iout=np.empty((_L1_IDEF.size, cap), np.int64),
            sst=np.empty(strs, np.int64),
            sln=np.empty(strs, np.int64),
            row_kind=np.empty(cap, np.uint8),
            row_ts=np.empty(cap, np.int64),
            row_basis=np.empty(cap, np.int64),
            row_slow=np.empty(cap, np.bool_),
            row_start=np.empty(cap, np.int64),
            row_end=np.empty(cap, np.int64),
            oth_start=np.empty(cap, np.int64),
            oth_end=np.empty(cap, np.int64),
            bad_start=np.empty(cap, np.int64),
            bad_end=np.empty(cap, np.int64),
            bad_code=np.empty(cap, np.int64),
            bad_field=np.empty(cap, np.int64),
        )

    def grown(self) -> _Outputs:
        """Twice the room, contents kept."""
        arrays = []
        for a in self:
            b = np.empty((*a.shape[:-1], 2 * a.shape[-1]), a.dtype)
            b[..., : a.shape[-1]] = a
            arrays.append(b)
        return _Outputs(*arrays)


class Level1Parser:
    """Stateful only in what the stream itself sets: the selected field layout, the session date
    from T messages, and a partial trailing line.

    ``feed`` takes any chunk of bytes from the Level 1 socket and returns the complete lines in it
    as a ``Level1Batch``; a line split across chunks is kept until its end arrives. The layout
    follows ``S,CURRENT UPDATE FIELDNAMES`` and the session date follows ``T,CCYYMMDD HH:MM:SS``.
    Update timestamps: trade updates (contents with C, E or O) use trade date (or the session
    date) + trade time; other updates use the session date (else the trade date) + the later of
    bid and ask time, or the last T time when the layout has neither.
    """

    def __init__(self, fields: Sequence[str] = DEFAULT_UPDATE_FIELDS, *, session_date: Any = None) -> None:
        self._rest = b""
        self._session_day = K.NAT
        self._session_ns = K.NAT
        if session_date is not None:
            d = pd.Timestamp(session_date)
            self._session_day = int(K.days_from_civil(d.year, d.month, d.day))
        self._layout = Layout.build(_normalize_fields(fields), _L1_PARSE)

    @property
    def fields(self) -> tuple[str, ...]:
        """The current field layout (Symbol first)."""
        return self._layout.names

    @property
    def session_date(self) -> dt.date | None:
        """The date of the last T message (or the constructor's), None before any."""
        if self._session_day == K.NAT:
            return None
        y, m, d = K.civil_from_days(self._session_day)
        return dt.date(y, m, d)

    def set_fields(self, fields: Sequence[str]) -> None:
        """Switch to a new field layout (as after ``S,CURRENT UPDATE FIELDNAMES``)."""
        self._layout = Layout.build(_normalize_fields(fields), _L1_PARSE)

    def feed(self, chunk: bytes) -> Level1Batch:
        """Parse every complete line in the buffered bytes plus ``chunk``."""
        data = self._rest + bytes(chunk) if self._rest else bytes(chunk)
        cut = data.rfind(b"\n") + 1
        self._rest = data[cut:]
        early: list[tuple[int, Malformed]] = []
        if len(self._rest) > MAX_LINE:
            early.append(
                (cut, Malformed(self._rest, f"line too long (over {MAX_LINE} bytes without a line end)"))
            )
            self._rest = b""
        return self._parse(data, cut, early)

    def flush(self) -> Level1Batch:
        """Parse a final line that never got its line end (e.g. at end of stream)."""
        data, self._rest = self._rest, b""
        return self._parse(data, len(data), [])

    def _parse(self, data: bytes, end: int, early: list[tuple[int, Malformed]]) -> Level1Batch:
        buf = np.frombuffer(data, np.uint8)
        out = _Outputs.empty(end // _ROW_BYTES + 16)
        pos = nrow = noth = nbad = 0
        segments: list[tuple[int, int, Layout]] = []  # (first row, first bad, layout)
        messages: list[tuple[str, ...]] = []
        bad: list[tuple[int, Malformed]] = list(early)
        status = K.SCAN_LAYOUT
        while True:
            layout = self._layout
            if status == K.SCAN_LAYOUT:
                segments.append((nrow, nbad, layout))
            first_other = noth
            pos, nrow, noth, nbad, self._session_day, self._session_ns, status = K.scan_level1(
                buf,
                pos,
                end,
                layout.kinds,
                layout.cols,
                _L1_IDEF,
                _STOP,
                self._session_day,
                self._session_ns,
                nrow,
                noth,
                nbad,
                *out,
            )
            for i in range(first_other, noth):
                ms, me = int(out.oth_start[i]), int(out.oth_end[i])
                self._message(data[ms:me], ms, messages, bad)
            if status == K.SCAN_DONE:
                break
            if status == K.SCAN_FULL:
                out = out.grown()
            elif messages and messages[-1][:2] == ("S", "CURRENT UPDATE FIELDNAMES"):
                self.set_fields(messages[-1][2:])
        fout, iout, sst, sln, row_kind, row_ts, row_basis, row_slow, row_start, row_end = out[:10]
        bad_start, bad_end, bad_code, bad_field = out.bad_start, out.bad_end, out.bad_code, out.bad_field
        starts = [s[0] for s in segments]
        bad_firsts = [s[1] for s in segments]
        for i in range(nbad):
            layout = segments[bisect.bisect_right(bad_firsts, i) - 1][2]
            line = data[bad_start[i] : bad_end[i]]
            bad.append(
                (
                    int(bad_start[i]),
                    Malformed(line, layout.reason(int(bad_code[i]), int(bad_field[i]), line, 1)),
                )
            )
        for r in np.flatnonzero(row_slow[:nrow]).tolist():
            layout = segments[bisect.bisect_right(starts, r) - 1][2]
            layout.fix_slow(fout, r, data[row_start[r] : row_end[r]].split(b",")[1:])
        keep = None
        for slot, name in ((1, "market_center"), (4, "aggressor")):
            out_of_range = int_range_bad(iout[slot, :nrow], schema.LEVEL1_COLUMNS[name])
            if out_of_range.any():
                for r in np.flatnonzero(out_of_range).tolist():
                    line = data[row_start[r] : row_end[r]]
                    bad.append((int(row_start[r]), Malformed(line, f"{name} {iout[slot, r]} out of range")))
                keep = ~out_of_range if keep is None else keep & ~out_of_range
        bad.sort(key=lambda item: item[0])
        columns = self._columns(data, buf, nrow, fout, iout, sst, sln, row_ts, row_basis)
        kinds = row_kind[:nrow]
        if keep is not None:
            columns = {name: values[keep] for name, values in columns.items()}
            kinds = kinds[keep]
        is_q = kinds == ord("Q")
        if is_q.all():
            updates, summaries = columns, _EMPTY_COLUMNS
        elif not is_q.any():
            updates, summaries = _EMPTY_COLUMNS, columns
        else:
            updates = {name: values[is_q] for name, values in columns.items()}
            summaries = {name: values[~is_q] for name, values in columns.items()}
        return Level1Batch(updates, summaries, messages, [m for _, m in bad])

    @staticmethod
    def _message(raw: bytes, start: int, messages: list, bad: list) -> None:
        """A non-Q/P line: split into fields, or malformed when it is not a known message."""
        if _CONTROL.search(raw):
            bad.append((start, Malformed(raw, "control characters in line")))
            return
        fields = raw.decode("latin-1").split(",")
        kind = fields[0]
        if kind not in _MESSAGE_TYPES or (kind == "T" and len(fields) < 2):
            bad.append((start, Malformed(raw, f"unknown message type {kind[:16]!r}")))
            return
        if len(fields) > 2 and fields[-1] == "":
            fields.pop()
        messages.append(tuple(fields))

    @staticmethod
    def _columns(data, buf, n, fout, iout, sst, sln, row_ts, row_basis) -> dict[str, np.ndarray]:
        if n == 0:
            return _EMPTY_COLUMNS
        cols: dict[str, np.ndarray] = {}
        for i, name in enumerate(_L1_FLOATS):
            cols[name] = fout[i, :n]
        for i, name in enumerate(_L1_INTS):
            cols[name] = iout[i, :n].astype(schema.LEVEL1_COLUMNS[name], copy=False)
        for i, name in enumerate(_L1_STRS):
            cols[name] = materialize(data, buf, sst[i, :n], sln[i, :n])
        cols["basis"] = _BASIS[row_basis[:n]]
        cols["timestamp"] = utc_ns(row_ts[:n])
        return {name: cols[name] for name in schema.LEVEL1_COLUMNS}


_EMPTY_COLUMNS: dict[str, np.ndarray] = {
    name: np.empty(0, np.int64 if name == "timestamp" else dtype)
    for name, dtype in schema.LEVEL1_COLUMNS.items()
}
