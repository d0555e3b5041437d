"""Bars in ArcticDB through oss20.bars and `oss20 bars`: built from stored ticks once, then read."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import polars as pl
import pytest

import oss20
from oss20.bar_engine import BarSpec, build_bars
from oss20.config import Settings
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.bar_store import BarStore
from tests.conftest import DAY

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")
HALF_DAY = dt.date(2024, 11, 29)
DAYS = (dt.date(2024, 11, 27), HALF_DAY, dt.date(2024, 12, 2))


@pytest.fixture
def settings(tmp_path: Path, market: Market) -> Settings:
    settings = Settings(data_dir=str(tmp_path))
    ticks = pd.concat([market.ticks(s, d) for s in ("AAPL", "KO") for d in DAYS], ignore_index=True)
    TickStore(settings.resolved_arctic_uri).merge(ticks)
    return settings


@pytest.mark.parametrize(
    "spec", ["5min", "1d", "volume:20000", "dollar_imbalance(expected_ticks=200)", "tick_run"]
)
def test_bars_are_built_from_stored_ticks_then_read_back_the_same(
    settings: Settings, market: Market, spec: str
) -> None:
    parsed = BarSpec.parse(spec)
    expected = pd.concat([build_bars(market.ticks(s, d), parsed) for s in ("AAPL", "KO") for d in DAYS])
    expected = expected.reset_index(drop=True)
    built = oss20.bars(["AAPL", "KO"], spec, DAYS[0], DAYS[-1], settings=settings)
    pd.testing.assert_frame_equal(built, expected)
    store = BarStore(settings.resolved_arctic_uri)
    assert all(store.complete(s, d, parsed) for s in ("AAPL", "KO") for d in DAYS)
    read = oss20.bars("AAPL,KO", spec, DAYS[0], DAYS[-1], settings=settings)
    pd.testing.assert_frame_equal(read, expected)
    as_polars = oss20.bars("AAPL", spec, HALF_DAY, settings=settings, as_polars=True)
    on_half_day = expected[(expected["symbol"] == "AAPL") & (expected["first_tick"].dt.date == HALF_DAY)]
    assert isinstance(as_polars, pl.DataFrame)
    pd.testing.assert_frame_equal(
        as_polars.to_pandas(), on_half_day.reset_index(drop=True), check_dtype=False
    )


def test_time_bars_follow_the_half_day_and_extended_hours_are_stored_apart(settings: Settings) -> None:
    regular = oss20.bars("AAPL", "1h", HALF_DAY, settings=settings)
    assert regular["timestamp"].dt.strftime("%H:%M").tolist() == ["09:30", "10:30", "11:30", "12:30"]
    assert regular["last_tick"].max() == pd.Timestamp(f"{HALF_DAY} 13:00", tz="America/New_York"), (
        "the closing cross"
    )
    extended = oss20.bars("AAPL", "1h", HALF_DAY, extended_hours=True, settings=settings)
    assert extended["timestamp"].min().strftime("%H:%M") == "04:00"
    assert "13:00" in extended["timestamp"].dt.strftime("%H:%M").tolist()
    assert extended["volume"].sum() > regular["volume"].sum()
    again = oss20.bars("AAPL", "1h", HALF_DAY, settings=settings)
    pd.testing.assert_frame_equal(again, regular)


def test_live_appends_skip_what_is_stored_and_stay_incomplete(settings: Settings, market: Market) -> None:
    spec = BarSpec.parse("1min")
    store = BarStore(settings.resolved_arctic_uri)
    bars = build_bars(market.ticks("KO", DAY), spec)
    assert store.append(bars.iloc[:10], "KO", DAY, spec, False) == 10
    assert store.append(bars.iloc[5:20], "KO", DAY, spec, False) == 10
    assert not store.complete("KO", DAY, spec)
    pd.testing.assert_frame_equal(store.read(["KO"], spec, DAY, DAY), bars.iloc[:20].reset_index(drop=True))


def test_the_cli_builds_summarises_and_exports(settings: Settings, tmp_path: Path) -> None:
    env = {**os.environ, "OSS20_DATA_DIR": settings.data_dir}
    out = tmp_path / "aapl.parquet"
    command = [
        OSS20,
        "bars",
        "AAPL",
        "30min",
        "--start",
        str(DAYS[0]),
        "--end",
        str(DAYS[-1]),
        "-o",
        str(out),
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "2024-11-29 │    7" in done.stdout, done.stdout
    exported = pd.read_parquet(out)
    pd.testing.assert_frame_equal(exported, oss20.bars("AAPL", "30min", DAYS[0], DAYS[-1], settings=settings))
    bad = subprocess.run(
        [OSS20, "bars", "AAPL", "7h", "--start", "2024-11-29"], env=env, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "time bars run from 1s to 1h" in bad.stderr
