"""End-of-day reconciliation against the real simulator over sockets, ArcticDB on LMDB in a tmp dir and
the catalog in SQLite and in the real PostgreSQL: a day stored with ticks left out on purpose is, after
`oss20 jobs run eod_reconcile`, equal to the simulator's ground truth; the catalog's rows say per
market center what was missing; the ArcticDB snapshot named in them holds the reconciled day. A second
run finds nothing missing. The catalog's reconciliation rows round-trip on both backends."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.config import Settings
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import ReconciliationRecord, open_catalog
from tests.conftest import DAY
from tests.frames import canonical

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")
SYMBOLS = ["AAPL", "KO"]


def left_out(truth: pd.DataFrame, symbol: str) -> np.ndarray:
    """The ticks the live store lacks: AAPL every 40th tick and its busiest venue's 10:00-10:05; KO
    every 25th tick of the afternoon."""
    position = np.arange(len(truth))
    stamps = truth["timestamp"]
    if symbol == "AAPL":
        busiest = truth["market_center"].value_counts().index[0]
        window = (stamps >= pd.Timestamp(f"{DAY} 10:00", tz="America/New_York")) & (
            stamps < pd.Timestamp(f"{DAY} 10:05", tz="America/New_York")
        )
        return (position % 40 == 0) | (window & (truth["market_center"] == busiest)).to_numpy()
    return (position % 25 == 0) & (stamps.dt.hour >= 12).to_numpy()


def run_job(sim: Simulator, data: Path, catalog: str) -> dict[str, object]:
    env = {
        **os.environ,
        "OSS20_DATA_DIR": str(data),
        "OSS20_CATALOG_URL": catalog,
        "OSS20_WATCHLIST": ",".join(SYMBOLS),
        "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
        "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
        "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
    }
    args = [str(OSS20), "jobs", "run", "eod_reconcile", "--date", str(DAY)]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def test_reconciliation_restores_the_day_records_what_was_missing_and_snapshots_it(
    finished_sim: Simulator, market: Market, tmp_path: Path, url: str
) -> None:
    settings = Settings(data_dir=str(tmp_path), catalog_url=url)
    store = TickStore(settings.resolved_arctic_uri)
    truths, lacking = {}, {}
    for symbol in SYMBOLS:
        truth = market.ticks(symbol, DAY)
        cut = left_out(truth, symbol)
        store.merge(truth[~cut])
        truths[symbol], lacking[symbol] = truth, truth[cut]
    assert all(len(lost) > 0 for lost in lacking.values())
    requests = finished_sim.history_requests

    first = run_job(finished_sim, tmp_path, url)
    assert first["status"] == "done" and first["symbols"] == 2
    assert first["missing"] == first["filled"] == sum(len(lost) for lost in lacking.values())
    assert first["extra"] == 0 and finished_sim.history_requests - requests == first["requests"] == 2
    truth = canonical(pd.concat(truths.values(), ignore_index=True))
    pd.testing.assert_frame_equal(canonical(store.read_range(SYMBOLS, DAY, DAY)), truth)

    with open_catalog(url) as catalog:
        rows = catalog.reconciliations(start=DAY, end=DAY)
    assert set(rows["snapshot"]) == {first["snapshot"]} and set(rows["day"]) == {DAY}
    for symbol in SYMBOLS:
        mine = rows[rows["symbol"] == symbol].set_index("market_center")
        venues = truths[symbol].groupby("market_center")
        lost = lacking[symbol].groupby("market_center")
        assert mine["history_count"].to_dict() == venues.size().to_dict()
        assert mine["missing"].to_dict() == lost.size().reindex(mine.index, fill_value=0).to_dict()
        assert (mine["filled"] == mine["missing"]).all() and (mine["extra"] == 0).all()
        assert (mine["live_count"] == mine["history_count"] - mine["missing"]).all()
        shares = lost["size"].sum().reindex(mine.index, fill_value=0)
        assert mine["volume_difference"].to_dict() == shares.to_dict()

    snapshot = str(first["snapshot"])
    assert snapshot in store.ticks.list_snapshots()
    held = pd.concat(
        [
            store.ticks.read(store.key(s, DAY), as_of=snapshot).data.reset_index().assign(symbol=s)
            for s in SYMBOLS
        ],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(canonical(held), truth)

    second = run_job(finished_sim, tmp_path, url)
    assert second["missing"] == second["filled"] == second["extra"] == 0
    assert second["snapshot"] != snapshot and second["snapshot"] in store.ticks.list_snapshots()
    pd.testing.assert_frame_equal(canonical(store.read_range(SYMBOLS, DAY, DAY)), truth)
    with open_catalog(url) as catalog:
        again = catalog.reconciliations("KO", start=DAY, end=DAY)
        (task, *_) = catalog.tasks(kind="job:eod_reconcile")
    assert len(again) == 2 * rows["symbol"].eq("KO").sum()
    assert again[again["snapshot"] == second["snapshot"]]["missing"].sum() == 0
    assert task.status == "done" and task.counters["missing"] == 0


def test_reconciliation_rows_round_trip(url: str) -> None:
    record = ReconciliationRecord("AAPL", DAY, 11, 90, 100, 12, 2, 1_500, 12, "reconcile-x")
    with open_catalog(url) as catalog:
        assert (
            catalog.record_reconciliation([record, ReconciliationRecord("KO", DAY, 19, 5, 5, 0, 0, 0, 0)])
            == 2
        )
        rows = catalog.reconciliations("AAPL")
        assert catalog.reconciliations(start=DAY.replace(day=3)).empty
        with pytest.raises(ValueError, match="NOT A TICKER"):
            catalog.record_reconciliation([ReconciliationRecord("NOT A TICKER", DAY, 1, 0, 0, 0, 0, 0, 0)])
        assert len(catalog.reconciliations()) == 2
    (row,) = rows.to_dict("records")
    assert row == {
        "symbol": "AAPL",
        "day": DAY,
        "market_center": 11,
        "live_count": 90,
        "history_count": 100,
        "missing": 12,
        "extra": 2,
        "volume_difference": 1_500,
        "filled": 12,
        "snapshot": "reconcile-x",
        "run_at": row["run_at"],
    }
    assert row["run_at"].tzinfo is not None
