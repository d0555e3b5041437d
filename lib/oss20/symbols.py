"""Ticker validation: symbols become storage keys and SQL parameters, so only real tickers pass."""

from __future__ import annotations

import re

TICKER = re.compile(r"^[A-Z][A-Z0-9]{0,9}(?:[.\-][A-Z0-9]{1,4})?$")


def validate_symbol(symbol: str) -> str:
    """Return ``symbol`` stripped and upper-cased, or raise ValueError saying what a ticker looks like."""
    if not isinstance(symbol, str):
        raise ValueError(f"a symbol must be text, got {type(symbol).__name__}")
    text = symbol.strip().upper()
    if not TICKER.fullmatch(text):
        raise ValueError(
            f"not a valid ticker: {symbol!r}; expected 1-10 letters or digits starting with a letter, "
            "optionally a class suffix such as BRK.B"
        )
    return text
