"""History requests (port 9100) as values, written by the client and read by the simulator.

``format_request(r)`` is the command line for a ``TickRequest``, ``IntervalRequest`` or
``DailyRequest``, and ``parse_history_request(parse_command(line))`` reads it back, so the two
are exact inverses: ``parse_history_request(parse_command(format_request(r))) == r``. Each wire
field has one reader and one writer (``_CODECS``); ``_WIRE_FIELDS`` gives their order per verb.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from oss20 import schema
from oss20.iqfeed.protocol._text import CONTROL_CHARS, command_line
from oss20.iqfeed.protocol.commands import Command, parse_command
from oss20.iqfeed.protocol.errors import ProtocolError
from oss20.iqfeed.protocol.fields import DEFAULT_PER_SEND

_WIRE_FIELDS: dict[str, tuple[str, ...]] = {
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
    "HDT": ("symbol", "begin", "end", "max_points", "direction", "request_id", "per_send"),
}
HISTORY_VERBS = frozenset(_WIRE_FIELDS)
"""Lookup-port verbs ``parse_history_request`` understands."""

_WIRE_NAMES = {
    "symbol": "Symbol",
    "request_id": "RequestID",
    "max_points": "MaxDatapoints",
    "direction": "DataDirection",
    "per_send": "DatapointsPerSend",
    "days": "Days",
    "begin": "BeginDateTime",
    "end": "EndDateTime",
    "begin_filter": "BeginFilterTime",
    "end_filter": "EndFilterTime",
    "interval": "Interval",
    "interval_type": "IntervalType",
    "label_at_beginning": "LabelAtBeginning",
}
_DATE_NAMES = {"begin": "BeginDate", "end": "EndDate"}
_INTERVAL_TYPES = ("s", "t", "v")


def _wire_name(name: str, verb: str) -> str:
    """The protocol document's name of field ``name`` in a ``verb`` request (for error messages)."""
    return _DATE_NAMES[name] if verb == "HDT" and name in _DATE_NAMES else _WIRE_NAMES[name]


def _wire_fields(verb: str) -> tuple[str, ...]:
    names = _WIRE_FIELDS.get(verb)
    if names is None:
        raise ProtocolError(f"{verb!r} is not a history request; expected one of {sorted(_WIRE_FIELDS)}")
    return names


# ----------------------------------------------------------------------------------------------
# values


def _whole(value: object) -> int | None:
    """``value`` as an int when it is an integer (bool excluded), else None."""
    if isinstance(value, bool | np.bool_) or not isinstance(value, int | np.integer):
        return None
    return int(value)


def _wire_moment(value: object, what: str, date_only: bool) -> pd.Timestamp:
    """New York time as the wire carries it: to the second (or the day), the repeated November
    hour read as daylight time; naive values are New York wall time."""
    t: pd.Timestamp | None = None
    if isinstance(value, str | dt.date | np.datetime64):
        try:
            t = pd.Timestamp(value)
        except (TypeError, ValueError):
            t = None
    if t is None or t is pd.NaT:  # pd.Timestamp("NaT") returns NaT
        raise ProtocolError(f"{what} must be a timestamp, date or None (open end), not {value!r}")
    wall = t if t.tzinfo is None else t.tz_convert(schema.TZ).tz_localize(None)
    wall = wall.normalize() if date_only else wall.floor("s")
    return wall.tz_localize(schema.TZ, ambiguous=True, nonexistent="shift_forward")


@dataclass(frozen=True, kw_only=True)
class _Request:
    """Fields every history request has. ``max_points`` None (or 0) means all; ``direction`` 1 is
    oldest first, 0 newest first; ``per_send`` is how many lines the server writes per burst."""

    kinds: ClassVar[tuple[str, ...]] = ()

    kind: str
    symbol: str
    request_id: str
    max_points: int | None = None
    direction: int = 1
    per_send: int = DEFAULT_PER_SEND

    def __post_init__(self) -> None:
        """Check every field against its kind and keep it in the form the wire carries."""
        if self.kind not in self.kinds:
            raise ProtocolError(
                f"{type(self).__name__} kind must be one of {', '.join(self.kinds)}, not {self.kind!r}"
            )
        used = _wire_fields(self.kind)
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name == "kind":
                continue
            if f.name not in used:
                if value is not None:
                    takers = sorted(v for v in self.kinds if f.name in _WIRE_FIELDS[v])
                    raise ProtocolError(
                        f"{self.kind} takes no {f.name} (only {', '.join(takers)} take it), got {value!r}"
                    )
                continue
            object.__setattr__(self, f.name, _CHECKS[f.name](self, value, f"{self.kind} {f.name}"))


def _check_symbol(request: _Request, value: object, what: str) -> str:
    if not isinstance(value, str) or not value or "," in value or " " in value or CONTROL_CHARS.search(value):
        raise ProtocolError(
            f"{what} must be non-empty text without commas, spaces or control characters, not {value!r}"
        )
    return _latin1(value, what)


def _check_request_id(request: _Request, value: object, what: str) -> str:
    if not isinstance(value, str) or "," in value or CONTROL_CHARS.search(value) or value != value.strip():
        raise ProtocolError(
            f"{what} must be text without commas, control characters or surrounding spaces "
            f"(empty for none), not {value!r}"
        )
    return _latin1(value, what)


def _latin1(text: str, what: str) -> str:
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        raise ProtocolError(f"{what} {text!r} is not latin-1 text, which IQFeed fields are") from None
    return text


def _check_count(minimum: int, optional: bool = False) -> Callable[[_Request, object, str], int | None]:
    def check(request: _Request, value: object, what: str) -> int | None:
        if optional and value is None:
            return None
        number = _whole(value)
        if number is None or number < minimum:
            allowed = f"an int >= {minimum}" + (", or None for all" if optional else "")
            raise ProtocolError(f"{what} must be {allowed}, not {value!r}")
        return None if optional and number == 0 else number

    return check


def _check_direction(request: _Request, value: object, what: str) -> int:
    number = _whole(value)
    if number is None or number not in (0, 1):
        raise ProtocolError(f"{what} must be 0 (newest first) or 1 (oldest first), not {value!r}")
    return number


def _check_moment(request: _Request, value: object, what: str) -> pd.Timestamp | None:
    return None if value is None else _wire_moment(value, what, date_only=request.kind == "HDT")


def _check_filter(request: _Request, value: object, what: str) -> dt.time | None:
    if value is None:
        return None
    if not isinstance(value, dt.time):
        raise ProtocolError(f"{what} must be a datetime.time (New York wall time) or None, not {value!r}")
    return dt.time(value.hour, value.minute, value.second)


def _check_interval_type(request: _Request, value: object, what: str) -> str:
    if value not in _INTERVAL_TYPES:
        raise ProtocolError(f"{what} must be 's' (seconds), 't' (trades) or 'v' (volume), not {value!r}")
    return str(value)


def _check_label(request: _Request, value: object, what: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise ProtocolError(
            f"{what} must be True (label bars by their start) or False (by their end), not {value!r}"
        )
    return bool(value)


_CHECKS: dict[str, Callable[[_Request, Any, str], Any]] = {
    "symbol": _check_symbol,
    "request_id": _check_request_id,
    "max_points": _check_count(0, optional=True),
    "direction": _check_direction,
    "per_send": _check_count(1),
    "days": _check_count(0),
    "begin": _check_moment,
    "end": _check_moment,
    "begin_filter": _check_filter,
    "end_filter": _check_filter,
    "interval": _check_count(1),
    "interval_type": _check_interval_type,
    "label_at_beginning": _check_label,
}


@dataclass(frozen=True, kw_only=True)
class _WindowRequest(_Request):
    """What tick and interval requests share: a count of days (HxD) or a time range (HxT), and
    time-of-day filters. Times are New York time to the second; None is an open end."""

    days: int | None = None
    begin: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    begin_filter: dt.time | None = None
    end_filter: dt.time | None = None


@dataclass(frozen=True, kw_only=True)
class TickRequest(_WindowRequest):
    """HTX (last ``max_points`` trades), HTD (last ``days`` calendar days) or HTT (``begin`` to
    ``end``): trades with their quotes."""

    kinds: ClassVar[tuple[str, ...]] = ("HTX", "HTD", "HTT")


@dataclass(frozen=True, kw_only=True)
class IntervalRequest(_WindowRequest):
    """HIX / HID / HIT: interval bars of ``interval`` seconds (``interval_type`` s), trades (t) or
    volume (v), labelled by their end unless ``label_at_beginning``."""

    kinds: ClassVar[tuple[str, ...]] = ("HIX", "HID", "HIT")

    interval: int
    interval_type: str = "s"
    label_at_beginning: bool = False


@dataclass(frozen=True, kw_only=True)
class DailyRequest(_Request):
    """HDX / HWX / HMX (last N bars) and HDT (a date range, both ends inclusive, midnight)."""

    kinds: ClassVar[tuple[str, ...]] = ("HDX", "HWX", "HMX", "HDT")

    begin: pd.Timestamp | None = None
    end: pd.Timestamp | None = None


HistoryRequest = TickRequest | IntervalRequest | DailyRequest
_REQUEST_TYPES: dict[str, type[TickRequest | IntervalRequest | DailyRequest]] = {
    verb: cls for cls in (TickRequest, IntervalRequest, DailyRequest) for verb in cls.kinds
}


# ----------------------------------------------------------------------------------------------
# wire text: one reader and one writer per field


def _read_int(text: str, name: str, minimum: int) -> int:
    t = text.strip()
    if not t.isdigit() or int(t) < minimum:
        raise ProtocolError(f"{name} must be an integer >= {minimum}, not {text!r}")
    return int(t)


def _read_symbol(text: str, verb: str) -> str:
    symbol = text.strip()
    if not symbol or " " in symbol:
        raise ProtocolError(f"{verb}: symbol must be non-empty, not {text!r}")
    return symbol


def _read_request_id(text: str, verb: str) -> str:
    return text.strip()


def _read_max_points(text: str, verb: str) -> int | None:
    return (_read_int(text, "MaxDatapoints", 0) or None) if text.strip() else None


def _read_direction(text: str, verb: str) -> int:
    direction = _read_int(text, "DataDirection", 0) if text.strip() else 0
    if direction > 1:
        raise ProtocolError(f"DataDirection must be 0 or 1, not {text!r}")
    return direction


def _read_per_send(text: str, verb: str) -> int:
    return (_read_int(text, "DatapointsPerSend", 0) if text.strip() else 0) or DEFAULT_PER_SEND


def _read_days(text: str, verb: str) -> int:
    return _read_int(text, "Days", 0)


def _read_interval(text: str, verb: str) -> int:
    return _read_int(text, "Interval", 1)


def _read_moment(name: str) -> Callable[[str, str], pd.Timestamp | None]:
    def read(text: str, verb: str) -> pd.Timestamp | None:
        t = text.strip()
        if not t:
            return None
        date_only = verb == "HDT"
        wire = _wire_name(name, verb)
        date_part, _, time_part = t.partition(" ")
        time_part = time_part.replace(":", "")
        ok = len(date_part) == 8 and date_part.isdigit() and (not time_part or len(time_part) == 6)
        if not ok or (date_only and time_part) or (time_part and not time_part.isdigit()):
            raise ProtocolError(
                f"{wire} must be {'CCYYMMDD' if date_only else 'CCYYMMDD HHmmSS'}, not {text!r}"
            )
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
            raise ProtocolError(f"{wire} {text!r} is not a valid date and time") from None
        return naive.tz_localize(schema.TZ, ambiguous=True, nonexistent="shift_forward")

    return read


def _read_filter(name: str) -> Callable[[str, str], dt.time | None]:
    def read(text: str, verb: str) -> dt.time | None:
        t = text.strip().replace(":", "")
        if not t:
            return None
        wire = _WIRE_NAMES[name]
        if len(t) != 6 or not t.isdigit():
            raise ProtocolError(f"{wire} must be HHmmSS, not {text!r}")
        try:
            return dt.time(int(t[:2]), int(t[2:4]), int(t[4:]))
        except ValueError:
            raise ProtocolError(f"{wire} {text!r} is not a time of day") from None

    return read


def _read_interval_type(text: str, verb: str) -> str:
    itype = text.strip().lower() or "s"
    if itype not in _INTERVAL_TYPES:
        raise ProtocolError(f"IntervalType must be s, t or v, not {text!r}")
    return itype


def _read_label(text: str, verb: str) -> bool:
    label = text.strip() or "0"
    if label not in ("0", "1"):
        raise ProtocolError(f"LabelAtBeginning must be 0 or 1, not {text!r}")
    return label == "1"


def _write_text(value: Any, verb: str) -> str:
    return str(value)


def _write_optional(value: Any, verb: str) -> str:
    return "" if value is None else str(value)


def _write_moment(value: pd.Timestamp | None, verb: str) -> str:
    if value is None:
        return ""
    return value.strftime("%Y%m%d" if verb == "HDT" else "%Y%m%d %H%M%S")


def _write_filter(value: dt.time | None, verb: str) -> str:
    return "" if value is None else value.strftime("%H%M%S")


def _write_label(value: bool, verb: str) -> str:
    return "1" if value else "0"


_CODECS: dict[str, tuple[Callable[[str, str], Any], Callable[[Any, str], str]]] = {
    "symbol": (_read_symbol, _write_text),
    "request_id": (_read_request_id, _write_text),
    "max_points": (_read_max_points, _write_optional),
    "direction": (_read_direction, _write_text),
    "per_send": (_read_per_send, _write_text),
    "days": (_read_days, _write_text),
    "begin": (_read_moment("begin"), _write_moment),
    "end": (_read_moment("end"), _write_moment),
    "begin_filter": (_read_filter("begin_filter"), _write_filter),
    "end_filter": (_read_filter("end_filter"), _write_filter),
    "interval": (_read_interval, _write_text),
    "interval_type": (_read_interval_type, _write_text),
    "label_at_beginning": (_read_label, _write_label),
}


# ----------------------------------------------------------------------------------------------
# requests <-> command lines


def format_request(request: HistoryRequest) -> bytes:
    """The command line (with CR LF) asking IQConnect for ``request``.

    Example: ``format_request(TickRequest(kind="HTX", symbol="AAPL", request_id="R1", max_points=100))``
    -> ``b"HTX,AAPL,100,1,R1,500\\r\\n"``.
    """
    if not isinstance(request, TickRequest | IntervalRequest | DailyRequest):
        raise TypeError(
            f"format_request takes a TickRequest, IntervalRequest or DailyRequest, not {request!r}"
        )
    verb = request.kind
    return command_line(
        verb, *(_CODECS[name][1](getattr(request, name), verb) for name in _WIRE_FIELDS[verb])
    )


def parse_history_request(cmd: Command) -> HistoryRequest:
    """Typed fields of an HTX/HTD/HTT/HIX/HID/HIT/HDX/HWX/HMX/HDT command.

    Missing trailing fields count as empty. Empty or 0 MaxDatapoints -> None (all); empty
    direction -> 0; empty DatapointsPerSend -> DEFAULT_PER_SEND; empty IntervalType -> 's'.
    Raises ProtocolError naming the bad field (the simulator answers ``!SYNTAX_ERROR!``).
    """
    names = _wire_fields(cmd.verb)
    if len(cmd.args) > len(names):
        raise ProtocolError(
            f"{cmd.verb} takes at most {len(names)} fields ({', '.join(names)}), got {len(cmd.args)}"
        )
    texts = [*cmd.args, *[""] * (len(names) - len(cmd.args))]
    values = {name: _CODECS[name][0](text, cmd.verb) for name, text in zip(names, texts, strict=True)}
    return _REQUEST_TYPES[cmd.verb](kind=cmd.verb, **values)


def request_id_position(verb: str) -> int:
    """Index of the RequestID among a history command's args (e.g. 3 for HTX)."""
    return _wire_fields(verb).index("request_id")


def has_request_id(cmd: Command) -> bool:
    """True when ``cmd`` is a history request whose RequestID field is present and non-empty."""
    if cmd.verb not in _WIRE_FIELDS:
        return False
    at = request_id_position(cmd.verb)
    return len(cmd.args) > at and cmd.args[at].strip() != ""


def request_id_of(command: bytes | str) -> str:
    """The RequestID of a history command line (as built by ``format_request``); "" when it has none."""
    cmd = parse_command(command)
    return cmd.args[request_id_position(cmd.verb)].strip() if has_request_id(cmd) else ""
