"""The backfill dashboard's frames: coverage states per symbol-session, the gap list, the budget in use,
runs grouped from tasks, and a failed task turned back into its chunk."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from oss20.backfill.gaps import HOLE, MISSING_SESSION, PARTIAL_SESSION, Gap
from oss20.backfill.overview import (
    budget_in_use,
    chunk_rows,
    coverage_grid,
    gap_rows,
    run_history,
    runs,
    state_of,
    task_chunk,
)
from oss20.storage.catalog import TaskRecord

NY = "America/New_York"
D1, D2, D3 = dt.date(2025, 1, 13), dt.date(2025, 1, 14), dt.date(2025, 1, 15)
T0 = pd.Timestamp("2025-01-16 10:00", tz="UTC")


def gap(symbol: str, day: dt.date, reason: str, reachable: bool = True, trades: int | None = 10) -> Gap:
    start = pd.Timestamp(f"{day} 10:00", tz=NY)
    return Gap(symbol, day, start, start + pd.Timedelta(minutes=30), trades, reason, reachable)  # type: ignore[arg-type]


def task(
    task_id: str,
    created: float,
    updated: float,
    status: str = "done",
    owner: str = "host:1",
    attempts: int = 1,
    stored: int = 5,
) -> TaskRecord:
    return TaskRecord(
        task_id=task_id,
        kind="backfill",
        symbols=("KO",),
        window_start=pd.Timestamp(f"{D2} 10:00", tz=NY).to_pydatetime(),
        window_end=pd.Timestamp(f"{D2} 10:29:59.999999", tz=NY).to_pydatetime(),
        status=status,
        attempts=attempts,
        error="IQFeedError: boom" if status == "failed" else None,
        counters={"received": stored, "stored": stored},
        params={
            "session": str(D2),
            "deadline": "2025-07-13",
            "expected_trades": 40,
            "reason": HOLE,
            "owner": owner,
        },
        created_at=(T0 + pd.Timedelta(seconds=created)).to_pydatetime(),
        updated_at=(T0 + pd.Timedelta(seconds=updated)).to_pydatetime(),
        heartbeat_at=None,
    )


@pytest.mark.parametrize(
    ("gaps", "ticks", "bars", "state"),
    [
        ([], True, False, "full"),
        ([gap("KO", D1, HOLE)], True, False, "partial"),
        ([gap("KO", D1, PARTIAL_SESSION), gap("KO", D1, HOLE)], True, True, "partial"),
        ([gap("KO", D1, MISSING_SESSION)], False, False, "missing"),
        ([gap("KO", D1, MISSING_SESSION)], True, False, "missing"),  # only after hours stored
        ([gap("KO", D1, MISSING_SESSION, reachable=False)], False, False, "unreachable"),
        ([gap("KO", D1, HOLE, reachable=False)], True, False, "unreachable"),
        ([gap("KO", D1, MISSING_SESSION, reachable=False)], False, True, "bar-only"),
    ],
)
def test_each_session_gets_one_state(gaps: list[Gap], ticks: bool, bars: bool, state: str) -> None:
    assert state_of(gaps, ticks, bars) == state


def test_the_grid_covers_every_symbol_session_with_its_gaps() -> None:
    gaps = [gap("KO", D1, HOLE, trades=7), gap("KO", D1, HOLE, trades=3), gap("XOM", D2, MISSING_SESSION)]
    grid = coverage_grid(["KO", "XOM"], [D1, D2, D3], gaps, {"KO": {D1, D2, D3}, "XOM": {D1, D3}}, {})
    assert list(grid.itertuples(index=False, name=None)) == [
        ("KO", "2025-01-13", "partial", 2, 10),
        ("KO", "2025-01-14", "full", 0, 0),
        ("KO", "2025-01-15", "full", 0, 0),
        ("XOM", "2025-01-13", "full", 0, 0),
        ("XOM", "2025-01-14", "missing", 1, 10),
        ("XOM", "2025-01-15", "full", 0, 0),
    ]


def test_the_gap_list_shows_new_york_minutes_and_zero_for_unknown_trades() -> None:
    rows = gap_rows([gap("XOM", D2, MISSING_SESSION, trades=None), gap("KO", D1, HOLE)])
    assert rows.to_dict("records") == [
        {
            "symbol": "KO",
            "session": "2025-01-13",
            "start": "10:00",
            "end": "10:30",
            "minutes": 30,
            "expected_trades": 10,
            "reason": HOLE,
            "reachable": True,
        },
        {
            "symbol": "XOM",
            "session": "2025-01-14",
            "start": "10:00",
            "end": "10:30",
            "minutes": 30,
            "expected_trades": 0,
            "reason": MISSING_SESSION,
            "reachable": True,
        },
    ]
    assert gap_rows([]).empty


def test_the_budget_in_use_counts_attempts_of_tasks_touched_in_the_window() -> None:
    tasks = [task("a", 0, 0, attempts=1), task("b", 0, 55, attempts=3), task("c", 0, 58, status="running")]
    use = budget_in_use(tasks, T0 + pd.Timedelta(seconds=60), limit=50)
    assert (use.requests, use.rate, use.limit) == (4, 0.4, 50)
    assert use.share == pytest.approx(0.008)


def test_runs_are_an_owners_tasks_recorded_together() -> None:
    tasks = [
        task("a1", 0, 20),
        task("a2", 0.1, 30, status="failed", stored=0),
        task("b1", 100, 104, attempts=2),
        task("o1", 0.2, 9, owner="other:2", status="running", stored=0),
    ]
    assert [[t.task_id for t in run] for run in runs(tasks)] == [["a1", "a2"], ["o1"], ["b1"]]
    history = run_history(tasks)
    assert list(history.itertuples(index=False, name=None)) == [
        ("2025-01-16 05:01:40", "host:1", 1, 1, 0, 0, 2, 5, 4.0),
        ("2025-01-16 05:00:00", "other:2", 1, 0, 0, 1, 1, 0, 8.8),
        ("2025-01-16 05:00:00", "host:1", 2, 1, 1, 0, 2, 5, 30.0),
    ]


def test_a_failed_task_gives_back_its_chunk() -> None:
    failed = task("f", 0, 1, status="failed")
    chunk = task_chunk(failed)
    assert (chunk.symbol, chunk.session, chunk.expected_trades, chunk.reason) == ("KO", D2, 40, HOLE)
    assert chunk.start == pd.Timestamp(f"{D2} 10:00", tz=NY) and chunk.deadline == dt.date(2025, 7, 13)
    assert chunk_rows([failed])[["symbol", "start", "end", "status", "error"]].values.tolist() == [
        ["KO", "10:00", "10:29", "failed", "IQFeedError: boom"]
    ]
    with pytest.raises(ValueError, match="not a backfill chunk"):
        task_chunk(TaskRecord(**{**failed.__dict__, "kind": "collect"}))
