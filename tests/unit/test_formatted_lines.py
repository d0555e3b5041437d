"""The simulator's formatted-line cache gives the same bytes as formatting the whole day at once."""

from __future__ import annotations

import itertools

import numpy as np

from oss20.iqfeed import protocol
from oss20.iqfeed.simulator import BLOCK_ROWS, KEEP_BLOCKS, FormattedLines
from oss20.market import Market


def test_slices_read_forward_and_back_equal_the_whole_day() -> None:
    frame = Market(seed=7, activity=0.1).level1("AAPL", "2025-01-02")
    assert len(frame) > (KEEP_BLOCKS + 2) * BLOCK_ROWS, "enough rows to evict blocks"
    fields = protocol.OSS20_UPDATE_FIELDS
    whole = protocol.format_level1("Q", frame, fields).splitlines(keepends=True)
    lines = FormattedLines(frame, fields)
    rng = np.random.default_rng(1)
    cuts = np.unique(np.r_[0, rng.integers(0, len(frame), 60), len(frame)])
    forward = b"".join(lines.slice(int(lo), int(hi)) for lo, hi in itertools.pairwise(cuts))
    assert forward == b"".join(whole)
    assert lines.slice(10, 20) == b"".join(whole[10:20]), "an evicted block is formatted again, identically"
    assert lines.slice(5, 5) == b""
