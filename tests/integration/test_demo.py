"""`oss20 demo` as a new user runs it: simulator and client in one process, a live terminal table."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")


def test_demo_shows_live_ticks_for_the_watchlist(tmp_path: Path) -> None:
    ports = {f"OSS20_{name}_PORT": "0" for name in ("LEVEL1", "LOOKUP", "ADMIN")}
    env = {**os.environ, **ports, "OSS20_DATA_DIR": str(tmp_path)}
    # A first run on a fresh clone compiles the numba kernels before anything streams: allow for it.
    done = subprocess.run(
        [OSS20, "demo", "--symbols", "AAPL,KO", "--speed", "5", "--duration", "20"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    table = done.stdout
    rows = {m[0]: m for m in re.findall(r"(AAPL|KO)\s+│\s+([\d,.]+)\s+│\s+([\d,.]+)\s+│\s+([\d,.]+)", table)}
    assert set(rows) == {"AAPL", "KO"}, table
    for _, last, bid, ask in rows.values():
        assert 0 < float(bid.replace(",", "")) <= float(ask.replace(",", ""))
        assert float(last.replace(",", "")) > 0
    trades = int(re.search(r"trades ([\d,]+)", table)[1].replace(",", ""))
    assert trades > 0 and "malformed 0" in table
