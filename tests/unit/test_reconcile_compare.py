"""The end-of-day comparison: stored ticks against history per market center, by TickID, count and volume."""

from __future__ import annotations

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from oss20.backfill.reconcile import COMPARISON_COLUMNS, compare, missing_ticks, snapshot_name


def ticks(rows: list[tuple[int, int, int]]) -> pd.DataFrame:
    """(market center, TickID, size) rows as a frame of those columns."""
    frame = pd.DataFrame(rows, columns=["market_center", "tick_id", "size"])
    return frame.astype({"market_center": np.int16, "tick_id": np.int64, "size": np.int64})


def test_equal_days_differ_in_nothing() -> None:
    day = ticks([(11, 1, 100), (11, 2, 200), (19, 1, 5)])
    out = compare(day, day)
    assert list(out.columns) == COMPARISON_COLUMNS
    assert out.to_dict("list") == {
        "market_center": [11, 19],
        "live_count": [2, 1],
        "history_count": [2, 1],
        "missing": [0, 0],
        "extra": [0, 0],
        "volume_difference": [0, 0],
    }
    assert missing_ticks(day, day).empty


def test_venues_reusing_tick_ids_are_told_apart() -> None:
    live = ticks([(11, 1, 100), (11, 2, 200), (12, 3, 7)])
    history = ticks([(11, 1, 100), (11, 2, 200), (11, 3, 300), (19, 1, 10), (19, 2, 20)])
    out = compare(live, history).set_index("market_center")
    assert out.loc[11].to_dict() == {
        "live_count": 2,
        "history_count": 3,
        "missing": 1,
        "extra": 0,
        "volume_difference": 300,
    }
    assert out.loc[12].to_dict() == {
        "live_count": 1,
        "history_count": 0,
        "missing": 0,
        "extra": 1,
        "volume_difference": -7,
    }
    assert out.loc[19, "missing"] == 2 and out.loc[19, "volume_difference"] == 30
    assert missing_ticks(live, history)[["market_center", "tick_id"]].values.tolist() == [
        [11, 3],
        [19, 1],
        [19, 2],
    ]


def test_empty_sides() -> None:
    day = ticks([(11, 1, 100)])
    assert compare(ticks([]), day)["missing"].tolist() == [1]
    assert compare(day, ticks([]))["extra"].tolist() == [1]
    assert compare(ticks([]), ticks([])).empty


def test_snapshot_names_carry_the_day_and_the_run() -> None:
    run = pd.Timestamp("2025-01-02 18:05:01.5", tz="America/New_York")
    assert (
        snapshot_name(pd.Timestamp("2025-01-02").date(), run) == "reconcile-2025-01-02-20250102T230501500000Z"
    )


identities = st.sets(st.tuples(st.integers(1, 4), st.integers(1, 40)), max_size=60)


@given(identities, identities)
def test_counts_add_up(live_ids: set[tuple[int, int]], feed_ids: set[tuple[int, int]]) -> None:
    live = ticks([(mc, tid, mc * tid) for mc, tid in sorted(live_ids)])
    history = ticks([(mc, tid, mc * tid) for mc, tid in sorted(feed_ids)])
    out = compare(live, history)
    assert out["missing"].sum() == len(feed_ids - live_ids) == len(missing_ticks(live, history))
    assert out["extra"].sum() == len(live_ids - feed_ids)
    assert (out["history_count"] - out["missing"] == out["live_count"] - out["extra"]).all()
    assert out["volume_difference"].sum() == history["size"].sum() - live["size"].sum()
