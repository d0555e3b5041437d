"""The admin port's once-a-second ``S,STATS`` line: format (simulator) and parse (client); what it and
the ``S,SERVER ...`` messages say about IQConnect's link to DTN (``feed_state``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from oss20.iqfeed.protocol._text import ny, value_text
from oss20.iqfeed.protocol.errors import ProtocolError
from oss20.iqfeed.protocol.fields import STATS_FIELDS
from oss20.iqfeed.protocol.messages import format_system

_STATS_TIME = "%b %d %I:%M%p"


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
            texts.append(ny(v).strftime(_STATS_TIME))
        elif name == "status" and isinstance(v, bool | np.bool_):
            texts.append("Connected" if v else "Not Connected")
        elif name.startswith(("kb", "avg")) and isinstance(v, int | float | np.number):
            texts.append(f"{float(v):.2f}")
        else:
            texts.append(value_text(v, f"stats {name!r}"))
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


SERVER_STATES = {"SERVER CONNECTED": True, "SERVER DISCONNECTED": False, "SERVER RECONNECT FAILED": False}
"""IQConnect's server state messages (streaming and admin ports) -> connected to DTN or not."""


@dataclass(frozen=True)
class FeedState:
    """IQConnect's link to DTN as one line tells it: connected or not, and (``S,STATS`` only) how
    many times it has reconnected."""

    connected: bool
    reconnects: int | None = None


def feed_state(message: Sequence[str] | bytes | str) -> FeedState | None:
    """The feed state an ``S,STATS`` or ``S,SERVER ...`` line (raw, or split into fields) reports;
    None for any other line."""
    if isinstance(message, bytes | bytearray):
        message = message.decode("latin-1")
    if isinstance(message, str):
        message = message.rstrip("\r\n").split(",")
    if len(message) < 2 or message[0] != "S":
        return None
    if message[1] in SERVER_STATES:
        return FeedState(SERVER_STATES[message[1]])
    if message[1] == "STATS":
        stats = parse_stats(message)
        return FeedState(stats["status"] is True, int(str(stats["reconnects"])))
    return None
