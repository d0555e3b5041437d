"""`oss20 collect` and `oss20 ticks` as a user runs them: what is exported equals `oss20 simulate --dump`."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oss20.market import Market
from tests.conftest import ACTIVITY, DAY, SEED, simulator

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")


def oss20(*args: str, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([OSS20, *args], env=env, capture_output=True, timeout=timeout)


def test_collected_ticks_export_exactly_as_the_simulator_dumps_them(market: Market, tmp_path: Path) -> None:
    sim = simulator(market, start=dt.time(20, 0))
    env = {**os.environ, "OSS20_DATA_DIR": str(tmp_path)}
    with sim.running():
        env |= {f"OSS20_{name.upper()}_PORT": str(port) for name, port in sim.ports.items()}
        collected = oss20(
            "collect", "--symbols", "KO,SPY", "--duration", "6", "--metrics-port", "-1", env=env
        )
    assert collected.returncode == 0, collected.stderr.decode()
    assert b"stored=" in collected.stdout
    exported = oss20("ticks", "KO", DAY.isoformat(), env=env)
    dump = ["simulate", "--dump", "KO", DAY.isoformat(), "--seed", str(SEED), "--activity", str(ACTIVITY)]
    dumped = oss20(*dump, env=env)
    assert exported.returncode == 0, exported.stderr.decode()
    assert exported.stdout == dumped.stdout
    parquet = tmp_path / "spy.parquet"
    assert (
        oss20("ticks", "SPY", DAY.isoformat(), "--format", "parquet", "-o", str(parquet), env=env).returncode
        == 0
    )
    pd.testing.assert_frame_equal(pd.read_parquet(parquet), market.ticks("SPY", DAY))
    assert len(pd.read_csv(io.BytesIO(exported.stdout))) == len(market.ticks("KO", DAY))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("ticks", "AAPL/../x", "2025-01-02"), "not a valid ticker"),
        (("ticks", "AAPL", "2025-01-04"), "not an NYSE trading day"),
        (("ticks", "AAPL", "2025-01-02", "--format", "xlsx"), "unknown format"),
        (("ticks", "AAPL", "2025-01-02"), "no ticks stored for AAPL on 2025-01-02"),
        (("collect", "--symbols", "AAPL,B@D"), "not a valid ticker"),
        (("collect", "--symbols", ""), "no symbols to collect"),
        (("collect", "--symbols", "AAPL", "--bars", "1min,7h"), "time bars run from 1s to 1h"),
    ],
)
def test_bad_input_says_what_is_wrong(args: tuple[str, ...], message: str, tmp_path: Path) -> None:
    env = {**os.environ, "OSS20_DATA_DIR": str(tmp_path), "OSS20_WATCHLIST": ""}
    done = oss20(*args, env=env, timeout=60)
    assert done.returncode == 2
    assert message in done.stderr.decode()
    assert b"Traceback" not in done.stderr
