"""Ticker validation: symbols become storage keys and SQL parameters, so only real tickers pass."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

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


def shard(symbols: Sequence[str], spec: str) -> list[str]:
    """The symbols shard ``spec`` ("K/N", 1 <= K <= N) owns: a stable hash of each ticker (BLAKE2b,
    the same in every process and on every machine; CRC-32 left whole residues empty) modulo N picks
    its one owner, so N collectors given the same watchlist split it without overlap and without a gap."""
    k, n = _shard_spec(spec)
    return [s for s in symbols if _bucket(validate_symbol(s), n) == k - 1]


def _bucket(ticker: str, n: int) -> int:
    return int.from_bytes(hashlib.blake2b(ticker.encode(), digest_size=8).digest(), "big") % n


def _shard_spec(spec: str) -> tuple[int, int]:
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec)
    if match is None or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"not a shard: {spec!r}; expected K/N with 1 <= K <= N, e.g. 1/3")
    return int(match[1]), int(match[2])
