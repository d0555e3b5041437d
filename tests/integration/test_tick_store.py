"""TickStore on real ArcticDB (LMDB in a temp dir): exactly-once merges, compaction, batch reads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.market import Market
from oss20.schema import TICK_COLUMNS
from oss20.storage.arctic import COMPACT_EVERY, TickStore
from tests.conftest import DAY

pytestmark = pytest.mark.integration

NEXT_DAY = dt.date(2025, 1, 3)
ORDER = ["symbol", "timestamp", "market_center", "tick_id"]


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(ORDER, kind="stable").reset_index(drop=True)


@pytest.fixture
def store(tmp_path: Path) -> TickStore:
    return TickStore(f"lmdb://{tmp_path / 'arctic'}")


def test_any_mix_of_repeats_and_orders_stores_each_tick_once(store: TickStore, market: Market) -> None:
    truth = market.ticks("AAPL", DAY)
    rng = np.random.default_rng(3)
    chunks = [truth.iloc[i : i + 300] for i in range(0, len(truth), 300)]
    assert store.merge(chunks[0]) == len(chunks[0])
    for chunk in chunks[1:]:
        store.merge(chunk)
        store.merge(chunk.sample(frac=0.3, random_state=1))
    assert store.merge(truth) == 0
    late = truth.iloc[rng.choice(len(truth), 200, replace=False)]
    assert store.merge(late) == 0
    pd.testing.assert_frame_equal(canonical(store.read("AAPL", DAY)), canonical(truth))


def test_ticks_arriving_before_stored_ones_are_merged_in_time_order(store: TickStore, market: Market) -> None:
    truth = market.ticks("AAPL", DAY)
    half = len(truth) // 2
    store.merge(truth.iloc[half:])
    assert store.merge(truth.iloc[:half]) == half
    stored = store.read("AAPL", DAY)
    assert stored["timestamp"].is_monotonic_increasing
    pd.testing.assert_frame_equal(canonical(stored), canonical(truth))


def test_a_second_store_on_the_same_path_sees_what_the_first_wrote(tmp_path: Path, market: Market) -> None:
    truth = market.ticks("KO", DAY)
    first, second = TickStore(f"lmdb://{tmp_path}"), TickStore(f"lmdb://{tmp_path}")
    first.merge(truth.iloc[:100])
    second.merge(truth.iloc[:150])
    assert first.merge(truth.iloc[:200]) == 50
    assert first.count("KO", DAY) == 200


def test_live_appends_are_compacted_into_few_segments(store: TickStore, market: Market) -> None:
    truth = market.ticks("MSFT", DAY)
    step = max(1, len(truth) // (COMPACT_EVERY + 40))
    for i in range(0, len(truth), step):
        store.merge(truth.iloc[i : i + step])
    assert store.segments("MSFT", DAY) < 60
    store.compact()
    assert store.segments("MSFT", DAY) == 1
    pd.testing.assert_frame_equal(canonical(store.read("MSFT", DAY)), canonical(truth))


def test_batch_reads_across_symbols_and_days_with_filters(store: TickStore, market: Market) -> None:
    frames = [market.ticks(s, d) for s in ("AAPL", "MSFT") for d in (DAY, NEXT_DAY)]
    store.merge(pd.concat(frames, ignore_index=True))
    both = store.read_range(["AAPL", "MSFT"], DAY, NEXT_DAY)
    pd.testing.assert_frame_equal(canonical(both), canonical(pd.concat(frames)))
    start, end = pd.Timestamp("2025-01-02 10:00"), pd.Timestamp("2025-01-02 11:00")
    window = store.read_range(["MSFT"], DAY, DAY, columns=["price", "size"], start=start, end=end)
    expected = frames[2].loc[
        frames[2]["timestamp"].between(
            start.tz_localize("America/New_York"), end.tz_localize("America/New_York")
        ),
        ["timestamp", "symbol", "price", "size"],
    ]
    pd.testing.assert_frame_equal(window, expected.reset_index(drop=True))
    assert store.days("AAPL") == [DAY, NEXT_DAY]
    assert store.last_tick("AAPL", DAY) == frames[0]["timestamp"].max()
    assert store.read_range(["KO"], DAY, NEXT_DAY).columns.tolist() == list(TICK_COLUMNS)
    with pytest.raises(ValueError, match="unknown tick columns"):
        store.read("AAPL", DAY, columns=["prize"])


def test_quarantine_and_malformed_lines_are_kept_with_reasons(store: TickStore, market: Market) -> None:
    bad = market.ticks("AAPL", DAY).head(3).assign(reason=["price_range", "duplicate", "hours"])
    store.put_quarantine(bad)
    store.put_quarantine(bad.head(1))
    kept = store.quarantined("AAPL", DAY)
    assert kept["reason"].tolist() == ["price_range", "duplicate", "hours", "price_range"]
    assert kept["symbol"].eq("AAPL").all()
    pd.testing.assert_series_equal(kept["timestamp"].head(3), bad["timestamp"])
    lines = pd.DataFrame(
        {
            "received": pd.Timestamp("2025-01-02 10:00", tz="America/New_York"),
            "line": ["Q,AAPL,12x", "junk"],
            "reason": ["bad price", "unknown message"],
        }
    )
    store.put_malformed(lines)
    assert store.malformed(DAY)["line"].tolist() == ["Q,AAPL,12x", "junk"]
    assert (store.malformed(DAY)["received"] == lines["received"]).all()


def test_old_symbol_days_are_compacted_and_forgotten_as_days_move_on(
    store: TickStore, market: Market
) -> None:
    monday = dt.date(2025, 1, 6)
    for day in (DAY, NEXT_DAY, monday):
        ticks = market.ticks("KO", day)
        for i in range(0, len(ticks), 50):
            store.merge(ticks.iloc[i : i + 50])
    assert store.segments("KO", DAY) == 1
    assert store.merge(market.ticks("KO", DAY)) == 0, "a forgotten day is reloaded, not stored twice"
    assert store.count("KO", DAY) == len(market.ticks("KO", DAY))
