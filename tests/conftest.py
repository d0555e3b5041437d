"""Shared fixtures: one synthetic market per test process, simulators on free loopback ports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

from oss20.iqfeed.client import Endpoint
from oss20.iqfeed.simulator import Simulator, SimulatorConfig
from oss20.market import Market

DAY = dt.date(2025, 1, 2)
SEED = 7
ACTIVITY = 0.02


@pytest.fixture(scope="session")
def market() -> Market:
    """A light market (2% of realistic activity) shared by every test in the process."""
    return Market(seed=SEED, activity=ACTIVITY)


def simulator(market: Market, **overrides: object) -> Simulator:
    """A simulator on free ports over the shared market; overrides go to SimulatorConfig."""
    config = SimulatorConfig(
        level1_port=0, lookup_port=0, admin_port=0, day=DAY, seed=SEED, activity=ACTIVITY
    )
    for key, value in overrides.items():
        setattr(config, key, value)
    return Simulator(config, market=market)


def endpoint(sim: Simulator) -> Endpoint:
    return Endpoint("127.0.0.1", sim.ports["level1"], sim.ports["lookup"], sim.ports["admin"])


@pytest.fixture
def finished_sim(market: Market) -> Iterator[Simulator]:
    """A simulator whose day has been played to its end: history holds the whole session."""
    sim = simulator(market, start=dt.time(20, 0))
    with sim.running():
        yield sim
