"""Small server messages: S (system), T (timestamp), E (error), n (unknown symbol), F (fundamentals)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from oss20.iqfeed.protocol._text import check_text, ny, value_text
from oss20.iqfeed.protocol.fields import FUNDAMENTAL_FIELDS


def format_fundamental(values: Mapping[str, object], fields: Sequence[str] = FUNDAMENTAL_FIELDS) -> bytes:
    """One F line: ``values`` by IQFeed field name in ``fields`` order, missing ones empty.

    Raises KeyError for names that are not in ``fields`` (a typo would otherwise vanish).
    """
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise KeyError(f"fundamental values {unknown} are not fields; expected names from {list(fields)}")
    texts = [value_text(values.get(name), f"fundamental {name!r}") for name in fields]
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
    return ("T," + ny(ts).strftime("%Y%m%d %H:%M:%S") + "\n").encode()


def format_error(text: str) -> bytes:
    """An ``E,<text>`` line."""
    return b"E," + check_text(text, "error text") + b"\n"


def format_unknown_symbol(symbol: str) -> bytes:
    """The ``n,<SYM>`` line answering a watch of an unknown symbol."""
    return b"n," + check_text(symbol, "symbol") + b"\n"
