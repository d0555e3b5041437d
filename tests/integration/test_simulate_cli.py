"""`oss20 simulate` as a user runs it: a separate process on free ports, answering our client."""

from __future__ import annotations

import ast
import asyncio
import re
import signal
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from oss20.iqfeed.client import Endpoint, HistoryClient
from oss20.market import Market

pytestmark = pytest.mark.integration
OSS20 = Path(sys.executable).with_name("oss20")


def test_simulate_serves_the_market_and_stops_on_ctrl_c() -> None:
    command = "simulate --level1-port 0 --history-port 0 --admin-port 0 --day 2025-01-02 --start 20:00"
    command += " --symbols KO,AAPL --seed 3 --activity 0.02"
    process = subprocess.Popen([OSS20, *command.split()], stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        for line in process.stderr:
            if "simulator listening" in line:
                ports = ast.literal_eval(re.search(r"ports=(\{.*?\})", line)[1])
                break
        else:
            raise AssertionError(f"oss20 simulate ended before listening (exit {process.wait(5)})")
        endpoint = Endpoint("127.0.0.1", ports["level1"], ports["lookup"], ports["admin"])

        async def ask() -> pd.DataFrame:
            async with HistoryClient(endpoint) as history:
                return await history.ticks("KO", "2025-01-02 04:00", "2025-01-02 20:00")

        served = asyncio.run(ask())
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(30)
    pd.testing.assert_frame_equal(served, Market(seed=3, activity=0.02).ticks("KO", "2025-01-02"))
    assert code == 0
