"""Stopping the simulator with clients still connected closes every connection cleanly."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import time

import pytest

from oss20.market import Market
from tests.conftest import simulator

pytestmark = pytest.mark.integration


def test_stop_closes_connected_clients_cleanly(market: Market, caplog: pytest.LogCaptureFixture) -> None:
    sim = simulator(market, start=dt.time(20, 0)).start()
    clients = [socket.create_connection(("127.0.0.1", port), timeout=5) for port in sim.ports.values()]
    for client in clients:
        client.sendall(b"S,SET PROTOCOL,6.1\r\n")
    time.sleep(0.3)
    with caplog.at_level(logging.WARNING, logger="asyncio"):
        sim.stop()
    assert not [r for r in caplog.records if r.name == "asyncio"], "no task died with the loop"
    for client in clients:
        while client.recv(65536):
            pass  # what was sent before the stop, then the end of the stream
        client.close()
