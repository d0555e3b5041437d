"""`oss20 collect` as a process, SIGKILLed at random moments while the feed also drops: every tick once."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from oss20.iqfeed.faults import FaultPlan
from oss20.market import Market
from oss20.storage.arctic import TickStore
from tests.conftest import DAY, simulator
from tests.frames import ORDER, canonical

pytestmark = [pytest.mark.integration, pytest.mark.slow]
OSS20 = Path(sys.executable).with_name("oss20")
SYMBOLS = ("AAPL", "MSFT", "KO", "SPY")


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Collector processes a test starts; any still running when it ends (a failed assert) is killed."""
    processes: list[subprocess.Popen[bytes]] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def start_collector(
    env: dict[str, str], log: Path, started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    command = [
        OSS20,
        "collect",
        "--symbols",
        ",".join(SYMBOLS),
        "--metrics-port",
        "-1",
        "--flush-every",
        "0.3",
    ]
    with log.open("ab") as sink:
        started.append(subprocess.Popen(command, env=env, stdout=sink, stderr=sink))
    return started[-1]


def test_killed_and_restarted_collector_stores_the_session_exactly_once(
    market: Market, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    seed = int(os.environ.get("OSS20_TEST_SEED", time.time_ns() % 2**32))
    print(f"OSS20_TEST_SEED={seed}")
    rng = random.Random(seed)
    sim = simulator(market, speed=1000, start=dt.time(9, 0), faults=FaultPlan(drop_every=3.0))
    expected = canonical(pd.concat([market.ticks(s, DAY) for s in SYMBOLS], ignore_index=True))
    log = tmp_path / "collector.log"
    with sim.running():
        env = {
            **os.environ,
            "OSS20_DATA_DIR": str(tmp_path / "data"),
            "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
            "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
            "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
        }
        kills = rng.randint(3, 4)  # at most 4 x 6.5 s: well inside the 40 s the simulated day lasts
        for kill in range(kills):
            process = start_collector(env, log, started)
            time.sleep(rng.uniform(2.5, 5.0))
            assert not sim.clock.finished, f"the day ended before kill {kill + 1} of {kills}"
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            time.sleep(rng.uniform(0.2, 1.5))
        process = start_collector(env, log, started)
        while not sim.clock.finished:
            time.sleep(0.5)
        store = TickStore(f"lmdb://{tmp_path / 'data' / 'arctic'}")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and sum(store.count(s, DAY) for s in SYMBOLS) < len(expected):
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        code = process.wait(60)
    assert code == 0, log.read_text()[-3000:]
    stored = canonical(store.read_range(SYMBOLS, DAY, DAY))
    assert not stored.duplicated(ORDER).any(), "a tick was stored twice"
    held = set(stored[ORDER].itertuples(index=False, name=None))
    lost = expected[[key not in held for key in expected[ORDER].itertuples(index=False, name=None)]]
    assert lost.empty, f"{len(lost)} ticks lost (seed {seed}), first: {lost.head(5).to_dict('records')}"
    pd.testing.assert_frame_equal(stored, expected)


def test_a_fill_under_way_when_the_collector_is_killed_is_asked_again_at_the_next_start(
    market: Market, tmp_path: Path, started: list[subprocess.Popen[bytes]]
) -> None:
    """The first start's fill (pre-market to now) is held up while live ticks after it are journaled
    and stored; the collector is killed before the fill answers. The next start holds later ticks than
    the whole window, so only the fill ledger can bring the window's ticks back."""
    sim = simulator(market, speed=300, start=dt.time(10, 0), faults=FaultPlan(history_delay=60.0))
    data = tmp_path / "data"
    log = tmp_path / "collector.log"
    with sim.running():
        env = {
            **os.environ,
            "OSS20_DATA_DIR": str(data),
            "OSS20_LEVEL1_PORT": str(sim.ports["level1"]),
            "OSS20_LOOKUP_PORT": str(sim.ports["lookup"]),
            "OSS20_ADMIN_PORT": str(sim.ports["admin"]),
        }
        process = start_collector(env, log, started)
        store = TickStore(f"lmdb://{data / 'arctic'}")
        opened = pd.Timestamp.combine(DAY, dt.time(10, 0)).tz_localize("America/New_York")
        deadline = time.monotonic() + 30
        while store.count("AAPL", DAY) == 0:  # live ticks after the held-up window are stored
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.2)
        assert store.read_range(["AAPL"], DAY, DAY)["timestamp"].min() >= opened
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        sim.set_faults(FaultPlan())
        process = start_collector(env, log, started)
        before = pd.concat([market.ticks(s, DAY) for s in SYMBOLS], ignore_index=True)
        before = canonical(before.loc[before["timestamp"] < opened])
        deadline = time.monotonic() + 60
        while sum(len(store.read_range([s], DAY, DAY, end=opened)) for s in SYMBOLS) < len(before):
            assert time.monotonic() < deadline, "the window of the killed fill never came back"
            time.sleep(0.5)
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0, log.read_text()[-3000:]
    stored = canonical(store.read_range(SYMBOLS, DAY, DAY))
    assert not stored.duplicated(ORDER).any(), "a tick was stored twice"
    early = stored.loc[stored["timestamp"] < opened].reset_index(drop=True)
    pd.testing.assert_frame_equal(early, before)
    assert "history fill resumed symbol=AAPL" in log.read_text()
