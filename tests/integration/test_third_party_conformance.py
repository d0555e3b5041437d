"""What a third-party IQFeed client (pyiqfeed, protocol 6.1) relies on, checked over raw sockets.

pyiqfeed is not on PyPI, so it cannot be installed here; this test speaks to the simulator the
way pyiqfeed does (its connect sequence, its request formats, its positional parsing rules) so a
change that would break it fails here. The field-name sets are IQFeed's own published names.
"""

from __future__ import annotations

import re
import socket
import time

import pytest

from oss20.iqfeed.simulator import Simulator
from tests.conftest import endpoint

pytestmark = pytest.mark.integration

UPDATE_FIELDNAMES = set(
    [
        "Symbol",
        "7 Day Yield",
        "Ask",
        "Ask Change",
        "Ask Market Center",
        "Ask Size",
        "Ask Time",
        "Available Regions",
        "Average Maturity",
        "Bid",
        "Bid Change",
        "Bid Market Center",
        "Bid Size",
        "Bid Time",
        "Change",
        "Change From Open",
        "Close",
        "Close Range 1",
        "Close Range 2",
        "Days to Expiration",
        "Decimal Precision",
        "Delay",
        "Exchange ID",
        "Extended Trade",
        "Extended Trade Date",
        "Extended Trade Market Center",
        "Extended Trade Size",
        "Extended Trade Time",
        "Extended Trading Change",
        "Extended Trading Difference",
        "Financial Status Indicator",
        "Fraction Display Code",
        "High",
        "Last",
        "Last Date",
        "Last Market Center",
        "Last Size",
        "Last Time",
        "Low",
        "Market Capitalization",
        "Market Open",
        "Message Contents",
        "Most Recent Trade",
        "Most Recent Trade Aggressor",
        "Most Recent Trade Conditions",
        "Most Recent Trade Date",
        "Most Recent Trade Day Code",
        "Most Recent Trade Market Center",
        "Most Recent Trade Size",
        "Most Recent Trade Time",
        "Net Asset Value",
        "Number of Trades Today",
        "Open",
        "Open Interest",
        "Open Range 1",
        "Open Range 2",
        "Percent Change",
        "Percent Off Average Volume",
        "Previous Day Volume",
        "Price-Earnings Ratio",
        "Range",
        "Restricted Code",
        "Settle",
        "Settlement Date",
        "Spread",
        "Tick",
        "TickID",
        "Total Volume",
        "Volatility",
        "VWAP",
    ]
)
FUNDAMENTAL_FIELDNAMES = [
    "Symbol",
    "Exchange ID",
    "PE",
    "Average Volume",
    "52 Week High",
    "52 Week Low",
    "Calendar Year High",
    "Calendar Year Low",
    "Dividend Yield",
    "Dividend Amount",
    "Dividend Rate",
    "Pay Date",
    "Ex-dividend Date",
    "Current Year EPS",
    "Next Year EPS",
    "Five-year Growth Percentage",
    "Fiscal Year End",
    "Company Name",
    "Root Option Symbol",
    "Percent Held By Institutions",
    "Beta",
    "Leaps",
    "Current Assets",
    "Current Liabilities",
    "Balance Sheet Date",
    "Long-term Debt",
    "Common Shares Outstanding",
    "Split Factor 1",
    "Split Factor 2",
    "Format Code",
    "Precision",
    "SIC",
    "Historical Volatility",
    "Security Type",
    "Listed Market",
    "52 Week High Date",
    "52 Week Low Date",
    "Calendar Year High Date",
    "Calendar Year Low Date",
    "Year End Close",
    "Maturity Date",
    "Coupon Rate",
    "Expiration Date",
    "Strike Price",
    "NAICS",
    "Exchange Root",
    "Option Premium Multiplier",
    "Option Multiple Deliverable",
    "Session Open Time",
    "Session Close Time",
    "Base Currency",
    "Contract Size",
    "Contract Months",
    "Minimum Tick Size",
    "First Delivery Date",
    "FIGI",
    "Security SubType",
]
DEFAULT_FIELDS = [
    "Symbol",
    "Most Recent Trade",
    "Most Recent Trade Size",
    "Most Recent Trade Time",
    "Most Recent Trade Market Center",
    "Total Volume",
    "Bid",
    "Bid Size",
    "Ask",
    "Ask Size",
    "Open",
    "High",
    "Low",
    "Close",
    "Message Contents",
    "Most Recent Trade Conditions",
]


class Lines:
    """A blocking line reader with a deadline, as pyiqfeed's reader thread would see the stream."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buffer = b""

    def send(self, *commands: str) -> None:
        self.sock.sendall("".join(c + "\r\n" for c in commands).encode("latin-1"))

    def until(self, predicate, timeout: float = 5.0) -> list[str]:  # type: ignore[no-untyped-def]
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            while b"\n" in self.buffer:
                raw, self.buffer = self.buffer.split(b"\n", 1)
                line = raw.decode("latin-1").strip()
                assert line, "pyiqfeed stops processing at a blank line"
                seen.append(line)
                if predicate(line):
                    return seen
            self.buffer += self.sock.recv(65536)
        raise AssertionError(f"timed out; last lines: {seen[-5:]}")

    def close(self) -> None:
        self.sock.close()


def test_level1_connect_sequence_and_messages(finished_sim: Simulator) -> None:
    conn = Lines(endpoint(finished_sim).level1_port)
    conn.send(
        "S,SET PROTOCOL,6.1",
        "S,SET CLIENT NAME,pyiqfeed-conformance",
        "S,CONNECT",
        "S,REQUEST FUNDAMENTAL FIELDNAMES",
        "S,REQUEST ALL UPDATE FIELDNAMES",
        "S,REQUEST CURRENT UPDATE FIELDNAMES",
    )
    lines = conn.until(lambda line: line.startswith("S,CURRENT UPDATE FIELDNAMES"))
    by_kind = {",".join(line.split(",")[:2]): line.split(",") for line in lines}
    assert by_kind["S,CURRENT PROTOCOL"][2] == "6.1"
    assert "S,SERVER CONNECTED" in by_kind
    assert set(by_kind["S,FUNDAMENTAL FIELDNAMES"][2:]) == set(FUNDAMENTAL_FIELDNAMES)
    assert set(by_kind["S,UPDATE FIELDNAMES"][2:]) == UPDATE_FIELDNAMES
    assert by_kind["S,CURRENT UPDATE FIELDNAMES"][2:] == DEFAULT_FIELDS

    conn.send("wAAPL")
    lines = conn.until(lambda line: line.startswith("P,AAPL"))
    fundamental = next(line for line in lines if line.startswith("F,")).split(",")
    assert len(fundamental) >= 58, "pyiqfeed reads fields[57]"
    for name in ("Average Volume", "Precision", "Listed Market", "Fiscal Year End", "NAICS"):
        value = fundamental[FUNDAMENTAL_FIELDNAMES.index(name) + 1]
        assert value == "" or (
            value.isdigit() and int(value) <= (255 if name != "Average Volume" else 2**63)
        ), name
    summary = lines[-1].split(",")
    assert len(summary) == len(DEFAULT_FIELDS) + 2 and summary[-1] == "", "P lines carry a trailing comma"
    time_field = summary[DEFAULT_FIELDS.index("Most Recent Trade Time") + 1]
    assert re.fullmatch(r"\d\d:\d\d:\d\d\.\d{6}", time_field), time_field
    for name in ("Most Recent Trade Size", "Total Volume", "Bid Size", "Ask Size"):
        assert summary[DEFAULT_FIELDS.index(name) + 1].isdigit(), name

    conn.send("S,SELECT UPDATE FIELDS,Most Recent Trade,TickID")
    line = conn.until(lambda line: line.startswith("S,CURRENT UPDATE FIELDNAMES"))[-1]
    assert line.split(",")[2:] == ["Symbol", "Most Recent Trade", "TickID"]
    conn.send("wNOSUCH")
    assert conn.until(lambda line: line.startswith("n,"))[-1] == "n,NOSUCH"
    conn.close()


def test_history_lines_under_protocol_6_1(finished_sim: Simulator) -> None:
    conn = Lines(endpoint(finished_sim).lookup_port)
    conn.send("S,SET PROTOCOL,6.1", "S,SET CLIENT NAME,HistoryConn")
    conn.until(lambda line: line.startswith("S,CURRENT PROTOCOL,6.1"))
    conn.send("HTX,AAPL,20,0,H_0000000000,20")
    ticks = conn.until(lambda line: line.startswith("H_0000000000,!ENDMSG!"))
    assert len(ticks) == 21
    for line in ticks[:-1]:
        f = line.split(",")
        assert f[0] == "H_0000000000" and f[1] != "LH", "no LH message type under 6.1"
        assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}", f[1])
        float(f[2]), int(f[3]), int(f[4]), float(f[5]), float(f[6]), int(f[7])
        assert f[8] in ("C", "E", "O") and int(f[9]) >= 0
        assert re.fullmatch(r"([0-9A-F]{2})*", f[10])
    stamps = [line.split(",")[1] for line in ticks[:-1]]
    assert stamps == sorted(stamps, reverse=True), "direction 0 is newest first"

    conn.send("HDX,AAPL,5,1,H_0000000001,5", "HIX,AAPL,60,3,1,H_0000000002,100,s,0")
    daily = conn.until(lambda line: line.startswith("H_0000000001,!ENDMSG!"))
    assert len(daily) == 6 and all(re.fullmatch(r"\d{4}-\d\d-\d\d", d.split(",")[1]) for d in daily[:-1])
    assert all(d.split(",")[7].isdigit() for d in daily[:-1]), "open interest is an integer, not empty"
    bars = conn.until(lambda line: line.startswith("H_0000000002,!ENDMSG!"))
    assert len(bars) == 4 and all(len(b.split(",")) >= 9 for b in bars[:-1])

    conn.send("HTX,ZZZZQ,10,0,H_0000000003,10")
    error = conn.until(lambda line: line.startswith("H_0000000003,!ENDMSG!"))
    assert error[0].split(",")[1:3] == ["E", "Invalid symbol."]
    conn.close()


def test_admin_stats_parse_as_pyiqfeed_parses_them(finished_sim: Simulator) -> None:
    conn = Lines(endpoint(finished_sim).admin_port)
    conn.send(
        "S,SET PROTOCOL,6.1",
        "S,SET CLIENT NAME,AdminConn",
        "S,CONNECT",
        "S,REGISTER CLIENT APP,TEST,1.0",
        "S,SET LOGINID,123456",
        "S,SET PASSWORD,secret",
        "S,SET AUTOCONNECT,On",
        "S,SET SAVE LOGIN INFO,On",
    )
    lines = conn.until(lambda line: line == "S,LOGIN INFO SAVED")
    assert "S,REGISTER CLIENT APP COMPLETED" in lines and "S,CURRENT LOGINID,123456" in lines
    assert "S,AUTOCONNECT ON" in lines and not any("secret" in line for line in lines)
    stats = conn.until(lambda line: line.startswith("S,STATS"))[-1].split(",")
    assert len(stats) > 20
    for position in (3, 4, 5, 6, 7, 8, 9):
        int(stats[position])
    for position in (10, 11):
        time.strptime(stats[position], "%b %d %I:%M%p")
    assert stats[12] == "Connected"
    conn.close()
