"""The backfill planner: reachable gaps cut into whole-minute chunks, soonest out of reach first,
windows in flight skipped, and stale tasks of a dead backfill not counted as in flight."""

from __future__ import annotations

import datetime as dt
import itertools
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oss20.backfill.executor import owner
from oss20.backfill.gaps import HOLE, MISSING_SESSION, TICK_HISTORY_DAYS, Gap
from oss20.backfill.planner import CHUNK_MINUTES, CHUNK_TRADES, in_flight, owner_alive, plan, split
from oss20.storage.catalog import open_catalog

NY = "America/New_York"


def gap(
    day: str, start: str, end: str, trades: int | None, symbol: str = "AAPL", reachable: bool = True
) -> Gap:
    return Gap(
        symbol,
        dt.date.fromisoformat(day),
        pd.Timestamp(f"{day} {start}", tz=NY),
        pd.Timestamp(f"{day} {end}", tz=NY),
        trades,
        HOLE if trades is not None and trades < CHUNK_TRADES else MISSING_SESSION,
        reachable,
    )


def test_a_gap_is_cut_by_expected_trades_into_whole_minutes_covering_it_exactly() -> None:
    big = gap("2025-01-02", "09:30", "16:00", 5 * CHUNK_TRADES + 1)
    chunks = split(big)
    assert len(chunks) == 6
    assert chunks[0].start == big.start and chunks[-1].end == big.end - pd.Timedelta(microseconds=1)
    for before, after in itertools.pairwise(chunks):
        assert after.start == before.end + pd.Timedelta(microseconds=1)
        assert after.start.second == 0 and after.start.microsecond == 0
    assert all(c.deadline == dt.date(2025, 1, 2) + dt.timedelta(days=TICK_HISTORY_DAYS) for c in chunks)
    assert split(gap("2025-01-02", "10:00", "10:03", 10))[0].expected_trades == 10


def test_without_the_feed_a_gap_is_cut_by_time() -> None:
    chunks = split(gap("2025-01-02", "09:30", "16:00", None))
    assert len(chunks) == -(-390 // CHUNK_MINUTES)
    assert all(c.expected_trades is None for c in chunks)


def test_older_days_come_first_unreachable_and_in_flight_windows_are_left_out() -> None:
    recent = gap("2025-03-03", "10:00", "10:05", 50)
    old = gap("2025-01-02", "10:00", "10:05", 50, symbol="MSFT")
    gone = gap("2024-01-02", "10:00", "10:05", 50, reachable=False)
    busy = gap("2025-02-03", "11:00", "11:05", 50)
    chunks = plan([recent, gone, busy, old], in_flight=[("AAPL", busy.start, busy.end)])
    assert [(c.symbol, c.session) for c in chunks] == [("MSFT", old.session), ("AAPL", recent.session)]


def test_in_flight_counts_live_tasks_only(tmp_path: Path) -> None:
    with open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}") as catalog:
        window = (pd.Timestamp("2025-01-02 10:00", tz=NY), pd.Timestamp("2025-01-02 10:05", tz=NY))
        live = catalog.create_task("backfill", ["AAPL"], window=window)
        catalog.update_task(live, status="running")
        catalog.create_task("backfill", ["MSFT"], window=window)
        finished = catalog.create_task("backfill", ["KO"], window=window)
        catalog.update_task(finished, status="done")
        catalog.create_task("collect", ["SPY"], window=window)
        now = pd.Timestamp.now(tz="UTC")
        assert sorted(s for s, _, _ in in_flight(catalog, now)) == ["AAPL", "MSFT"]
        assert in_flight(catalog, now + pd.Timedelta(hours=1)) == [], "tasks of a dead backfill go stale"


@pytest.mark.parametrize("trades", [0, 1, CHUNK_TRADES])
def test_small_gaps_are_one_chunk(trades: int) -> None:
    assert len(split(gap("2025-01-02", "10:00", "10:01", trades))) == 1


def test_tasks_of_a_backfill_process_that_died_are_not_in_flight(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    window = (pd.Timestamp("2025-01-02 10:00", tz=NY), pd.Timestamp("2025-01-02 10:05", tz=NY))
    with open_catalog(f"sqlite:///{tmp_path / 'catalog.sqlite'}") as catalog:
        for symbol, who in (
            ("AAPL", f"{socket.gethostname()}:{dead.pid}"),
            ("MSFT", owner()),
            ("KO", "elsewhere:1"),
        ):
            catalog.create_task("backfill", [symbol], params={"owner": who}, window=window)
        assert sorted(s for s, _, _ in in_flight(catalog)) == ["KO", "MSFT"]
    assert not owner_alive(f"{socket.gethostname()}:{dead.pid}") and owner_alive(owner())
