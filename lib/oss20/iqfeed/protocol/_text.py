"""Single-value text helpers shared by the formatters and command builders.

Field checks (latin-1, no commas or line ends), exact price text, fundamental/stats value text,
New York time, and the CR LF framing of client commands.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import numpy as np
import pandas as pd

from oss20 import schema

CONTROL_CHARS = re.compile(r"[\x00-\x1f\x7f]")
"""ASCII control characters: never valid inside a command."""


def ny(ts: Any) -> pd.Timestamp:
    """A Timestamp in New York time; naive values are taken as New York wall time."""
    t = pd.Timestamp(ts)
    return t.tz_localize(schema.TZ) if t.tzinfo is None else t.tz_convert(schema.TZ)


def price_text(x: float) -> str:
    """Shortest decimal text that reads back as x; NaN -> empty."""
    if x != x:
        return ""
    if not np.isfinite(x):
        raise ValueError(f"cannot send {x!r} as an IQFeed number: prices are finite or empty (NaN)")
    return np.format_float_positional(x, unique=True, trim="-")


def check_text(text: str, what: str) -> bytes:
    """latin-1 bytes of a field value; commas and line ends would break the framing."""
    if "," in text or "\n" in text or "\r" in text:
        raise ValueError(f"{what} {text!r} contains a comma or line end, which IQFeed fields cannot carry")
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError(f"{what} {text!r} is not latin-1 text") from None


def value_text(value: object, what: str) -> str:
    """Text of one fundamental/stats value: numbers shortest, dates MM/DD/CCYY, None/NaN empty."""
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return "1" if value else "0"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        return price_text(float(value))
    if isinstance(value, dt.date | np.datetime64):
        t = pd.Timestamp(value)
        return "" if t is pd.NaT else t.strftime("%m/%d/%Y")
    text = str(value)
    check_text(text, what)
    return text


def command_line(*fields: str) -> bytes:
    """A client command: ``fields`` joined by commas, ended by CR LF as IQConnect expects."""
    return (",".join(fields) + "\r\n").encode("latin-1")
