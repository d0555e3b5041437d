"""The journal under SIGKILL: every batch a writer acknowledged is replayed intact, crash after crash."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from oss20.schema import TICK_COLUMNS, TZ
from oss20.storage.journal import Journal

pytestmark = pytest.mark.integration

KILLS = 5
FIRST_DAY = dt.date(2025, 1, 2)


def ticks_for(seq: int) -> pd.DataFrame:
    """The batch a writer appends as entry ``seq``: one ET day, 1 to ~3,000 rows, a new day every 40 seqs."""
    n = 1 + (seq * 7919) % 3_000
    rng = np.random.default_rng(seq)
    i = np.arange(n)
    price = np.round(190.0 + np.cumsum(rng.choice([-0.01, 0.0, 0.01], n)), 2)
    size = rng.choice([1, 10, 100, 300], n).astype(np.int64)
    start = pd.Timestamp(FIRST_DAY + dt.timedelta(days=seq // 40), tz=TZ) + pd.Timedelta(hours=9.5)
    frame = pd.DataFrame(
        {
            "timestamp": start + pd.to_timedelta(seq * 60_000_000 + i * 7, unit="us"),
            "symbol": "AAPL",
            "tick_id": seq * 10_000 + i,
            "market_center": (i % 30 + 1).astype(np.int16),
            "price": price,
            "size": size,
            "total_volume": seq * 1_000_000 + np.cumsum(size),
            "bid": price - 0.01,
            "ask": price + 0.01,
            "basis": "C",
            "conditions": np.where(i % 5 == 0, "3D", "").astype(object),
            "aggressor": (i % 3).astype(np.int8),
        }
    )
    return frame.astype(TICK_COLUMNS)


def write_until_killed(directory: str) -> None:
    """Child process: append forever, printing each seq only after append has returned."""
    with Journal(directory) as journal:
        while True:
            seq = journal.append(ticks_for(journal.last_seq + 1))
            print(seq, flush=True)


def test_acknowledged_batches_survive_sigkill(tmp_path: Path) -> None:
    rng = random.Random(20250102)
    module = Path(__file__)
    script = (
        f"import sys; sys.path.insert(0, {str(module.parent)!r}); "
        f"import {module.stem} as t; t.write_until_killed(sys.argv[1])"
    )
    acked: set[int] = set()
    checkpointed = 0
    for _ in range(KILLS):
        child = subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path)], stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None
        for _ in range(rng.randint(3, 30)):
            line = child.stdout.readline()
            assert line, f"writer exited early with {child.wait()}"
            acked.add(int(line))
        time.sleep(rng.uniform(0, 0.005))
        os.kill(child.pid, signal.SIGKILL)
        acked.update(int(line) for line in child.stdout.read().splitlines())
        child.stdout.close()
        assert child.wait() == -signal.SIGKILL

        with Journal(tmp_path) as journal:
            entries = list(journal.pending())
            assert [e.seq for e in entries] == list(range(checkpointed + 1, journal.last_seq + 1))
            assert {seq for seq in acked if seq > checkpointed} <= {e.seq for e in entries}
            for entry in entries:
                pd.testing.assert_frame_equal(entry.ticks, ticks_for(entry.seq), check_exact=True)
                assert entry.day == entry.ticks["timestamp"].iloc[0].date()
            checkpointed = rng.randint(checkpointed, journal.last_seq)
            journal.checkpoint(checkpointed)
    assert len(acked) > KILLS * 3
