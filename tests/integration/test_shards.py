"""Three collectors, each owning a shard of one watchlist (`--shard K/3`), fill one store: every symbol
stored by exactly one of them, the values equal to the market's."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.symbols import shard
from tests.conftest import DAY, simulator

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OSS20 = Path(sys.executable).with_name("oss20")
WATCHLIST = ["AAPL", "MSFT", "KO", "SPY", "NVDA", "XOM"]
KEY = ["timestamp", "market_center", "tick_id"]


def fresh(store: TickStore, symbol: str, now: pd.Timestamp) -> bool:
    last = store.last_tick(symbol, DAY)
    return last is not None and last > now - pd.Timedelta(minutes=10)


def test_three_shards_fill_one_store_without_overlap(market: Market, tmp_path: Path) -> None:
    uri = f"lmdb://{tmp_path / 'shared-arctic'}"
    sim = simulator(market, speed=300, start=dt.time(10, 0))
    with sim.running():
        processes = []
        for k in (1, 2, 3):
            env = {
                **os.environ,
                "OSS20_DATA_DIR": str(tmp_path / f"collector-{k}"),  # each its own journal
                "OSS20_ARCTIC_URI": uri,
                "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
                "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
                "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
            }
            command = [str(OSS20), "collect", "--symbols", ",".join(WATCHLIST), "--shard", f"{k}/3"]
            command += ["--metrics-port", "-1"]
            processes.append(
                subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
        store = TickStore(uri)
        deadline = time.monotonic() + 90
        try:  # until every symbol holds ticks from the open (history) to the last minutes (live)
            while not all(fresh(store, s, sim.clock.now) for s in WATCHLIST):
                assert time.monotonic() < deadline, {s: store.count(s, DAY) for s in WATCHLIST}
                time.sleep(0.5)
        finally:
            for process in processes:
                process.send_signal(signal.SIGTERM)
        logs = [p.communicate(timeout=60)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], "\n".join(log[-2000:] for log in logs)
    owners = {k: shard(WATCHLIST, f"{k}/3") for k in (1, 2, 3)}
    assert sorted(s for part in owners.values() for s in part) == sorted(WATCHLIST)
    for k, log in zip((1, 2, 3), logs, strict=True):
        assert f"shard {k}/3 watches {','.join(owners[k])}" in log
    for symbol in WATCHLIST:
        stored = store.read(symbol, DAY)
        assert len(stored) > 0, f"{symbol} was stored by no shard"
        assert not stored.duplicated(KEY).any()
        truth = market.ticks(symbol, DAY)
        merged = stored.merge(truth, on=KEY, suffixes=("", "_truth"))
        assert len(merged) == len(stored), f"{symbol}: a stored tick is not in the market"
        assert (merged["price"] == merged["price_truth"]).all() and (
            merged["size"] == merged["size_truth"]
        ).all()
    assert all(pd.Timestamp(store.read(s, DAY)["timestamp"].min()).date() == DAY for s in WATCHLIST)
