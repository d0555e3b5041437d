"""Backfill end to end: days stored with gaps cut on purpose are filled from the simulator's history
until they equal the ground truth; running the same chunks again stores nothing twice; the simulator
never had to throttle; every chunk is recorded done in the catalog; `--dry-run` only prints the plan."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oss20.backfill.chunks import Chunk
from oss20.backfill.run import plan_backfill, run_backfill
from oss20.config import Settings
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import open_catalog
from tests.frames import canonical
from tests.integration.test_gaps import FIRST, LAST, NOW, SESSIONS, settings_for, store_with_cuts

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")
SYMBOLS = ["AAPL", "KO"]


def cut_store(sim: Simulator, market: Market, root: Path) -> tuple[Settings, pd.DataFrame]:
    """The scenario: settings of a store in ``root`` holding the days with their cuts, and the ground
    truth of those days (canonical order)."""
    settings = settings_for(sim, root)
    store_with_cuts(market, settings)
    truth = canonical(pd.concat([market.ticks(s, d) for s in SYMBOLS for d in SESSIONS], ignore_index=True))
    return settings, truth


def planned(settings: Settings) -> list[Chunk]:
    """The backfill plan of the scenario's range (extended hours too: the cuts took after hours)."""
    return plan_backfill(SYMBOLS, FIRST, LAST, settings, NOW, extended_hours=True)


def test_backfill_restores_the_ground_truth_once_within_the_budget(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings, truth = cut_store(finished_sim, market, tmp_path)
    store = TickStore(settings.resolved_arctic_uri)
    before = len(store.read_range(SYMBOLS, FIRST, LAST))
    assert before < len(truth)

    chunks = planned(settings)
    assert {(c.symbol, c.session) for c in chunks} >= {("AAPL", SESSIONS[1]), ("KO", SESSIONS[2])}
    outcomes = run_backfill(chunks, settings, concurrency=4)
    assert [o.status for o in outcomes] == ["done"] * len(chunks), [o.error for o in outcomes]
    pd.testing.assert_frame_equal(canonical(store.read_range(SYMBOLS, FIRST, LAST)), truth)

    again = run_backfill(chunks, settings, concurrency=4)
    assert sum(o.stored for o in again) == 0 and sum(o.received for o in again) > 0
    pd.testing.assert_frame_equal(canonical(store.read_range(SYMBOLS, FIRST, LAST)), truth)
    assert finished_sim.history_throttled == 0
    assert planned(settings) == []
    with open_catalog(settings.resolved_catalog_url) as catalog:
        tasks = catalog.tasks(kind="backfill", limit=1000)
    assert len(tasks) == 2 * len(chunks) and {t.status for t in tasks} == {"done"}
    assert sum(t.counters["stored"] for t in tasks) == len(truth) - before


def test_dry_run_prints_the_plan_and_fetches_nothing(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings = settings_for(finished_sim, tmp_path)
    store_with_cuts(market, settings)
    before = len(TickStore(settings.resolved_arctic_uri).read_range(SYMBOLS, FIRST, LAST))
    env = {
        **os.environ,
        "OSS20_DATA_DIR": str(tmp_path),
        "OSS20_LEVEL1_PORT": str(finished_sim.ports["level1"]),
        "OSS20_LOOKUP_PORT": str(finished_sim.ports["lookup"]),
        "OSS20_ADMIN_PORT": str(finished_sim.ports["admin"]),
        "COLUMNS": "160",
    }
    args = [str(OSS20), "backfill", *SYMBOLS, "--start", str(FIRST), "--end", str(LAST), "--dry-run"]
    shown = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr
    assert "backfill plan:" in shown.stderr and "chunks planned (dry run: nothing fetched)" in shown.stdout
    assert len(TickStore(settings.resolved_arctic_uri).read_range(SYMBOLS, FIRST, LAST)) == before
    bad = subprocess.run(
        [*args[:2], "NOT A TICKER", *args[4:]], env=env, capture_output=True, text=True, timeout=60
    )
    assert bad.returncode == 2 and "NOT A TICKER" in bad.stderr
