from __future__ import annotations

import numpy as np
import pytest

from oss20.iqfeed.faults import FaultPlan, inject

LINES = b"".join(b"Q,AAPL,%d.25,100,\n" % i for i in range(1000))


def test_healthy_plan_changes_nothing() -> None:
    assert inject(LINES, FaultPlan(), np.random.default_rng(1), 2) == LINES


def test_duplicates_repeat_lines() -> None:
    out = inject(LINES, FaultPlan(duplicate_rate=0.1), np.random.default_rng(1), 2).split(b"\n")[:-1]
    assert 1050 < len(out) < 1150
    assert set(out) == set(LINES.split(b"\n")[:-1])


def test_reordering_keeps_every_line() -> None:
    out = inject(LINES, FaultPlan(reorder_rate=0.1), np.random.default_rng(1), 2).split(b"\n")[:-1]
    assert sorted(out) == sorted(LINES.split(b"\n")[:-1]) and out != LINES.split(b"\n")[:-1]


def test_bad_prices_are_negative() -> None:
    out = inject(LINES, FaultPlan(bad_price_rate=0.05), np.random.default_rng(1), 2).split(b"\n")[:-1]
    bad = [line for line in out if line.split(b",")[2].startswith(b"-")]
    assert 20 < len(bad) < 90 and len(out) == 1000


def test_off_prices_are_five_percent_away_and_keep_their_decimals() -> None:
    out = inject(LINES, FaultPlan(off_price_rate=0.05), np.random.default_rng(1), 2).split(b"\n")[:-1]
    moved = [(a, b) for a, b in zip(LINES.split(b"\n"), out, strict=False) if a != b]
    assert 20 < len(moved) < 90 and len(out) == 1000
    for before, after in moved:
        old, new = before.split(b",")[2], after.split(b",")[2]
        assert float(new) == pytest.approx(float(old) * 1.05, abs=0.006)
        assert len(new.partition(b".")[2]) == len(old.partition(b".")[2])


def test_malformed_lines_are_cut_with_junk() -> None:
    out = inject(LINES, FaultPlan(malformed_rate=0.05), np.random.default_rng(1), 2).split(b"\n")[:-1]
    assert 20 < sum(b"#junk" in line for line in out) < 90


def test_out_of_range_rates_are_refused() -> None:
    with pytest.raises(ValueError, match="duplicate_rate=2"):
        FaultPlan(duplicate_rate=2)
