"""ArcticDB library names and symbol keys: the one place that builds them.

Keys are built from validated parts only, so a symbol can never smuggle a path separator,
a wildcard or an empty part into storage.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from oss20 import calendar
from oss20.symbols import validate_symbol

TICKS = "tick_data"
TIME_BARS = "bars_time_bars"
VOLUME_BARS = "bars_volume_bars"
QUARANTINE = "quarantine"
METADATA = ("metadata_tier1", "metadata_tier2", "metadata_tier3")
LIBRARIES = (TICKS, TIME_BARS, VOLUME_BARS, *METADATA, QUARANTINE)

ASSET_CLASSES = ("equity", "index", "future", "option", "forex")
MALFORMED = "malformed"
"""Quarantine keys ``malformed/{date}`` hold feed lines that could not be parsed at all."""

_NUMBER = r"[0-9][0-9.e+]*"
_INTERVAL = re.compile(rf"^[a-z0-9_]+(?::{_NUMBER}|\([a-z_]+={_NUMBER}(?:,[a-z_]+={_NUMBER})*\))?$")


@dataclass(frozen=True)
class Key:
    """A parsed storage key: which library, and the parts it was built from."""

    library: str
    symbol: str
    day: dt.date
    asset_class: str = "equity"
    interval: str = ""
    tier: int = 0


def key(
    library: str,
    symbol: str,
    day: dt.date | str,
    *,
    asset_class: str = "equity",
    interval: str = "",
    tier: int = 0,
) -> str:
    """The ArcticDB symbol for ``symbol``'s ``day`` in ``library``, in the system design's layout.

    ``tick_data`` and ``quarantine``: ``{asset_class}/{symbol}/{YYYY-MM-DD}``; bar libraries:
    ``{symbol}/{interval}/{YYYY-MM-DD}``; ``metadata_tierN``: ``{symbol}/{interval}/{YYYY-MM-DD}/tierN``.
    Raises ValueError naming the bad part.

    >>> key("tick_data", "aapl", "2025-01-02")
    'equity/AAPL/2025-01-02'
    """
    ticker = validate_symbol(symbol)
    date = calendar.to_date(day).isoformat()
    if library in (TICKS, QUARANTINE):
        return f"{_asset_class(asset_class)}/{ticker}/{date}"
    if library.startswith("bars_"):
        return f"{ticker}/{_interval(interval)}/{date}"
    if library in METADATA:
        expected = METADATA.index(library) + 1
        if tier != expected:
            raise ValueError(f"library {library} holds tier {expected} metadata, not tier {tier}")
        return f"{ticker}/{_interval(interval)}/{date}/tier{tier}"
    raise ValueError(f"unknown library {library!r}; expected one of {', '.join(LIBRARIES)} or bars_<family>")


def malformed_key(day: dt.date | str) -> str:
    """The quarantine key for one day's unparseable feed lines."""
    return f"{MALFORMED}/{calendar.to_date(day).isoformat()}"


def bar_key_pattern(symbol: str, interval: str) -> str:
    """A regex matching every stored day of ``symbol``'s bars of ``interval`` (for ``list_symbols``)."""
    return rf"^{re.escape(validate_symbol(symbol))}/{re.escape(_interval(interval))}/\d{{4}}-\d{{2}}-\d{{2}}$"


def parse_tick_key(text: str) -> Key:
    """Split a ``tick_data`` key back into its parts (and check them)."""
    parts = text.split("/")
    if len(parts) != 3:
        raise ValueError(f"not a tick key: {text!r}; expected asset_class/SYMBOL/YYYY-MM-DD")
    asset_class, symbol, day = parts
    parsed = Key(TICKS, validate_symbol(symbol), calendar.to_date(day), _asset_class(asset_class))
    if key(TICKS, parsed.symbol, parsed.day, asset_class=parsed.asset_class) != text:
        raise ValueError(f"not a canonical tick key: {text!r}")
    return parsed


def parse_bar_key(text: str, library: str = TIME_BARS) -> Key:
    """Split a bar key (``{symbol}/{interval}/{YYYY-MM-DD}``) back into its parts (and check them)."""
    parts = text.split("/")
    if len(parts) != 3:
        raise ValueError(f"not a bar key: {text!r}; expected SYMBOL/interval/YYYY-MM-DD")
    symbol, interval, day = parts
    return Key(library, validate_symbol(symbol), calendar.to_date(day), interval=_interval(interval))


def tick_key_pattern(symbol: str, asset_class: str = "equity") -> str:
    """A regex matching every stored day of ``symbol`` (for ``list_symbols``)."""
    return rf"^{_asset_class(asset_class)}/{re.escape(validate_symbol(symbol))}/\d{{4}}-\d{{2}}-\d{{2}}$"


def _asset_class(value: str) -> str:
    if value not in ASSET_CLASSES:
        raise ValueError(f"unknown asset class {value!r}; expected one of {', '.join(ASSET_CLASSES)}")
    return value


def _interval(value: str) -> str:
    if not _INTERVAL.fullmatch(value):
        raise ValueError(
            f"not a bar interval: {value!r}; expected a bar spec's name such as "
            "'5min', '1d', 'volume:10000' or 'tick_imbalance(expected_ticks=500)'"
        )
    return value
