"""Tier 1: what is quarantined (and why), what is stored with a warning, across batches."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from oss20.market import Market
from oss20.validation.tier1 import Tier1State, check_ticks
from tests.conftest import DAY


@pytest.fixture(scope="module")
def truth(market: Market) -> pd.DataFrame:
    return market.ticks("MSFT", DAY)


def test_the_markets_own_ticks_all_pass(truth: pd.DataFrame) -> None:
    result = check_ticks(truth, Tier1State())
    assert result.rejected.empty
    assert len(result.clean) == len(truth)
    assert result.warnings["crossed_quote"] == 0


def test_bad_values_are_quarantined_at_their_rows_with_the_rule(truth: pd.DataFrame) -> None:
    bad = truth.head(50).copy()
    bad.loc[3, "price"] = -1.0
    bad.loc[7, "price"] = np.nan
    bad.loc[11, "size"] = 0
    bad.loc[13, "bid"] = np.inf
    bad.loc[17, "tick_id"] = -5
    bad.loc[19, "timestamp"] = bad.loc[19, "timestamp"].normalize() + pd.Timedelta(hours=2)
    result = check_ticks(bad, Tier1State())
    reasons = dict(zip(result.rejected["tick_id"], result.rejected["reason"], strict=True))
    assert reasons == {
        bad.loc[3, "tick_id"]: "price_range",
        bad.loc[7, "tick_id"]: "price_range",
        bad.loc[11, "tick_id"]: "size_range",
        bad.loc[13, "tick_id"]: "quote_range",
        -5: "identity",
        bad.loc[19, "tick_id"]: "hours",
    }
    assert len(result.clean) == 44


def test_duplicates_within_and_across_batches_are_quarantined_once_stored(truth: pd.DataFrame) -> None:
    state = Tier1State()
    first = check_ticks(truth.iloc[:100], state)
    again = check_ticks(pd.concat([truth.iloc[90:110], truth.iloc[[105]]]), state)
    assert len(first.clean) == 100
    assert list(again.clean["tick_id"]) == list(truth["tick_id"].iloc[100:110])
    assert again.reasons == {"duplicate": 11}


def test_same_tick_id_on_another_market_center_is_not_a_duplicate(truth: pd.DataFrame) -> None:
    twin = truth.iloc[:1].copy()
    twin["market_center"] = twin["market_center"] + 1
    result = check_ticks(pd.concat([truth.iloc[:1], twin]), Tier1State())
    assert len(result.clean) == 2


def test_crossed_quotes_and_late_ticks_are_stored_with_warnings(truth: pd.DataFrame) -> None:
    batch = truth.iloc[:20].copy()
    batch.loc[5, ["bid", "ask"]] = [batch.loc[5, "ask"] + 0.05, batch.loc[5, "ask"]]
    swapped = batch.iloc[[0, 1, 3, 2, *range(4, 20)]]
    state = Tier1State()
    result = check_ticks(swapped, state)
    assert len(result.clean) == 20
    assert result.warnings == {"crossed_quote": 1, "out_of_order": 1}
    late = check_ticks(truth.iloc[[10]].assign(tick_id=10**9), state)
    assert late.warnings == {"out_of_order": 1}


def test_wrong_time_zone_and_missing_columns_reject_the_batch(truth: pd.DataFrame) -> None:
    utc = truth.head(5).assign(timestamp=truth["timestamp"].head(5).dt.tz_convert("UTC"))
    assert check_ticks(utc, Tier1State()).reasons == {"timezone": 5}
    missing = check_ticks(truth.head(5).drop(columns=["bid"]), Tier1State())
    assert len(missing.clean) == 0
    assert missing.rejected["reason"].str.startswith("schema").all()


def test_identities_of_days_before_yesterday_are_forgotten(market: Market, truth: pd.DataFrame) -> None:
    state = Tier1State()
    check_ticks(truth.head(10), state)
    check_ticks(market.ticks("MSFT", "2025-01-03").head(10), state)
    assert set(state.seen) == {("MSFT", DAY), ("MSFT", dt.date(2025, 1, 3))}
    check_ticks(market.ticks("MSFT", "2025-01-06").head(10), state)
    assert set(state.seen) == {("MSFT", dt.date(2025, 1, 6))}
