"""ArcticDB on an S3-compatible store (moto's server on loopback): the collector, a backfill and reads
work against an s3:// URI exactly as against LMDB, and the URI's secret never reaches the logs."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pandas as pd
import pytest
from botocore.exceptions import EndpointConnectionError

from oss20.backfill.run import plan_backfill, run_backfill
from oss20.config import Settings
from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from oss20.storage.arctic import TickStore
from tests.conftest import DAY, simulator
from tests.integration.test_backfill import canonical
from tests.integration.test_gaps import FIRST, LAST, NOW, SESSIONS, store_with_cuts
from tests.integration.test_validate import free_port

pytestmark = pytest.mark.integration
BIN = Path(sys.executable).parent
SECRET = "oss20-s3-secret"


@pytest.fixture(scope="module")
def s3_uri() -> Iterator[str]:
    """A fresh bucket on a moto S3 server of our own; yields its ArcticDB URI."""
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = boto3.client(
        "s3",
        endpoint_url=f"http://127.0.0.1:{port}",
        aws_access_key_id="oss20",
        aws_secret_access_key=SECRET,
        region_name="us-east-1",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                client.create_bucket(Bucket="ticks")
                break
            except EndpointConnectionError:
                assert time.monotonic() < deadline and server.poll() is None, "moto_server did not start"
                time.sleep(0.3)
        yield f"s3://127.0.0.1:ticks?port={port}&access=oss20&secret={SECRET}&region=us-east-1"
    finally:
        server.terminate()
        server.wait(10)


def test_a_backfill_fills_an_s3_store_to_the_ground_truth(
    s3_uri: str, finished_sim: Simulator, market: Market, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=str(tmp_path),
        arctic_uri=s3_uri,
        level1_port=finished_sim.ports["level1"],
        lookup_port=finished_sim.ports["lookup"],
        admin_port=finished_sim.ports["admin"],
    )
    store_with_cuts(market, settings)
    chunks = plan_backfill(["AAPL", "KO"], FIRST, LAST, settings, NOW, extended_hours=True)
    assert chunks and all(o.status == "done" for o in run_backfill(chunks, settings, concurrency=4))
    truth = canonical(
        pd.concat([market.ticks(s, d) for s in ("AAPL", "KO") for d in SESSIONS], ignore_index=True)
    )
    pd.testing.assert_frame_equal(canonical(TickStore(s3_uri).read_range(["AAPL", "KO"], FIRST, LAST)), truth)
    assert SECRET not in repr(settings)


def test_the_collector_stores_live_ticks_in_s3(s3_uri: str, market: Market, tmp_path: Path) -> None:
    sim = simulator(market, speed=300, start=dt.time(10, 0))
    with sim.running():
        env = {
            **os.environ,
            "OSS20_DATA_DIR": str(tmp_path),
            "OSS20_ARCTIC_URI": s3_uri,
            "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
            "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
            "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
        }
        command = [
            str(BIN / "oss20"),
            "collect",
            "--symbols",
            "MSFT",
            "--duration",
            "6",
            "--metrics-port",
            "-1",
        ]
        done = subprocess.run(
            [*command, "--log-level", "INFO"], env=env, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stderr[-3000:]
    assert SECRET not in done.stdout + done.stderr
    stored = canonical(TickStore(s3_uri).read_range(["MSFT"], DAY, DAY))
    truth = canonical(market.ticks("MSFT", DAY))
    assert len(stored) > 200
    held = truth.merge(
        stored[["timestamp", "market_center", "tick_id"]], on=["timestamp", "market_center", "tick_id"]
    )
    pd.testing.assert_frame_equal(canonical(held), stored)
    assert stored["timestamp"].min() == truth["timestamp"].min(), "the fill from the open came back too"
