"""The IQFeed wire protocol as pure functions: format what IQConnect sends, parse what it sends back.

The simulator formats with the ``format_*`` functions and parses client commands with
``parse_command``/``parse_history_request``; the client builds commands with ``cmd_*`` and parses
the streams with ``Level1Parser`` and ``parse_tick_history``/``parse_interval_bars``/``parse_daily``.
No sockets, no asyncio, no I/O. The wire format is ../shared/IQFEED_PROTOCOL.md; frames carry the
columns of ``oss20.schema``.

Hot paths (Level 1 parsing, history parsing, Level 1/history formatting) run numba kernels over
whole buffers (``_kernels.py``): no per-line Python. Prices parse as integer mantissa / 10**k
(correctly rounded) and format as the shortest decimal that reads back to the same double, so
``parse(format(frame))`` reproduces every value and dtype exactly.

Command scheme (``parse_command``): ``w/t/r/f<SYM>`` -> ``Command("w", ("SYM",))``; ``T`` ->
``Command("T", ())``; ``S,NAME,a,b`` -> ``Command("S,NAME", ("a", "b"))`` (NAME upper-cased);
lookup requests ``HTX,a,b`` -> ``Command("HTX", ("a", "b"))``, empty fields kept.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from oss20 import schema
from oss20.iqfeed import _kernels as K

# ----------------------------------------------------------------------------------------------
# constants

LEVEL1_PORT, LOOKUP_PORT, ADMIN_PORT = 5009, 9100, 9300
LEVEL2_PORT, DERIVATIVE_PORT = 9200, 9400
ENDMSG = "!ENDMSG!"
NO_DATA = "!NO_DATA!"
INVALID_SYMBOL = "Invalid symbol."
SYNTAX_ERROR = "!SYNTAX_ERROR!"
THROTTLED = "Too many simultaneous history requests."
PROTOCOL_VERSIONS = ("6.0", "6.1", "6.2")
DEFAULT_PER_SEND = 500
MAX_LINE = 1 << 20
"""A partial line longer than this (bytes) is dropped as malformed rather than buffered forever."""

ALL_UPDATE_FIELDS: tuple[str, ...] = (
    "Symbol",
    "Most Recent Trade",
    "Most Recent Trade Size",
    "Most Recent Trade Time",
    "Most Recent Trade Date",
    "Most Recent Trade Market Center",
    "Most Recent Trade Conditions",
    "Most Recent Trade Aggressor",
    "Most Recent Trade Day Code",
    "Total Volume",
    "Bid",
    "Bid Size",
    "Bid Time",
    "Bid Market Center",
    "Ask",
    "Ask Size",
    "Ask Time",
    "Ask Market Center",
    "Open",
    "High",
    "Low",
    "Close",
    "Message Contents",
    "TickID",
    "Decimal Precision",
    "Delay",
    "Exchange ID",
    "7 Day Yield",
    "Ask Change",
    "Available Regions",
    "Average Maturity",
    "Bid Change",
    "Change",
    "Change From Open",
    "Close Range 1",
    "Close Range 2",
    "Days to Expiration",
    "Extended Trade",
    "Extended Trade Date",
    "Extended Trade Market Center",
    "Extended Trade Size",
    "Extended Trade Time",
    "Extended Trading Change",
    "Extended Trading Difference",
    "Financial Status Indicator",
    "Fraction Display Code",
    "Last",
    "Last Date",
    "Last Market Center",
    "Last Size",
    "Last Time",
    "Market Capitalization",
    "Market Open",
    "Net Asset Value",
    "Number of Trades Today",
    "Open Interest",
    "Open Range 1",
    "Open Range 2",
    "Percent Change",
    "Percent Off Average Volume",
    "Previous Day Volume",
    "Price-Earnings Ratio",
    "Range",
    "Restricted Code",
    "Settle",
    "Settlement Date",
    "Spread",
    "Tick",
    "Volatility",
    "VWAP",
)
"""Every Level 1 field name (IQFeed spelling): the set pyiqfeed checks ``S,UPDATE FIELDNAMES`` against."""

DEFAULT_UPDATE_FIELDS: tuple[str, ...] = (
    "Symbol",
    "Most Recent Trade",
    "Most Recent Trade Size",
    "Most Recent Trade Time",
    "Most Recent Trade Market Center",
    "Total Volume",
    "Bid",
    "Bid Size",
    "Ask",
    "Ask Size",
    "Open",
    "High",
    "Low",
    "Close",
    "Message Contents",
    "Most Recent Trade Conditions",
)
"""Protocol 6.1's default update fields, in order."""

OSS20_UPDATE_FIELDS: tuple[str, ...] = (
    *DEFAULT_UPDATE_FIELDS,
    "Most Recent Trade Date",
    "TickID",
    "Most Recent Trade Aggressor",
    "Bid Time",
    "Ask Time",
)
"""What our client selects: every LEVEL1_COLUMNS value plus the times that date quote updates."""

FUNDAMENTAL_FIELDS: tuple[str, ...] = (
    "Symbol",
    "Exchange ID",
    "PE",
    "Average Volume",
    "52 Week High",
    "52 Week Low",
    "Calendar Year High",
    "Calendar Year Low",
    "Dividend Yield",
    "Dividend Amount",
    "Dividend Rate",
    "Pay Date",
    "Ex-dividend Date",
    "Current Year EPS",
    "Next Year EPS",
    "Five-year Growth Percentage",
    "Fiscal Year End",
    "Company Name",
    "Root Option Symbol",
    "Percent Held By Institutions",
    "Beta",
    "Leaps",
    "Current Assets",
    "Current Liabilities",
    "Balance Sheet Date",
    "Long-term Debt",
    "Common Shares Outstanding",
    "Split Factor 1",
    "Split Factor 2",
    "Format Code",
    "Precision",
    "SIC",
    "Historical Volatility",
    "Security Type",
    "Listed Market",
    "52 Week High Date",
    "52 Week Low Date",
    "Calendar Year High Date",
    "Calendar Year Low Date",
    "Year End Close",
    "Maturity Date",
    "Coupon Rate",
    "Expiration Date",
    "Strike Price",
    "NAICS",
    "Exchange Root",
    "Option Premium Multiplier",
    "Option Multiple Deliverable",
    "Session Open Time",
    "Session Close Time",
    "Base Currency",
    "Contract Size",
    "Contract Months",
    "Minimum Tick Size",
    "First Delivery Date",
    "FIGI",
    "Security SubType",
)
"""Fundamental (F) message fields in wire order; pyiqfeed reads F lines by position in this order."""

FIELD_COLUMNS: dict[str, str] = {
    "Symbol": "symbol",
    "Most Recent Trade": "price",
    "Most Recent Trade Size": "size",
    "Most Recent Trade Time": "timestamp",
    "Most Recent Trade Date": "timestamp",
    "Most Recent Trade Market Center": "market_center",
    "Most Recent Trade Conditions": "conditions",
    "Most Recent Trade Aggressor": "aggressor",
    "Total Volume": "total_volume",
    "Bid": "bid",
    "Bid Size": "bid_size",
    "Bid Time": "timestamp",
    "Ask": "ask",
    "Ask Size": "ask_size",
    "Ask Time": "timestamp",
    "Open": "open",
    "High": "high",
    "Low": "low",
    "Close": "close",
    "Message Contents": "contents",
    "TickID": "tick_id",
}
"""IQFeed Level 1 field -> the ``schema.LEVEL1_COLUMNS`` column it carries (times feed ``timestamp``)."""

TIME_SOURCES: dict[str, str] = {
    "Most Recent Trade Time": "trade_timestamp",
    "Most Recent Trade Date": "trade_timestamp",
    "Bid Time": "bid_timestamp",
    "Ask Time": "ask_timestamp",
}
"""Optional frame columns ``format_level1`` reads these fields from (else ``timestamp``)."""

INTERVAL_BAR_COLUMNS: dict[str, object] = {
    "timestamp": schema.BAR_COLUMNS["timestamp"],
    "symbol": schema.BAR_COLUMNS["symbol"],
    "open": schema.BAR_COLUMNS["open"],
    "high": schema.BAR_COLUMNS["high"],
    "low": schema.BAR_COLUMNS["low"],
    "close": schema.BAR_COLUMNS["close"],
    "total_volume": schema.TICK_COLUMNS["total_volume"],
    "volume": schema.BAR_COLUMNS["volume"],
    "trades": schema.BAR_COLUMNS["trades"],
}
"""An IQFeed interval bar (HIX/HID/HIT reply); ``timestamp`` as the request labelled it."""

DAILY_COLUMNS: dict[str, object] = {
    "date": np.dtype("datetime64[ns]"),  # calendar date (midnight, no time zone)
    "symbol": schema.BAR_COLUMNS["symbol"],
    "open": schema.BAR_COLUMNS["open"],
    "high": schema.BAR_COLUMNS["high"],
    "low": schema.BAR_COLUMNS["low"],
    "close": schema.BAR_COLUMNS["close"],
    "volume": schema.BAR_COLUMNS["volume"],
    "open_interest": schema.BAR_COLUMNS["volume"],
}
"""An IQFeed daily, weekly or monthly bar (HDX/HDT/HWX/HMX reply)."""

STATS_FIELDS: tuple[str, ...] = (
    "server_ip",
    "server_port",
    "max_symbols",
    "symbols_watched",
    "clients",
    "seconds_since_update",
    "reconnects",
    "failed_reconnects",
    "connection_time",
    "market_time",
    "status",
    "feed_version",
    "login_id",
    "kb_received",
    "kbs_received",
    "avg_kbs_received",
    "kb_sent",
    "kbs_sent",
    "avg_kbs_sent",
)
"""Admin ``S,STATS`` fields in wire order (keys of ``format_stats``/``parse_stats``)."""

_MESSAGE_TYPES = frozenset("STnEFNR")
_CONTROL = re.compile(rb"[\x00-\x1f\x7f]")
_CONTROL_STR = re.compile(r"[\x00-\x1f\x7f]")
_BASIS = np.array(["", "C", "E", "O"], dtype=object)
_STOP = np.frombuffer(b"S,CURRENT UPDATE FIELDNAMES", np.uint8)
_PAT_E = np.frombuffer(b"E", np.uint8)
_PAT_END = np.frombuffer(ENDMSG.encode(), np.uint8)
_PAT_LH = np.frombuffer(b"LH", np.uint8)
_STATS_TIME = "%b %d %I:%M%p"


# ----------------------------------------------------------------------------------------------
# errors and records


class ProtocolError(ValueError):
    """A command or request field that does not follow the protocol; the message says which."""


@dataclass(frozen=True)
class Command:
    """One client command: ``verb`` as in the module docstring, ``args`` the remaining fields."""

    verb: str
    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Malformed:
    """A line that could not be parsed (without its line end) and why."""

    line: bytes
    reason: str


@dataclass
class Level1Batch:
    """What one ``Level1Parser.feed`` produced, each part in stream order."""

    updates: pd.DataFrame
    summaries: pd.DataFrame
    messages: list[tuple[str, ...]]
    malformed: list[Malformed]

    def trades(self) -> pd.DataFrame:
        """Updates that report a trade (contents hold C, E or O), as ``schema.TICK_COLUMNS``."""
        mask = self.updates["basis"].to_numpy() != ""
        return schema.conform(self.updates.loc[mask].reset_index(drop=True), schema.TICK_COLUMNS)


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


@dataclass(frozen=True)
class SplitReply:
    """``split_reply`` result: this request's complete lines, everything else, and whether it ended."""

    mine: bytes
    rest: bytes
    done: bool


@dataclass(frozen=True)
class TickRequest:
    """HTX / HTD / HTT: trades with their quotes."""

    kind: str
    symbol: str
    request_id: str
    max_points: int | None
    direction: int
    per_send: int
    days: int | None = None
    begin: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    begin_filter: dt.time | None = None
    end_filter: dt.time | None = None


@dataclass(frozen=True)
class IntervalRequest:
    """HIX / HID / HIT: interval bars of ``interval`` seconds, trades or volume."""

    kind: str
    symbol: str
    request_id: str
    interval: int
    interval_type: str
    label_at_beginning: bool
    max_points: int | None
    direction: int
    per_send: int
    days: int | None = None
    begin: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    begin_filter: dt.time | None = None
    end_filter: dt.time | None = None


@dataclass(frozen=True)
class DailyRequest:
    """HDX / HWX / HMX (last N bars) and HDT (a date range, both ends inclusive, midnight)."""

    kind: str
    symbol: str
    request_id: str
    max_points: int | None
    direction: int
    per_send: int
    begin: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


HistoryRequest = TickRequest | IntervalRequest | DailyRequest


# ----------------------------------------------------------------------------------------------
# time helpers

_EMPTY: dict[int, pd.DataFrame] = {}


def _empty(columns: dict[str, object]) -> pd.DataFrame:
    """A fresh empty frame with ``columns`` (cached template, shallow copy: cheap per batch)."""
    template = _EMPTY.get(id(columns))
    if template is None:
        template = _EMPTY[id(columns)] = schema.empty_frame(columns)
    return template.copy(deep=False)


@functools.lru_cache(maxsize=64)
def _day_offsets(dmin: int, dmax: int) -> tuple[np.ndarray, np.ndarray]:
    """Per calendar day from dmin to dmax: New York's UTC offset (ns) at midnight, and whether it
    changes during the day (DST transition days)."""
    starts = np.arange(dmin, dmax + 1, dtype=np.int64) * K.DAY_NS
    off0 = starts - pd.DatetimeIndex(starts.view("M8[ns]")).tz_localize(schema.TZ).asi8
    late = starts + 23 * 3_600_000_000_000
    off1 = late - pd.DatetimeIndex(late.view("M8[ns]")).tz_localize(schema.TZ).asi8
    off0.flags.writeable = False
    changing = off0 != off1
    changing.flags.writeable = False
    return off0, changing


def _local_ns(values: Any) -> np.ndarray:
    """Nanoseconds of New York wall time (as if UTC) for a datetime column; NaT -> K.NAT."""
    s = values if isinstance(values, pd.Series) else pd.Series(values)
    if isinstance(s.dtype, pd.DatetimeTZDtype):
        arr = s.array.tz_convert(schema.TZ).tz_localize(None)
    elif s.dtype.kind == "M":
        arr = s.array
    else:
        return _local_ns(pd.to_datetime(s))
    return np.asarray(arr.as_unit("ns").asi8, dtype=np.int64)


def _localize(local: np.ndarray) -> pd.DatetimeIndex:
    """New York wall-time ns (K.NAT = missing) -> tz-aware timestamps, vectorised per calendar day.

    Ambiguous wall times (the repeated hour in November) read as daylight time; nonexistent ones
    (the skipped hour in March) shift forward.
    """
    local = np.asarray(local, dtype=np.int64)
    nat = local == K.NAT
    valid = local[~nat] if nat.any() else local
    utc = local.copy()
    if valid.size:
        days = np.floor_divide(valid, K.DAY_NS)
        dmin, dmax = int(days.min()), int(days.max())
        if dmax - dmin > 5000:
            return pd.DatetimeIndex(local.view("M8[ns]")).tz_localize(
                schema.TZ, ambiguous=np.ones(local.size, bool), nonexistent="shift_forward"
            )
        off0, changing = _day_offsets(dmin, dmax)
        shifted = valid - off0[days - dmin]
        if nat.any():
            utc[~nat] = shifted
        else:
            utc = shifted
        if changing.any():
            on_change = np.zeros(local.size, bool)
            idx = np.flatnonzero(~nat)
            on_change[idx] = changing[days - dmin]
            sub = local[on_change]
            fixed = pd.DatetimeIndex(sub.view("M8[ns]")).tz_localize(
                schema.TZ, ambiguous=np.ones(sub.size, bool), nonexistent="shift_forward"
            )
            utc[on_change] = fixed.asi8
    return pd.DatetimeIndex(utc.view("M8[ns]")).tz_localize("UTC").tz_convert(schema.TZ)


def _ny(ts: Any) -> pd.Timestamp:
    """A Timestamp in New York time; naive values are taken as New York wall time."""
    t = pd.Timestamp(ts)
    return t.tz_localize(schema.TZ) if t.tzinfo is None else t.tz_convert(schema.TZ)


# ----------------------------------------------------------------------------------------------
# formatting (server side)


def _price_text(x: float) -> str:
    """Shortest decimal text that reads back as x; NaN -> empty."""
    if x != x:
        return ""
    if not np.isfinite(x):
        raise ValueError(f"cannot send {x!r} as an IQFeed number: prices are finite or empty (NaN)")
    return np.format_float_positional(x, unique=True, trim="-")


def _check_text(text: str, what: str) -> bytes:
    """latin-1 bytes of a field value; commas and line ends would break the framing."""
    if "," in text or "\n" in text or "\r" in text:
        raise ValueError(f"{what} {text!r} contains a comma or line end, which IQFeed fields cannot carry")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} is not latin-1 text") from None


class _Strings:
    """String columns -> per-row codes into one shared byte table (for the format kernel)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.codes: list[np.ndarray] = []
        self.spans: list[tuple[int, int]] = []

    def add(self, values: Any, what: str) -> int:
        codes, uniques = pd.factorize(np.asarray(values, dtype=object), use_na_sentinel=True)
        base = len(self.pieces)
        for u in uniques:
            self.pieces.append(_check_text(u if isinstance(u, str) else str(u), what))
        na = base + len(uniques)
        self.pieces.append(b"")
        codes = codes.astype(np.int64) + base
        codes[codes < base] = na
        self.codes.append(codes)
        self.spans.append((base, na + 1))
        return len(self.codes) - 1

    def tables(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int]]:
        lens = np.fromiter((len(p) for p in self.pieces), np.int64, len(self.pieces))
        off = np.zeros(len(self.pieces) + 1, np.int64)
        np.cumsum(lens, out=off[1:])
        blob = np.frombuffer(b"".join(self.pieces) or b"\0", np.uint8)
        smat = np.stack(self.codes) if self.codes else np.zeros((0, n), np.int64)
        widths = [int(lens[a:b].max()) for a, b in self.spans]
        return smat, blob, off, widths


_WIDTH = {
    K.F_EMPTY: 0,
    K.F_PRICE: 26,
    K.F_INT: 20,
    K.F_TIME: 15,
    K.F_DATE_MDY: 10,
    K.F_DATETIME_US: 26,
    K.F_DATETIME_S: 19,
    K.F_DATE_ISO: 10,
    K.F_DAY: 2,
}


def _render(
    frame: pd.DataFrame, spec: Sequence[tuple[int, str | None]], prefix: bytes, suffix: bytes
) -> bytes:
    """One line per frame row: prefix, fields per ``spec`` (format kind, source column), suffix."""
    n = len(frame)
    if n == 0:
        return b""
    fsrc: dict[str, int] = {}
    isrc: dict[tuple[str, bool], int] = {}
    ssrc: dict[str, int] = {}
    strings = _Strings()
    kinds, cols = [], []
    for kind, src in spec:
        col = 0
        if kind == K.F_PRICE:
            col = fsrc.setdefault(src, len(fsrc))
        elif kind == K.F_STR:
            if src not in ssrc:
                ssrc[src] = strings.add(frame[src], f"column {src!r} value")
            col = ssrc[src]
        elif kind != K.F_EMPTY:
            col = isrc.setdefault((src, kind != K.F_INT), len(isrc))
        kinds.append(kind)
        cols.append(col)
    fmat = np.empty((len(fsrc), n), np.float64)
    for name, i in fsrc.items():
        fmat[i] = frame[name].to_numpy(dtype=np.float64, na_value=np.nan)
    imat = np.empty((len(isrc), n), np.int64)
    for (name, is_time), i in isrc.items():
        if is_time:
            imat[i] = _local_ns(frame[name])
        else:
            values = frame[name].to_numpy()
            if values.dtype.kind not in "iub" and pd.isna(values).any():
                raise ValueError(f"column {name!r} has missing values; IQFeed integers are always present")
            imat[i] = values
    smat, blob, soff, widths = strings.tables(n)
    over_keys = K.price_slow_keys(fmat) if fmat.size else np.zeros(0, np.int64)
    texts = [
        _price_text(float(fmat[k // n, k % n])).encode() for k in over_keys
    ]  # rare: values the kernel cannot write exactly
    over_off = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=over_off[1:])
    over_blob = np.frombuffer(b"".join(texts) or b"\0", np.uint8)
    longest = max((len(t) for t in texts), default=0)
    row_cap = len(prefix) + len(suffix) + len(spec)
    for kind, col in zip(kinds, cols, strict=True):
        row_cap += widths[col] if kind == K.F_STR else max(_WIDTH[kind], longest if kind == K.F_PRICE else 0)
    out = np.empty(n * row_cap, np.uint8)
    size = K.format_rows(
        n,
        np.array(kinds, np.int64),
        np.array(cols, np.int64),
        fmat,
        imat,
        smat,
        blob,
        soff,
        over_keys,
        over_off,
        over_blob,
        np.frombuffer(prefix, np.uint8),
        np.frombuffer(suffix, np.uint8),
        out,
    )
    return out[:size].tobytes()


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
    return _render(frame, spec, kind.encode() + b",", b",\n")


def _value_text(value: object, what: str) -> str:
    """Text of one fundamental/stats value: numbers shortest, dates MM/DD/CCYY, None/NaN empty."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return _price_text(float(value))
    if isinstance(value, dt.date | np.datetime64):
        t = pd.Timestamp(value)
        return "" if t is pd.NaT else t.strftime("%m/%d/%Y")
    text = str(value)
    _check_text(text, what)
    return text


def format_fundamental(values: Mapping[str, object], fields: Sequence[str] = FUNDAMENTAL_FIELDS) -> bytes:
    """One F line: ``values`` by IQFeed field name in ``fields`` order, missing ones empty.

    Raises KeyError for names that are not in ``fields`` (a typo would otherwise vanish).
    """
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise KeyError(f"fundamental values {unknown} are not fields; expected names from {list(fields)}")
    texts = [_value_text(values.get(name), f"fundamental {name!r}") for name in fields]
    return ("F," + ",".join(texts) + ",\n").encode("latin-1")


def format_system(*fields: str) -> bytes:
    """An S message: ``format_system("CURRENT PROTOCOL", "6.1")`` -> ``b"S,CURRENT PROTOCOL,6.1\\n"``.

    No trailing comma: pyiqfeed rejects one on the FIELDNAMES messages.
    """
    for f in fields:
        if "\n" in f or "\r" in f:
            raise ValueError(f"system message field {f!r} contains a line end")
    return ("S," + ",".join(fields) + "\n").encode("latin-1")


def format_timestamp(ts: pd.Timestamp) -> bytes:
    """The once-a-second ``T,CCYYMMDD HH:MM:SS`` line (New York time)."""
    return ("T," + _ny(ts).strftime("%Y%m%d %H:%M:%S") + "\n").encode()


def format_error(text: str) -> bytes:
    """An ``E,<text>`` line."""
    return b"E," + _check_text(text, "error text") + b"\n"


def format_unknown_symbol(symbol: str) -> bytes:
    """The ``n,<SYM>`` line answering a watch of an unknown symbol."""
    return b"n," + _check_text(symbol, "symbol") + b"\n"


def _is_62(protocol: str) -> bool:
    """True when ``protocol`` (e.g. "6.2") has the 6.2 history format (LH, aggressor, day code)."""
    try:
        major, minor = (int(p) for p in protocol.split(".")[:2])
    except ValueError:
        raise ValueError(f"protocol must look like '6.1' or '6.2', not {protocol!r}") from None
    return (major, minor) >= (6, 2)


def _rid_prefix(request_id: str, protocol: str | None) -> bytes:
    prefix = _check_text(request_id, "request id") + b"," if request_id else b""
    return prefix + (b"LH," if protocol is not None and _is_62(protocol) else b"")


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
    return _render(ticks, spec, _rid_prefix(request_id, protocol), b",\n")


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
    return _render(bars, spec, _rid_prefix(request_id, protocol), b",\n")


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
    return _render(daily, spec, _rid_prefix(request_id, protocol), b",\n")


def format_end(request_id: str) -> bytes:
    """The ``RID,!ENDMSG!,`` line that ends every lookup reply."""
    return _rid_prefix(request_id, None) + b"!ENDMSG!,\n"


def format_history_error(request_id: str, text: str) -> bytes:
    """``RID,E,<text>,`` followed by the end line (pyiqfeed waits for it)."""
    return (
        _rid_prefix(request_id, None)
        + b"E,"
        + _check_text(text, "error text")
        + b",\n"
        + format_end(request_id)
    )


def format_stats(stats: Mapping[str, object]) -> bytes:
    """The admin ``S,STATS,...`` line from ``STATS_FIELDS`` keys (missing ones empty).

    Times (``connection_time``, ``market_time``) as ``Jan 02 09:30AM``; ``status`` True/False ->
    Connected/Not Connected; KB figures with two decimals.
    """
    unknown = sorted(set(stats) - set(STATS_FIELDS))
    if unknown:
        raise KeyError(f"stats keys {unknown} are unknown; expected some of {list(STATS_FIELDS)}")
    texts = []
    for name in STATS_FIELDS:
        v = stats.get(name)
        if v is None:
            texts.append("")
        elif name in ("connection_time", "market_time") and isinstance(v, dt.datetime):
            texts.append(_ny(v).strftime(_STATS_TIME))
        elif name == "status" and isinstance(v, bool | np.bool_):
            texts.append("Connected" if v else "Not Connected")
        elif name.startswith(("kb", "avg")) and isinstance(v, int | float | np.number):
            texts.append(f"{float(v):.2f}")
        else:
            texts.append(_value_text(v, f"stats {name!r}"))
    return format_system("STATS", *texts)


def parse_stats(message: Sequence[str] | bytes | str) -> dict[str, object]:
    """An ``S,STATS`` message (a raw line, or fields as split by Level1Parser) by ``STATS_FIELDS`` name.

    Counts -> int, KB figures -> float (NaN when empty), status -> bool (Connected), times stay text.
    """
    if isinstance(message, bytes | bytearray):
        message = message.decode("latin-1")
    if isinstance(message, str):
        message = message.rstrip("\r\n").split(",")
    values = list(message[2:]) if list(message[:2]) == ["S", "STATS"] else list(message)
    values += [""] * (len(STATS_FIELDS) - len(values))
    out: dict[str, object] = {}
    for name, text in zip(STATS_FIELDS, values, strict=False):
        try:
            if name in ("server_ip", "connection_time", "market_time", "feed_version", "login_id"):
                out[name] = text
            elif name == "status":
                out[name] = text == "Connected"
            elif name.startswith(("kb", "avg")):
                out[name] = float(text) if text else float("nan")
            else:
                out[name] = int(text) if text else 0
        except ValueError:
            raise ProtocolError(f"stats field {name} = {text!r} is not a number") from None
    return out


# ----------------------------------------------------------------------------------------------
# commands (client builds, simulator parses)


def _arg(text: str, what: str) -> str:
    if not text or "," in text or _CONTROL_STR.search(text) or " " in text:
        raise ValueError(f"{what} {text!r} must be non-empty, without commas, spaces or control characters")
    return text


def _line(*fields: str) -> bytes:
    return (",".join(fields) + "\r\n").encode("latin-1")


def cmd_set_protocol(version: str) -> bytes:
    """``S,SET PROTOCOL,<version>``: the first command on every connection."""
    return _line("S", "SET PROTOCOL", _arg(version, "protocol version"))


def cmd_watch(symbol: str) -> bytes:
    """``w<SYM>``: watch trades and quotes."""
    return _line("w" + _arg(symbol, "symbol"))


def cmd_trades_only(symbol: str) -> bytes:
    """``t<SYM>``: watch trades only."""
    return _line("t" + _arg(symbol, "symbol"))


def cmd_unwatch(symbol: str) -> bytes:
    """``r<SYM>``: remove a watch."""
    return _line("r" + _arg(symbol, "symbol"))


def cmd_refresh(symbol: str) -> bytes:
    """``f<SYM>``: send the fundamentals and summary again."""
    return _line("f" + _arg(symbol, "symbol"))


def cmd_unwatch_all() -> bytes:
    """``S,UNWATCH ALL``."""
    return _line("S", "UNWATCH ALL")


def cmd_request_watches() -> bytes:
    """``S,REQUEST WATCHES`` (answered by ``S,WATCHES,...``)."""
    return _line("S", "REQUEST WATCHES")


def cmd_select_fields(fields: Sequence[str]) -> bytes:
    """``S,SELECT UPDATE FIELDS,...`` (Symbol is implied and left out)."""
    names = [f for f in fields if f != "Symbol"]
    unknown = [f for f in names if f not in ALL_UPDATE_FIELDS]
    if unknown:
        raise ValueError(f"unknown Level 1 fields {unknown}; see ALL_UPDATE_FIELDS")
    return _line("S", "SELECT UPDATE FIELDS", *names)


def cmd_set_client_name(name: str) -> bytes:
    """``S,SET CLIENT NAME,<name>`` (shows in admin client stats)."""
    return _line("S", "SET CLIENT NAME", _check_text(name, "client name").decode("latin-1"))


def cmd_connect() -> bytes:
    """``S,CONNECT`` (streaming and admin ports)."""
    return _line("S", "CONNECT")


def cmd_timestamps(on: bool) -> bytes:
    """``S,TIMESTAMPSON`` / ``S,TIMESTAMPSOFF``."""
    return _line("S", "TIMESTAMPSON" if on else "TIMESTAMPSOFF")


def cmd_system(*fields: str) -> bytes:
    """Any other S command, e.g. ``cmd_system("REQUEST CURRENT UPDATE FIELDNAMES")``."""
    return _line("S", *(_check_text(f, "command field").decode("latin-1") for f in fields))


def _per_send_text(per_send: int) -> str:
    if isinstance(per_send, bool) or not isinstance(per_send, int | np.integer) or per_send < 1:
        raise ValueError(
            f"per_send (DatapointsPerSend) must be a positive int, not {per_send!r}; "
            "pass interval_type/label_at_beginning by keyword"
        )
    return str(int(per_send))


def _max_text(max_points: int | None) -> str:
    return "" if not max_points else str(int(max_points))


def _dir_text(direction: int) -> str:
    if direction not in (0, 1):
        raise ValueError(f"direction must be 0 (newest first) or 1 (oldest first), not {direction!r}")
    return str(int(direction))


def _filter_text(t: dt.time | None) -> str:
    return "" if t is None else t.strftime("%H%M%S")


def _datetime_text(ts: pd.Timestamp | None) -> str:
    return "" if ts is None else _ny(ts).strftime("%Y%m%d %H%M%S")


def _date_text(d: Any) -> str:
    return "" if d is None else pd.Timestamp(d).strftime("%Y%m%d")


def _interval_fields(interval: int, interval_type: str, label_at_beginning: bool) -> tuple[str, str, str]:
    if interval_type not in ("s", "t", "v"):
        raise ValueError(f"interval_type must be 's', 't' or 'v', not {interval_type!r}")
    if int(interval) <= 0:
        raise ValueError(f"interval must be positive, not {interval!r}")
    return str(int(interval)), interval_type, "1" if label_at_beginning else "0"


def cmd_htx(
    symbol: str, max_points: int | None, direction: int, request_id: str, per_send: int = DEFAULT_PER_SEND
) -> bytes:
    """``HTX``: the last ``max_points`` trades."""
    return _line(
        "HTX",
        _arg(symbol, "symbol"),
        _max_text(max_points),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
    )


def cmd_htd(
    symbol: str,
    days: int,
    max_points: int | None,
    begin_filter: dt.time | None,
    end_filter: dt.time | None,
    direction: int,
    request_id: str,
    per_send: int = DEFAULT_PER_SEND,
) -> bytes:
    """``HTD``: trades of the last ``days`` calendar days, optionally between filter times."""
    return _line(
        "HTD",
        _arg(symbol, "symbol"),
        str(int(days)),
        _max_text(max_points),
        _filter_text(begin_filter),
        _filter_text(end_filter),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
    )


def cmd_htt(
    symbol: str,
    begin: pd.Timestamp | None,
    end: pd.Timestamp | None,
    max_points: int | None,
    begin_filter: dt.time | None,
    end_filter: dt.time | None,
    direction: int,
    request_id: str,
    per_send: int = DEFAULT_PER_SEND,
) -> bytes:
    """``HTT``: trades between two New York times (naive ones are taken as New York time)."""
    return _line(
        "HTT",
        _arg(symbol, "symbol"),
        _datetime_text(begin),
        _datetime_text(end),
        _max_text(max_points),
        _filter_text(begin_filter),
        _filter_text(end_filter),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
    )


def cmd_hix(
    symbol: str,
    interval: int,
    max_points: int | None,
    direction: int,
    request_id: str,
    per_send: int = DEFAULT_PER_SEND,
    interval_type: str = "s",
    label_at_beginning: bool = False,
) -> bytes:
    """``HIX``: the last ``max_points`` interval bars."""
    iv, it, lb = _interval_fields(interval, interval_type, label_at_beginning)
    return _line(
        "HIX",
        _arg(symbol, "symbol"),
        iv,
        _max_text(max_points),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
        it,
        lb,
    )


def cmd_hid(
    symbol: str,
    interval: int,
    days: int,
    max_points: int | None,
    begin_filter: dt.time | None,
    end_filter: dt.time | None,
    direction: int,
    request_id: str,
    per_send: int = DEFAULT_PER_SEND,
    interval_type: str = "s",
    label_at_beginning: bool = False,
) -> bytes:
    """``HID``: interval bars of the last ``days`` calendar days."""
    iv, it, lb = _interval_fields(interval, interval_type, label_at_beginning)
    return _line(
        "HID",
        _arg(symbol, "symbol"),
        iv,
        str(int(days)),
        _max_text(max_points),
        _filter_text(begin_filter),
        _filter_text(end_filter),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
        it,
        lb,
    )


def cmd_hit(
    symbol: str,
    interval: int,
    begin: pd.Timestamp | None,
    end: pd.Timestamp | None,
    max_points: int | None,
    begin_filter: dt.time | None,
    end_filter: dt.time | None,
    direction: int,
    request_id: str,
    per_send: int = DEFAULT_PER_SEND,
    interval_type: str = "s",
    label_at_beginning: bool = False,
) -> bytes:
    """``HIT``: interval bars between two New York times."""
    iv, it, lb = _interval_fields(interval, interval_type, label_at_beginning)
    return _line(
        "HIT",
        _arg(symbol, "symbol"),
        iv,
        _datetime_text(begin),
        _datetime_text(end),
        _max_text(max_points),
        _filter_text(begin_filter),
        _filter_text(end_filter),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
        it,
        lb,
    )


def _cmd_bars(
    verb: str, symbol: str, max_points: int | None, direction: int, request_id: str, per_send: int
) -> bytes:
    return _line(
        verb,
        _arg(symbol, "symbol"),
        _max_text(max_points),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
    )


def cmd_hdx(
    symbol: str, max_points: int | None, direction: int, request_id: str, per_send: int = DEFAULT_PER_SEND
) -> bytes:
    """``HDX``: the last ``max_points`` daily bars."""
    return _cmd_bars("HDX", symbol, max_points, direction, request_id, per_send)


def cmd_hwx(
    symbol: str, max_points: int | None, direction: int, request_id: str, per_send: int = DEFAULT_PER_SEND
) -> bytes:
    """``HWX``: the last ``max_points`` weekly bars."""
    return _cmd_bars("HWX", symbol, max_points, direction, request_id, per_send)


def cmd_hmx(
    symbol: str, max_points: int | None, direction: int, request_id: str, per_send: int = DEFAULT_PER_SEND
) -> bytes:
    """``HMX``: the last ``max_points`` monthly bars."""
    return _cmd_bars("HMX", symbol, max_points, direction, request_id, per_send)


def cmd_hdt(
    symbol: str,
    begin: Any,
    end: Any,
    max_points: int | None,
    direction: int,
    request_id: str,
    per_send: int = DEFAULT_PER_SEND,
) -> bytes:
    """``HDT``: daily bars between two dates (inclusive; dates or Timestamps, None = open end)."""
    return _line(
        "HDT",
        _arg(symbol, "symbol"),
        _date_text(begin),
        _date_text(end),
        _max_text(max_points),
        _dir_text(direction),
        _arg(request_id, "request id"),
        _per_send_text(per_send),
    )


_VERB = re.compile(r"[A-Z][A-Z0-9]{1,3}")


def parse_command(line: bytes | str) -> Command:
    """One client command (line end optional) -> ``Command``; ProtocolError on anything else."""
    text = line.decode("latin-1") if isinstance(line, bytes | bytearray) else line
    text = text.rstrip("\r\n")
    if not text:
        raise ProtocolError("empty command")
    if _CONTROL_STR.search(text):
        raise ProtocolError(f"command {text!r} contains control characters")
    head = text[0]
    if head in "wtrf":
        symbol = text[1:]
        if not symbol or "," in symbol or " " in symbol:
            raise ProtocolError(f"command {text!r}: expected {head}<SYMBOL> with a symbol and no commas")
        return Command(head, (symbol,))
    if text == "T":
        return Command("T")
    fields = text.split(",")
    if fields[0] == "S":
        if len(fields) < 2 or not fields[1].strip():
            raise ProtocolError(f"command {text!r}: expected S,<NAME>[,args]")
        return Command("S," + fields[1].strip().upper(), tuple(fields[2:]))
    if _VERB.fullmatch(fields[0]):
        return Command(fields[0], tuple(fields[1:]))
    raise ProtocolError(
        f"unrecognised command {text!r}: expected w/t/r/f<SYMBOL>, T, S,<NAME>,... "
        "or a request such as HTX,..."
    )


_REQUEST_FIELDS: dict[str, tuple[str, ...]] = {
    "HTX": ("symbol", "max_points", "direction", "request_id", "per_send"),
    "HTD": (
        "symbol",
        "days",
        "max_points",
        "begin_filter",
        "end_filter",
        "direction",
        "request_id",
        "per_send",
    ),
    "HTT": (
        "symbol",
        "begin",
        "end",
        "max_points",
        "begin_filter",
        "end_filter",
        "direction",
        "request_id",
        "per_send",
    ),
    "HIX": (
        "symbol",
        "interval",
        "max_points",
        "direction",
        "request_id",
        "per_send",
        "interval_type",
        "label_at_beginning",
    ),
    "HID": (
        "symbol",
        "interval",
        "days",
        "max_points",
        "begin_filter",
        "end_filter",
        "direction",
        "request_id",
        "per_send",
        "interval_type",
        "label_at_beginning",
    ),
    "HIT": (
        "symbol",
        "interval",
        "begin",
        "end",
        "max_points",
        "begin_filter",
        "end_filter",
        "direction",
        "request_id",
        "per_send",
        "interval_type",
        "label_at_beginning",
    ),
    "HDX": ("symbol", "max_points", "direction", "request_id", "per_send"),
    "HWX": ("symbol", "max_points", "direction", "request_id", "per_send"),
    "HMX": ("symbol", "max_points", "direction", "request_id", "per_send"),
    "HDT": ("symbol", "begin_date", "end_date", "max_points", "direction", "request_id", "per_send"),
}
HISTORY_VERBS = frozenset(_REQUEST_FIELDS)
"""Lookup-port verbs ``parse_history_request`` understands."""


def request_id_position(verb: str) -> int:
    """Index of the RequestID among a history command's args (e.g. 3 for HTX)."""
    names = _REQUEST_FIELDS.get(verb)
    if names is None:
        raise ProtocolError(f"{verb!r} is not a history request; expected one of {sorted(_REQUEST_FIELDS)}")
    return names.index("request_id")


def has_request_id(cmd: Command) -> bool:
    """True when ``cmd`` is a history request whose RequestID field is present and non-empty."""
    if cmd.verb not in _REQUEST_FIELDS:
        return False
    at = request_id_position(cmd.verb)
    return len(cmd.args) > at and cmd.args[at].strip() != ""


def request_id_of(command: bytes | str) -> str:
    """The RequestID of a history command line (as built by ``cmd_h*``); "" when it has none."""
    cmd = parse_command(command)
    return cmd.args[request_id_position(cmd.verb)].strip() if has_request_id(cmd) else ""


def _req_int(text: str, name: str, minimum: int) -> int:
    t = text.strip()
    if not t.isdigit() or int(t) < minimum:
        raise ProtocolError(f"{name} must be an integer >= {minimum}, not {text!r}")
    return int(t)


def _req_time(text: str, name: str) -> dt.time | None:
    t = text.strip().replace(":", "")
    if not t:
        return None
    if len(t) != 6 or not t.isdigit():
        raise ProtocolError(f"{name} must be HHmmSS, not {text!r}")
    try:
        return dt.time(int(t[:2]), int(t[2:4]), int(t[4:]))
    except ValueError:
        raise ProtocolError(f"{name} {text!r} is not a time of day") from None


def _req_datetime(text: str, name: str, date_only: bool = False) -> pd.Timestamp | None:
    t = text.strip()
    if not t:
        return None
    date_part, _, time_part = t.partition(" ")
    time_part = time_part.replace(":", "")
    ok = len(date_part) == 8 and date_part.isdigit() and (not time_part or len(time_part) == 6)
    if not ok or (date_only and time_part) or (time_part and not time_part.isdigit()):
        raise ProtocolError(f"{name} must be {'CCYYMMDD' if date_only else 'CCYYMMDD HHmmSS'}, not {text!r}")
    try:
        naive = pd.Timestamp(
            int(date_part[:4]),
            int(date_part[4:6]),
            int(date_part[6:]),
            int(time_part[:2] or 0),
            int(time_part[2:4] or 0),
            int(time_part[4:] or 0),
        )
    except ValueError:
        raise ProtocolError(f"{name} {text!r} is not a valid date and time") from None
    return naive.tz_localize(schema.TZ, ambiguous=True, nonexistent="shift_forward")


def parse_history_request(cmd: Command) -> HistoryRequest:
    """Typed fields of an HTX/HTD/HTT/HIX/HID/HIT/HDX/HWX/HMX/HDT command.

    Missing trailing fields count as empty. Empty or 0 MaxDatapoints -> None (all); empty
    direction -> 0; empty DatapointsPerSend -> DEFAULT_PER_SEND; empty IntervalType -> 's'.
    Raises ProtocolError naming the bad field (the simulator answers ``!SYNTAX_ERROR!``).
    """
    names = _REQUEST_FIELDS.get(cmd.verb)
    if names is None:
        raise ProtocolError(
            f"{cmd.verb!r} is not a history request; expected one of {sorted(_REQUEST_FIELDS)}"
        )
    if len(cmd.args) > len(names):
        raise ProtocolError(
            f"{cmd.verb} takes at most {len(names)} fields ({', '.join(names)}), got {len(cmd.args)}"
        )
    raw = dict(zip(names, [*cmd.args, *[""] * (len(names) - len(cmd.args))], strict=True))
    symbol = raw["symbol"].strip()
    if not symbol or " " in symbol:
        raise ProtocolError(f"{cmd.verb}: symbol must be non-empty, not {raw['symbol']!r}")
    max_points = _req_int(raw["max_points"], "MaxDatapoints", 0) if raw["max_points"].strip() else 0
    direction = _req_int(raw["direction"], "DataDirection", 0) if raw["direction"].strip() else 0
    if direction > 1:
        raise ProtocolError(f"DataDirection must be 0 or 1, not {raw['direction']!r}")
    per_send = _req_int(raw["per_send"], "DatapointsPerSend", 0) if raw["per_send"].strip() else 0
    common: dict[str, Any] = {
        "kind": cmd.verb,
        "symbol": symbol,
        "request_id": raw["request_id"].strip(),
        "max_points": max_points or None,
        "direction": direction,
        "per_send": per_send or DEFAULT_PER_SEND,
    }
    if cmd.verb in ("HDX", "HWX", "HMX"):
        return DailyRequest(**common)
    if cmd.verb == "HDT":
        begin = _req_datetime(raw["begin_date"], "BeginDate", date_only=True)
        end = _req_datetime(raw["end_date"], "EndDate", date_only=True)
        return DailyRequest(**common, begin=begin, end=end)
    extra: dict[str, Any] = {}
    if "days" in raw:
        extra["days"] = _req_int(raw["days"], "Days", 0)
    if "begin" in raw:
        extra["begin"] = _req_datetime(raw["begin"], "BeginDateTime")
        extra["end"] = _req_datetime(raw["end"], "EndDateTime")
    if "begin_filter" in raw:
        extra["begin_filter"] = _req_time(raw["begin_filter"], "BeginFilterTime")
        extra["end_filter"] = _req_time(raw["end_filter"], "EndFilterTime")
    if cmd.verb.startswith("HT"):
        return TickRequest(**common, **extra)
    interval = _req_int(raw["interval"], "Interval", 1)
    itype = raw["interval_type"].strip().lower() or "s"
    if itype not in ("s", "t", "v"):
        raise ProtocolError(f"IntervalType must be s, t or v, not {raw['interval_type']!r}")
    label = raw["label_at_beginning"].strip() or "0"
    if label not in ("0", "1"):
        raise ProtocolError(f"LabelAtBeginning must be 0 or 1, not {raw['label_at_beginning']!r}")
    return IntervalRequest(
        **common, interval=interval, interval_type=itype, label_at_beginning=label == "1", **extra
    )


# ----------------------------------------------------------------------------------------------
# parsing helpers shared by Level 1 and history


_REASONS = {
    K.E_FIELDS: "wrong field count",
    K.E_PRICE: "unparseable number",
    K.E_INT: "unparseable integer",
    K.E_TIME: "unparseable time (expected HH:MM:SS.ffffff)",
    K.E_DATE: "unparseable date",
    K.E_SYMBOL: "empty or non-printable symbol",
    K.E_LETTERS: "expected letters only",
    K.E_HEX: "expected pairs of hex digits",
    K.E_DATETIME: "unparseable date-time (expected CCYY-MM-DD HH:MM:SS[.ffffff])",
    K.E_EMPTY: "empty line",
    K.E_TSMSG: "unparseable timestamp message (expected T,CCYYMMDD HH:MM:SS)",
    K.E_REQUIRED: "required field is empty",
}


def _materialize(data: bytes, buf: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> np.ndarray:
    """Object array of the strings at (starts, lens), one Python str per distinct value."""
    if starts.size == 0:
        return np.empty(0, dtype=object)
    codes, firsts = K.intern(buf, starts, lens)
    uniques = np.empty(firsts.size, dtype=object)
    for i, (s, n) in enumerate(zip(starts[firsts].tolist(), lens[firsts].tolist(), strict=True)):
        uniques[i] = data[s : s + n].decode("latin-1")
    return uniques[codes]


def _int_range_bad(values: np.ndarray, dtype: Any) -> np.ndarray:
    info = np.iinfo(dtype)
    return (values < info.min) | (values > info.max)


# ----------------------------------------------------------------------------------------------
# Level 1 stream

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


@dataclass(frozen=True)
class _Layout:
    """A field layout compiled for the kernels: per field its parse kind and output slot."""

    names: tuple[str, ...]
    kinds: np.ndarray
    cols: np.ndarray
    nmin: int

    @classmethod
    def build(
        cls, names: Sequence[str], table: Mapping[str, tuple[int, int]], nmin: int | None = None
    ) -> _Layout:
        pairs = [table.get(n, (K.K_SKIP, 0)) for n in names]
        return cls(
            tuple(names),
            np.array([p[0] for p in pairs], np.int64),
            np.array([p[1] for p in pairs], np.int64),
            len(names) if nmin is None else nmin,
        )

    def reason(self, code: int, field_index: int, line: bytes, skip: int) -> str:
        """Readable reason for a kernel error on ``line`` (``skip`` = fields before the layout)."""
        text = _REASONS.get(code, f"error {code}")
        parts = line.split(b",")
        if code == K.E_FIELDS:
            got = len(parts) - skip
            want = (
                str(len(self.names)) if self.nmin == len(self.names) else f"{self.nmin} or {len(self.names)}"
            )
            return f"{text}: {got} fields after the header, expected {want} (plus an optional trailing comma)"
        if 0 <= field_index < len(self.names) and field_index + skip < len(parts):
            value = parts[field_index + skip].decode("latin-1")
            return f"{text} in field {self.names[field_index]!r}: {value!r}"
        return text

    def fix_slow(self, fout: np.ndarray, row: int, fields: list[bytes]) -> None:
        """Python float() for the price fields of one row the kernel could not round exactly."""
        for j, (k, c) in enumerate(zip(self.kinds.tolist(), self.cols.tolist(), strict=True)):
            if k == K.K_PRICE and j < len(fields) and fields[j]:
                fout[c, row] = float(fields[j])


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
        self._layout = _Layout.build(_normalize_fields(fields), _L1_PARSE)

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
        self._layout = _Layout.build(_normalize_fields(fields), _L1_PARSE)

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
        cap = data.count(b"\n", 0, end) + 1
        fout = np.empty((len(_L1_FLOATS), cap), np.float64)
        iout = np.empty((_L1_IDEF.size, cap), np.int64)
        sst = np.empty((len(_L1_STRS), cap), np.int64)
        sln = np.empty((len(_L1_STRS), cap), np.int64)
        row_kind = np.empty(cap, np.uint8)
        row_ts = np.empty(cap, np.int64)
        row_basis = np.empty(cap, np.int64)
        row_slow = np.empty(cap, np.bool_)
        row_start = np.empty(cap, np.int64)
        row_end = np.empty(cap, np.int64)
        oth_start = np.empty(cap, np.int64)
        oth_end = np.empty(cap, np.int64)
        bad_start = np.empty(cap, np.int64)
        bad_end = np.empty(cap, np.int64)
        bad_code = np.empty(cap, np.int64)
        bad_field = np.empty(cap, np.int64)
        pos = nrow = noth = nbad = 0
        segments: list[tuple[int, int, _Layout]] = []  # (first row, first bad, layout)
        messages: list[tuple[str, ...]] = []
        bad: list[tuple[int, Malformed]] = list(early)
        while True:
            layout = self._layout
            segments.append((nrow, nbad, layout))
            first_other = noth
            pos, nrow, noth, nbad, self._session_day, self._session_ns, stopped = K.scan_level1(
                buf,
                pos,
                end,
                layout.kinds,
                layout.cols,
                _L1_IDEF,
                _STOP,
                self._session_day,
                self._session_ns,
                fout,
                iout,
                sst,
                sln,
                row_kind,
                row_ts,
                row_basis,
                row_slow,
                row_start,
                row_end,
                nrow,
                oth_start,
                oth_end,
                noth,
                bad_start,
                bad_end,
                bad_code,
                bad_field,
                nbad,
            )
            for i in range(first_other, noth):
                self._message(data[oth_start[i] : oth_end[i]], int(oth_start[i]), messages, bad)
            if not stopped:
                break
            if messages and messages[-1][:2] == ("S", "CURRENT UPDATE FIELDNAMES"):
                self.set_fields(messages[-1][2:])
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
            out_of_range = _int_range_bad(iout[slot, :nrow], schema.LEVEL1_COLUMNS[name])
            if out_of_range.any():
                for r in np.flatnonzero(out_of_range).tolist():
                    line = data[row_start[r] : row_end[r]]
                    bad.append((int(row_start[r]), Malformed(line, f"{name} {iout[slot, r]} out of range")))
                keep = ~out_of_range if keep is None else keep & ~out_of_range
        bad.sort(key=lambda item: item[0])
        frame = self._frame(data, buf, nrow, fout, iout, sst, sln, row_ts, row_basis)
        kinds = row_kind[:nrow]
        if keep is not None:
            frame = frame.loc[keep].reset_index(drop=True)
            kinds = kinds[keep]
        is_q = kinds == ord("Q")
        if is_q.all():
            updates, summaries = frame, _empty(schema.LEVEL1_COLUMNS)
        elif not is_q.any():
            updates, summaries = _empty(schema.LEVEL1_COLUMNS), frame
        else:
            updates = frame.loc[is_q].reset_index(drop=True)
            summaries = frame.loc[~is_q].reset_index(drop=True)
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
    def _frame(data, buf, n, fout, iout, sst, sln, row_ts, row_basis) -> pd.DataFrame:
        if n == 0:
            return _empty(schema.LEVEL1_COLUMNS)
        cols: dict[str, Any] = {}
        for i, name in enumerate(_L1_FLOATS):
            cols[name] = fout[i, :n]
        for i, name in enumerate(_L1_INTS):
            cols[name] = iout[i, :n].astype(schema.LEVEL1_COLUMNS[name], copy=False)
        for i, name in enumerate(_L1_STRS):
            cols[name] = _materialize(data, buf, sst[i, :n], sln[i, :n])
        cols["basis"] = _BASIS[row_basis[:n]]
        cols["timestamp"] = _localize(row_ts[:n])
        return pd.DataFrame({name: cols[name] for name in schema.LEVEL1_COLUMNS}, copy=False)


# ----------------------------------------------------------------------------------------------
# history replies


@dataclass(frozen=True)
class _HistoryKind:
    """How to read one kind of history reply: layout, slot names, frame builder."""

    layout: _Layout
    floats: tuple[str, ...]
    ints: tuple[str, ...]
    strs: tuple[str, ...]
    idef: np.ndarray
    build: Callable[[dict[str, Any], str, int], pd.DataFrame]


def _build_ticks(c: dict[str, Any], symbol: str, n: int) -> pd.DataFrame:
    c["timestamp"] = _localize(c.pop("local"))
    c["symbol"] = np.full(n, symbol, dtype=object)
    return pd.DataFrame(
        {
            k: np.asarray(c[k]).astype(v, copy=False) if k != "timestamp" else c[k]
            for k, v in schema.TICK_COLUMNS.items()
        },
        copy=False,
    )


def _build_bars(c: dict[str, Any], symbol: str, n: int) -> pd.DataFrame:
    c["timestamp"] = _localize(c.pop("local"))
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
    _Layout.build(
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
    _Layout.build(
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
    _Layout.build(
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
            parts = data[oth_start[i] : oth_end[i]].decode("latin-1").split(",")
            at = parts.index("E")
            text = parts[at + 1 :]
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
    cols.update({name: _materialize(data, buf, sst[i, :n], sln[i, :n]) for i, name in enumerate(kind.strs)})
    keep = np.ones(n, bool)
    for name in ("market_center", "aggressor"):
        if name in cols:
            out_of_range = _int_range_bad(cols[name], schema.TICK_COLUMNS[name])
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


def strip_request_id(data: bytes, request_id: str) -> bytes:
    """Request ``request_id``'s complete lines from ``data`` with the ``RID,`` prefix removed.

    Other requests' lines are dropped; the ``parse_*`` functions read the result (they accept
    lines with or without the RequestID).
    """
    if not request_id:
        return data
    mine = split_reply(data if data.endswith(b"\n") else data + b"\n", request_id).mine
    prefix = request_id.encode("latin-1") + b","
    return mine[len(prefix) :].replace(b"\n" + prefix, b"\n") if mine else b""


def split_reply(data: bytes, request_id: str) -> SplitReply:
    """Take request ``request_id``'s complete lines out of a lookup-socket buffer.

    ``mine`` holds its lines (data, error and the end line) in order; ``rest`` keeps everything
    else in order (other requests' lines, lines after our end line, a partial last line) for the
    caller to keep buffering; ``done`` says the end line was seen. Feed the concatenated ``mine``
    parts to ``parse_*`` once ``done``.
    """
    cut = data.rfind(b"\n") + 1
    complete, partial = data[:cut], data[cut:]
    prefix = request_id.encode("latin-1") + b","
    end_line = re.search(rb"(?:^|\n)" + re.escape(prefix) + rb"!ENDMSG!,?\r?\n", complete)
    if end_line is not None:
        region, after = complete[: end_line.end()], complete[end_line.end() :] + partial
    else:
        region, after = complete, partial
    lines = region.count(b"\n")
    ours = region.count(b"\n" + prefix) + (1 if region.startswith(prefix) else 0)
    if ours == lines:
        return SplitReply(region, after, end_line is not None)
    mine, others = [], []
    for line in region.splitlines(keepends=True):
        (mine if line.startswith(prefix) else others).append(line)
    return SplitReply(b"".join(mine), b"".join(others) + after, end_line is not None)
