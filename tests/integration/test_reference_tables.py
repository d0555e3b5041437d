"""The lookup port's reference tables decode every market center and trade condition the feed sends."""

from __future__ import annotations

import socket

import pytest

from oss20.iqfeed.simulator import Simulator
from oss20.market import Market
from tests.conftest import DAY, endpoint

pytestmark = pytest.mark.integration


def table(port: int, verb: str) -> list[list[str]]:
    """Send one table request on a fresh lookup connection and read through ``!ENDMSG!``."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(f"S,SET PROTOCOL,6.1\r\n{verb}\r\n".encode())
        data = b""
        while not data.endswith(b"!ENDMSG!,\n"):
            data += sock.recv(65536)
    lines = data.decode("latin-1").splitlines()
    assert lines[0] == "S,CURRENT PROTOCOL,6.1" and lines[-1] == "!ENDMSG!,"
    return [line.split(",")[:-1] for line in lines[1:-1]]


def test_tables_decode_what_the_feed_sends(finished_sim: Simulator, market: Market) -> None:
    port = endpoint(finished_sim).lookup_port
    ticks = market.ticks("AAPL", DAY)
    venues = {int(row[0]): row for row in table(port, "SLM")}
    assert set(ticks["market_center"].unique()) <= set(venues)
    assert venues[19][3:] == ["2", "TRF"] and venues[5][1] == "NASDAQ"
    conditions = {int(row[0]): row[1] for row in table(port, "STC")}
    seen = {
        code
        for text in ticks["conditions"].unique()
        for code in (text[i : i + 2] for i in range(0, len(text), 2))
    }
    assert seen and all(int(code, 16) in conditions for code in seen)
    assert conditions[0x3D] == "INTERMARKETSWEEP" and conditions[0x87] == "ODDLOT"
    assert ["1", "EQUITY", "Equity"] in table(port, "SST")
    assert all(len(row) == 2 for verb in ("SSC", "SNC") for row in table(port, verb))
