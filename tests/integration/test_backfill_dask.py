"""Backfill on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on loopback,
started by the test. The scenario of test_backfill.py run through the cluster must restore the ground
truth, store exactly what the local pool stores for the same cut days, give the same outcomes in the
same order, stay within the shared request budget, and leave every task done in the catalog."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client

from oss20.backfill.executor import ChunkOutcome
from oss20.backfill.run import run_backfill
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import open_catalog
from tests.integration.test_backfill import SYMBOLS, canonical, cut_store, planned
from tests.integration.test_gaps import FIRST, LAST
from tests.servers import dask_cluster as cluster

pytestmark = pytest.mark.integration
WORKERS = 2


@pytest.fixture
def dask_cluster(tmp_path: Path) -> Iterator[str]:
    """A real scheduler and two worker processes on loopback; their logs are shown when a test fails."""
    logs = tmp_path / "dask-logs"
    logs.mkdir()
    try:
        with cluster(logs, WORKERS) as (address, _):
            yield address
    finally:
        for log in sorted(logs.glob("dask-*.log")):
            sys.stderr.write(log.read_text(errors="replace")[-2000:])


def summary(outcomes: list[ChunkOutcome]) -> list[tuple[object, ...]]:
    """An outcome without its task id (ids differ between runs)."""
    return [(o.chunk, o.status, o.received, o.stored, o.quarantined, o.error) for o in outcomes]


def test_dask_cluster_stores_what_the_local_pool_stores(
    finished_sim: Simulator, market: Market, tmp_path: Path, dask_cluster: str
) -> None:
    local, truth = cut_store(finished_sim, market, tmp_path / "local")
    chunks = planned(local)
    local_outcomes = run_backfill(chunks, local, concurrency=4)
    assert [o.status for o in local_outcomes] == ["done"] * len(chunks), [o.error for o in local_outcomes]

    remote, _ = cut_store(finished_sim, market, tmp_path / "dask")
    remote.dask_scheduler = dask_cluster
    assert planned(remote) == chunks
    heard: list[ChunkOutcome] = []
    outcomes = run_backfill(chunks, remote, concurrency=4, on_done=heard.append)
    assert summary(outcomes) == summary(local_outcomes), "same outcomes, in the same order"
    assert sorted(o.task_id for o in heard) == sorted(o.task_id for o in outcomes)

    stored = TickStore(remote.resolved_arctic_uri).read_range(SYMBOLS, FIRST, LAST)
    pd.testing.assert_frame_equal(canonical(stored), truth)
    pd.testing.assert_frame_equal(
        stored, TickStore(local.resolved_arctic_uri).read_range(SYMBOLS, FIRST, LAST)
    )
    assert finished_sim.history_throttled == 0
    with open_catalog(remote.resolved_catalog_url) as catalog:
        tasks = catalog.tasks(kind="backfill", limit=1000)
    assert {t.task_id for t in tasks} == {o.task_id for o in outcomes} and {t.status for t in tasks} == {
        "done"
    }
    assert sum(t.counters["stored"] for t in tasks) == sum(o.stored for o in outcomes) > 0

    with Client(dask_cluster, set_as_default=False) as client:
        executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(executed) == WORKERS and all(executed.values()), f"both workers took symbol-days: {executed}"
    assert sum(executed.values()) == len({c.key for c in chunks}), "one Dask task per symbol-day"
