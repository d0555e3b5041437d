"""`oss20 backfill` killed midway and started again: the store ends equal to the ground truth, nothing
stored twice, and the killed run's tasks do not hold the second run back."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from oss20.iqfeed.faults import FaultPlan
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import open_catalog
from tests.integration.test_backfill import SYMBOLS, canonical
from tests.integration.test_gaps import FIRST, LAST, SESSIONS, settings_for, store_with_cuts

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")


def test_a_killed_backfill_started_again_completes_the_store_once(
    finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings = settings_for(finished_sim, tmp_path)
    store_with_cuts(market, settings)
    truth = canonical(pd.concat([market.ticks(s, d) for s in SYMBOLS for d in SESSIONS], ignore_index=True))
    env = {
        **os.environ,
        "OSS20_DATA_DIR": str(tmp_path),
        "OSS20_LEVEL1_PORT": str(finished_sim.ports["level1"]),
        "OSS20_LOOKUP_PORT": str(finished_sim.ports["lookup"]),
        "OSS20_ADMIN_PORT": str(finished_sim.ports["admin"]),
    }
    args = [str(OSS20), "backfill", *SYMBOLS, "--start", str(FIRST), "--end", str(LAST), "--extended-hours"]
    finished_sim.set_faults(FaultPlan(history_delay=1.0))  # slow replies: the kill lands mid-run
    first = subprocess.Popen(
        [*args, "--concurrency", "1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        with open_catalog(settings.resolved_catalog_url) as catalog:
            while not any(t.status == "done" for t in catalog.tasks(kind="backfill")):
                assert time.monotonic() < deadline and first.poll() is None, "no chunk finished"
                time.sleep(0.2)
            first.send_signal(signal.SIGKILL)
            first.wait(10)
            left = [t for t in catalog.tasks(kind="backfill") if t.status in ("pending", "running")]
        assert left, "the kill came too late to leave work behind"
    finally:
        if first.poll() is None:
            first.kill()
    finished_sim.set_faults(FaultPlan())
    again = subprocess.run(args, env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    stored = canonical(TickStore(settings.resolved_arctic_uri).read_range(SYMBOLS, FIRST, LAST))
    assert not stored.duplicated(["symbol", "timestamp", "market_center", "tick_id"]).any()
    pd.testing.assert_frame_equal(stored, truth)
