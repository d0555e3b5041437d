"""Shards of a watchlist: every symbol has exactly one owner, the same in every process."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from oss20.market import UNIVERSE
from oss20.symbols import shard

tickers = st.lists(st.from_regex(r"[A-Z][A-Z0-9]{0,5}", fullmatch=True), unique=True, max_size=60)


@given(tickers, st.integers(1, 8))
def test_shards_split_a_watchlist_without_overlap_or_gap(symbols: list[str], n: int) -> None:
    parts = [shard(symbols, f"{k}/{n}") for k in range(1, n + 1)]
    assert sorted(s for part in parts for s in part) == sorted(symbols)
    assert all(part == [s for s in symbols if s in part] for part in parts), (
        "each keeps the watchlist's order"
    )


def test_the_split_is_the_same_in_another_process() -> None:
    here = shard(list(UNIVERSE), "2/3")
    code = (
        "from oss20.market import UNIVERSE; from oss20.symbols import shard; "
        "print(','.join(shard(list(UNIVERSE), '2/3')))"
    )
    there = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert there.split(",") == here and 0 < len(here) < len(UNIVERSE)


@pytest.mark.parametrize("spec", ["0/3", "4/3", "1/0", "a/b", "1-3", ""])
def test_a_bad_shard_says_what_one_looks_like(spec: str) -> None:
    with pytest.raises(ValueError, match="expected K/N with 1 <= K <= N"):
        shard(["AAPL"], spec)
