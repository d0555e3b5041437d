"""TickStore.merge on columns: the frame it writes, TickArrays input, and what a failed write leaves."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.market import Market
from oss20.storage.arctic import TickStore, _disk_frame, _to_disk
from oss20.tick_arrays import TickArrays
from tests.conftest import DAY

pytestmark = pytest.mark.integration

ORDER = ["symbol", "timestamp", "market_center", "tick_id"]


def canonical(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(ORDER, kind="stable").reset_index(drop=True)


@pytest.fixture
def store(tmp_path: Path) -> TickStore:
    return TickStore(f"lmdb://{tmp_path / 'arctic'}")


def test_the_disk_frame_is_what_the_frame_path_writes(market: Market) -> None:
    truth = market.ticks("AAPL", DAY)
    shuffled = truth.sample(frac=1.0, random_state=4).reset_index(drop=True)
    arrays = TickArrays.from_frame(shuffled)
    pd.testing.assert_frame_equal(_disk_frame(arrays), _to_disk(shuffled))
    rows = np.flatnonzero(np.arange(len(shuffled)) % 3 != 1)
    pd.testing.assert_frame_equal(_disk_frame(arrays, rows), _to_disk(shuffled.iloc[rows]))
    in_order = TickArrays.from_frame(truth)
    pd.testing.assert_frame_equal(_disk_frame(in_order), _to_disk(truth))


def test_columns_and_frames_merge_alike_and_repeats_within_a_batch_count_once(
    store: TickStore, market: Market
) -> None:
    truth = market.ticks("AAPL", DAY)
    half = len(truth) // 2
    doubled = pd.concat([truth.iloc[:half], truth.iloc[:half]], ignore_index=True)
    assert store.merge(TickArrays.from_frame(doubled)) == half
    assert store.merge(TickArrays.from_frame(truth)) == len(truth) - half
    assert store.merge(truth) == 0
    assert TickStore(store.uri).merge(TickArrays.from_frame(truth)) == 0, "a new store reads the day back"
    pd.testing.assert_frame_equal(canonical(store.read("AAPL", DAY)), canonical(truth))


def test_a_batch_of_two_symbols_is_split_per_symbol_day(store: TickStore, market: Market) -> None:
    both = pd.concat([market.ticks("AAPL", DAY), market.ticks("KO", DAY)], ignore_index=True)
    assert store.merge(TickArrays.from_frame(both.sample(frac=1.0, random_state=2))) == len(both)
    assert store.count("AAPL", DAY) + store.count("KO", DAY) == len(both)
    assert store.read("KO", DAY)["timestamp"].is_monotonic_increasing


@pytest.mark.parametrize("verb", ["write", "append"])
def test_a_failed_write_forgets_the_day_so_nothing_is_lost_or_stored_twice(
    store: TickStore, market: Market, monkeypatch: pytest.MonkeyPatch, verb: str
) -> None:
    truth = market.ticks("AAPL", DAY)
    half = len(truth) // 2
    if verb == "append":
        store.merge(truth.iloc[:half])
    chunk = truth.iloc[half:] if verb == "append" else truth.iloc[:half]

    def broken(*args: object, **kwargs: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as patch:
        patch.setattr(store.ticks, verb, broken)
        with pytest.raises(OSError, match="disk full"):
            store.merge(chunk)
    assert store.merge(chunk) == len(chunk), "the identities of the failed write were not kept"
    assert store.merge(truth) == (0 if verb == "append" else len(truth) - half)
    pd.testing.assert_frame_equal(canonical(store.read("AAPL", DAY)), canonical(truth))


def test_negative_identities_are_refused_with_the_key(store: TickStore, market: Market) -> None:
    ticks = market.ticks("AAPL", DAY).head(3).copy()
    ticks.loc[1, "tick_id"] = -5
    with pytest.raises(ValueError, match="negative"):
        store.merge(ticks)
