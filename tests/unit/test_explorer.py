"""The explorer's library half: selections and filters checked, pages read by row range equal to the
ground truth (across days, with filters, while the day grows), and the export's columns."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.explore import Filters, Selection, TickPager, why_empty, write_ticks
from oss20.market import Market
from oss20.schema import TICK_COLUMNS
from oss20.storage.arctic import TickStore

DAYS = ("2025-01-02", "2025-01-03")


@pytest.fixture(scope="module")
def truth(market: Market) -> pd.DataFrame:
    return pd.concat([market.ticks("KO", day) for day in DAYS], ignore_index=True)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, truth: pd.DataFrame) -> Iterator[TickStore]:
    path: Path = tmp_path_factory.mktemp("explore")
    tick_store = TickStore(f"lmdb://{path}/arctic")
    tick_store.merge(truth)
    yield tick_store


def test_a_selection_says_what_was_wrong_with_what_was_typed() -> None:
    with pytest.raises(ValueError, match="not a valid ticker"):
        Selection.parse("ba nana", "2025-01-02")
    with pytest.raises(ValueError, match=r"ends \(2025-01-02\) before it starts \(2025-01-03\)"):
        Selection.parse("KO", "2025-01-03", "2025-01-02")
    with pytest.raises(ValueError, match="no NYSE trading day"):
        Selection.parse("KO", "2025-01-04", "2025-01-05")
    with pytest.raises(ValueError, match="not a date"):
        Selection.parse("KO", "2025-13-45")
    selection = Selection.parse(" ko ", "2025-01-02", "2025-01-06")
    assert selection.symbol == "KO" and [d.isoformat() for d in selection.days] == [
        "2025-01-02",
        "2025-01-03",
        "2025-01-06",
    ]


def test_filters_reject_inverted_ranges_and_codes_that_are_not_codes() -> None:
    with pytest.raises(ValueError, match="price range is inverted"):
        Filters(price_min=10, price_max=5)
    with pytest.raises(ValueError, match="size range is inverted"):
        Filters(size_min=500, size_max=100)
    with pytest.raises(ValueError, match="not a trade condition code"):
        Filters(condition="sweep")
    assert not Filters().active and Filters(size_min=1).columns() == ["size"]


def test_a_condition_matches_only_at_a_code_boundary() -> None:
    ticks = pd.DataFrame({"conditions": ["3D", "133D", "13D8", "", "873D17"]})
    assert Filters(condition="3D").mask(ticks).tolist() == [True, True, False, False, True]


def test_pages_equal_the_ground_truth_rows_across_days(store: TickStore, truth: pd.DataFrame) -> None:
    pager = TickPager(store, Selection.parse("KO", *DAYS))
    assert pager.total == len(truth)
    first_day = int((truth["timestamp"].dt.date.astype(str) == DAYS[0]).sum())
    for start in (0, 100, first_day - 30):
        page = pager.page(start, start + 100)
        pd.testing.assert_frame_equal(page, truth.iloc[start : start + 100].reset_index(drop=True))
    assert pager.page(len(truth) - 5, len(truth) + 50).shape[0] == 5


def test_filtered_pages_and_the_export_equal_the_filtered_ground_truth(
    store: TickStore, truth: pd.DataFrame
) -> None:
    filters = Filters(market_centers=(19, 11), size_min=100, condition="3D")
    pager = TickPager(store, Selection.parse("KO", *DAYS, filters=filters))
    expected = truth.loc[filters.mask(truth)].reset_index(drop=True)
    assert 0 < pager.total == len(expected) < len(truth)
    pd.testing.assert_frame_equal(pager.page(5, 25), expected.iloc[5:25].reset_index(drop=True))
    pd.testing.assert_frame_equal(pager.frame(), expected)


def test_a_growing_day_is_taken_in_without_rereading(
    tmp_path: Path, market: Market, truth: pd.DataFrame
) -> None:
    day = market.ticks("KO", DAYS[1])
    growing = TickStore(f"lmdb://{tmp_path}/arctic")
    growing.merge(day.iloc[:1000])
    filters = Filters(size_max=99)
    pager = TickPager(growing, Selection.parse("KO", DAYS[1], filters=filters))
    assert pager.total == int(filters.mask(day.iloc[:1000]).sum())
    growing.merge(day.iloc[1000:1500])
    assert pager.grow() == int(filters.mask(day.iloc[1000:1500]).sum())
    expected = day.iloc[:1500].loc[filters.mask(day.iloc[:1500])].reset_index(drop=True)
    pd.testing.assert_frame_equal(pager.frame(), expected)
    assert pager.grow() == 0


def test_the_export_has_every_tick_column_in_schema_order(truth: pd.DataFrame) -> None:
    text = io.StringIO()
    write_ticks(truth.iloc[:50, ::-1], "csv", text)
    back = pd.read_csv(io.StringIO(text.getvalue()))
    assert back.columns.tolist() == list(TICK_COLUMNS)
    assert np.allclose(back["price"], truth["price"].iloc[:50])
    raw = io.BytesIO()
    write_ticks(truth.iloc[:50], "parquet", raw)
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(raw.getvalue())), truth.iloc[:50])
    with pytest.raises(ValueError, match="unknown format 'xlsx'"):
        write_ticks(truth, "xlsx", text)


def test_a_selection_with_nothing_to_show_says_why(store: TickStore) -> None:
    assert why_empty(TickPager(store, Selection.parse("KO", *DAYS))) == ""
    later = TickPager(store, Selection.parse("KO", "2025-01-06"))
    assert later.total == 0
    assert (
        why_empty(later)
        == "no ticks stored for KO on 2025-01-06; its latest stored days: 2025-01-02, 2025-01-03"
    )
    unknown = TickPager(store, Selection.parse("ZZZZ", "2025-01-02"))
    assert why_empty(unknown) == "unknown symbol ZZZZ: no ticks stored for it; stored symbols: KO"
    none_pass = TickPager(store, Selection.parse("KO", *DAYS, filters=Filters(price_min=1e6)))
    assert (
        why_empty(none_pass) == "none of the ticks stored for KO on 2025-01-02 to 2025-01-03 pass the filters"
    )
