"""Bar-only fills against the simulator: sessions older than tick history reaches get the feed's
1-minute (HIT) and daily (HDT) bars in the bar store, equal to the synthetic market's, within the
request budget; afterwards their gaps read bar-only (`oss20 gaps` lists them so, the plan is empty,
the heatmap shows bar-only) and `oss20.bars` serves the stored bars. `oss20 backfill --dry-run` plans
them without fetching."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import oss20
from oss20 import calendar
from oss20.backfill.bars import fill_bars
from oss20.backfill.coverage import find
from oss20.backfill.gaps import BAR_ONLY
from oss20.backfill.overview import coverage_grid, stored_days
from oss20.backfill.run import plan_fills
from oss20.bar_engine.spec import BarSpec
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.metrics import BackfillMetrics
from oss20.storage.arctic import TickStore
from oss20.storage.bar_store import FEED, BarStore
from oss20.storage.catalog import open_catalog
from tests.integration.test_gaps import NOW, settings_for

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")
SYMBOLS = ["AAPL", "KO"]
FIRST, LAST = dt.date(2024, 6, 3), dt.date(2024, 6, 5)
SESSIONS = calendar.sessions(FIRST, LAST)
HOLE_DAY = dt.date(2024, 6, 4)
"""KO's ticks of this day are stored but for 11:00-12:00; every other symbol-session stores nothing."""


def cli(sim: Simulator, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "OSS20_DATA_DIR": str(data),
        "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
        "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
        "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
        "COLUMNS": "200",
    }
    done = subprocess.run([str(OSS20), *args], env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return done


def test_sessions_beyond_tick_history_get_the_feeds_bars(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    assert len(SESSIONS) == 3 and all((NOW.date() - d).days > 180 for d in SESSIONS)
    settings = settings_for(finished_sim, tmp_path)
    ticks = market.ticks("KO", HOLE_DAY)
    stamps = ticks["timestamp"]
    noon = (stamps >= calendar.session(HOLE_DAY).open.replace(hour=11, minute=0)) & (
        stamps < calendar.session(HOLE_DAY).open.replace(hour=12, minute=0)
    )
    TickStore(settings.resolved_arctic_uri).merge(ticks[~noon])

    span = ["--start", str(FIRST), "--end", str(LAST)]
    shown = cli(finished_sim, tmp_path, "backfill", *SYMBOLS, *span, "--dry-run")
    assert "6 bar-only sessions and 0 chunks planned (dry run: nothing fetched)" in shown.stdout
    assert "bar-only plan: 6 sessions" in shown.stderr

    plan = plan_fills(SYMBOLS, FIRST, LAST, settings, NOW)
    assert plan.ticks == []
    assert [(b.symbol, b.session) for b in plan.bars] == [(s, d) for d in SESSIONS for s in SYMBOLS]
    assert {b.reason for b in plan.bars} == {"missing session", "hole"}
    metrics = BackfillMetrics()
    requests, throttled = finished_sim.history_requests, finished_sim.history_throttled
    outcomes = fill_bars(plan.bars, settings, concurrency=4, metrics=metrics)
    assert [o.status for o in outcomes] == ["done"] * 6, [o.error for o in outcomes]
    assert finished_sim.history_throttled == throttled
    assert (
        finished_sim.history_requests - requests
        == 12
        == metrics.value("oss20_backfill_history_requests_total")
    )
    assert metrics.value("oss20_backfill_chunks_done_total") == 6
    assert metrics.value("oss20_backfill_bars_stored_total") == sum(
        o.minute_bars + o.daily_bars for o in outcomes
    )

    store, minute, daily = BarStore(settings.resolved_arctic_uri), BarSpec.parse("1min"), BarSpec.parse("1d")
    for symbol in SYMBOLS:
        for day in SESSIONS:
            session = calendar.session(day)
            feed = market.interval_bars(symbol, day, 60, "s")
            starts = feed["timestamp"] - pd.Timedelta(minutes=1)
            regular = feed[(starts >= session.open) & (starts < session.close)].reset_index(drop=True)
            kept = store.read([symbol], minute, day, day)
            assert store.source(symbol, day, minute) == FEED and store.complete(symbol, day, minute)
            assert (kept["timestamp"] == regular["timestamp"] - pd.Timedelta(minutes=1)).all()
            for column in ("open", "high", "low", "close", "volume", "trades"):
                np.testing.assert_array_equal(kept[column].to_numpy(), regular[column].to_numpy())
            assert len(store.read([symbol], minute, day, day, extended_hours=True)) == len(feed)
            (bar,) = store.read([symbol], daily, day, day).to_dict("records")
            (truth,) = market.daily(symbol, day, day).to_dict("records")
            assert bar["timestamp"] == session.open and bar["trades"] == feed["trades"].sum()
            assert [bar[c] for c in ("open", "high", "low", "close", "volume")] == [
                truth[c] for c in ("open", "high", "low", "close", "volume")
            ]
    served = oss20.bars("AAPL", "1min", HOLE_DAY, settings=settings)
    assert len(served) == len(store.read(["AAPL"], minute, HOLE_DAY, HOLE_DAY)) > 0

    gaps = find(SYMBOLS, FIRST, LAST, settings, NOW)
    assert gaps and {g.reason for g in gaps} == {BAR_ONLY} and not any(g.reachable for g in gaps)
    again = plan_fills(SYMBOLS, FIRST, LAST, settings, NOW)
    assert again.ticks == [] and again.bars == []
    with_ticks, with_bars = stored_days(settings.resolved_arctic_uri, SYMBOLS, FIRST, LAST)
    grid = coverage_grid(SYMBOLS, SESSIONS, gaps, with_ticks, with_bars)
    assert set(grid["state"]) == {"bar-only"} and len(grid) == 6
    with open_catalog(settings.resolved_catalog_url) as catalog:
        tasks = catalog.tasks(kind="bars", limit=100)
    assert len(tasks) == 6 and {t.status for t in tasks} == {"done"}

    listed = cli(finished_sim, tmp_path, "gaps", *SYMBOLS, *span)
    assert "bar-only 6" in listed.stdout and "missing session 0" in listed.stdout
