"""oss20.iqfeed.protocol: golden lines, exact round trips, and robustness against garbage."""

from __future__ import annotations

import datetime as dt
import itertools
import random
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oss20 import schema
from oss20.iqfeed import protocol as P
from oss20.iqfeed.protocol import _kernels as K

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
TZ = schema.TZ


def _ny(text: str) -> pd.Timestamp:
    return pd.Timestamp(text).tz_localize(TZ)


def level1_frame(rows: list[dict]) -> pd.DataFrame:
    """A LEVEL1_COLUMNS frame from partial rows (defaults: empty strings, zeros, NaN prices)."""
    base = {
        "symbol": "AAPL",
        "tick_id": 0,
        "market_center": 0,
        "price": np.nan,
        "size": 0,
        "total_volume": 0,
        "bid": np.nan,
        "ask": np.nan,
        "conditions": "",
        "aggressor": 0,
        "bid_size": 0,
        "ask_size": 0,
        "open": np.nan,
        "high": np.nan,
        "low": np.nan,
        "close": np.nan,
        "contents": "",
    }
    full = [{**base, **row} for row in rows]
    for row in full:
        row["basis"] = next((c for c in row["contents"] if c in "CEO"), "")
    frame = pd.DataFrame(full, columns=list(schema.LEVEL1_COLUMNS))
    frame["timestamp"] = pd.to_datetime(pd.Series([r["timestamp"] for r in full], dtype=object), utc=True)
    frame["timestamp"] = frame["timestamp"].dt.tz_convert(TZ)
    return schema.conform(frame, schema.LEVEL1_COLUMNS)


def lines_in(data: bytes) -> int:
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


# ---------------------------------------------------------------------------------------------
# constants


def test_field_lists_match_pyiqfeed_expectations():
    assert P.ALL_UPDATE_FIELDS[0] == "Symbol"
    assert len(P.ALL_UPDATE_FIELDS) == len(set(P.ALL_UPDATE_FIELDS)) == 70
    assert set(P.DEFAULT_UPDATE_FIELDS) <= set(P.ALL_UPDATE_FIELDS)
    assert P.OSS20_UPDATE_FIELDS[: len(P.DEFAULT_UPDATE_FIELDS)] == P.DEFAULT_UPDATE_FIELDS
    assert set(P.OSS20_UPDATE_FIELDS) <= set(P.ALL_UPDATE_FIELDS)
    assert len(P.FUNDAMENTAL_FIELDS) == len(set(P.FUNDAMENTAL_FIELDS)) == 57
    assert set(P.FIELD_COLUMNS) <= set(P.ALL_UPDATE_FIELDS)
    assert set(P.FIELD_COLUMNS.values()) <= set(schema.LEVEL1_COLUMNS)
    # every LEVEL1 column except the derived basis is carried by the OSS20 selection
    carried = {P.FIELD_COLUMNS[f] for f in P.OSS20_UPDATE_FIELDS}
    assert carried == set(schema.LEVEL1_COLUMNS) - {"basis"}


# ---------------------------------------------------------------------------------------------
# server-side formatting: golden lines


def test_format_level1_default_fields_golden():
    frame = level1_frame(
        [
            {
                "timestamp": _ny("2025-01-02 09:30:00.123456"),
                "symbol": "AAPL",
                "price": 234.05,
                "size": 100,
                "market_center": 5,
                "total_volume": 1200,
                "bid": 234.04,
                "bid_size": 300,
                "ask": 234.0521,
                "ask_size": 200,
                "open": 233.1,
                "high": 234.5,
                "low": 232.9,
                "contents": "Cba",
                "conditions": "3D87",
            }
        ]
    )
    line = P.format_level1("Q", frame, P.DEFAULT_UPDATE_FIELDS)
    assert (
        line
        == b"Q,AAPL,234.05,100,09:30:00.123456,5,1200,234.04,300,234.0521,200,233.1,234.5,232.9,,Cba,3D87,\n"
    )
    assert P.format_level1("P", frame, ["Bid", "Most Recent Trade Date"]) == b"P,AAPL,234.04,01/02/2025,\n"


def test_format_level1_optional_time_columns_and_passthrough():
    frame = level1_frame([{"timestamp": _ny("2025-01-02 10:00:00"), "contents": "b", "bid": 1.5}])
    frame["trade_timestamp"] = _ny("2025-01-02 09:59:58.5")
    frame["Decimal Precision"] = 4
    line = P.format_level1(
        "Q", frame, ["Symbol", "Most Recent Trade Time", "Bid Time", "Decimal Precision", "Delay"]
    )
    assert line == b"Q,AAPL,09:59:58.500000,10:00:00.000000,4,,\n"
    with pytest.raises(ValueError):
        P.format_level1("X", frame, P.DEFAULT_UPDATE_FIELDS)
    assert P.format_level1("Q", frame.iloc[:0], P.DEFAULT_UPDATE_FIELDS) == b""


def test_format_rejects_framing_breakers():
    frame = level1_frame([{"timestamp": _ny("2025-01-02 10:00"), "symbol": "A,B"}])
    with pytest.raises(ValueError, match="comma"):
        P.format_level1("Q", frame, P.DEFAULT_UPDATE_FIELDS)
    frame = level1_frame([{"timestamp": _ny("2025-01-02 10:00"), "bid": np.inf}])
    with pytest.raises(ValueError, match="finite"):
        P.format_level1("Q", frame, P.DEFAULT_UPDATE_FIELDS)


def test_small_messages_golden():
    assert P.format_system("CURRENT PROTOCOL", "6.2") == b"S,CURRENT PROTOCOL,6.2\n"
    assert P.format_system("SERVER CONNECTED") == b"S,SERVER CONNECTED\n"
    assert P.format_timestamp(_ny("2025-01-02 09:30:01.9")) == b"T,20250102 09:30:01\n"
    assert P.format_timestamp(pd.Timestamp("2025-07-01 13:30:01", tz="UTC")) == b"T,20250701 09:30:01\n"
    assert P.format_error("Unknown command") == b"E,Unknown command\n"
    assert P.format_unknown_symbol("XXXX") == b"n,XXXX\n"
    assert P.format_end("H_1") == b"H_1,!ENDMSG!,\n"
    assert P.format_history_error("H_1", P.NO_DATA) == b"H_1,E,!NO_DATA!,\nH_1,!ENDMSG!,\n"
    assert P.format_history_error("", P.NO_DATA) == b"E,!NO_DATA!,\n!ENDMSG!,\n"


def test_format_fundamental_positions_for_pyiqfeed():
    line = P.format_fundamental(
        {
            "Symbol": "AAPL",
            "PE": 31.2,
            "Average Volume": 52_000_000,
            "Pay Date": dt.date(2025, 2, 13),
            "NAICS": None,
        }
    )
    fields = line.decode().rstrip("\n").split(",")
    assert line.endswith(b",\n") and len(fields) == 59  # 57 values, "F", trailing empty field
    assert fields[0] == "F" and fields[1] == "AAPL" and fields[3] == "31.2" and fields[4] == "52000000"
    assert fields[1 + P.FUNDAMENTAL_FIELDS.index("Pay Date")] == "02/13/2025"
    with pytest.raises(KeyError):
        P.format_fundamental({"Symbol": "AAPL", "P/E": 1.0})


def test_stats_round_trip_and_pyiqfeed_shape():
    stats = {
        "server_ip": "127.0.0.1",
        "server_port": 5009,
        "max_symbols": 500,
        "symbols_watched": 3,
        "clients": 2,
        "connection_time": _ny("2025-01-02 09:30"),
        "market_time": _ny("2025-01-02 13:31"),
        "status": True,
        "feed_version": "6.2.0.25",
        "login_id": "SIM",
        "kb_received": 1.5,
        "kb_sent": 20,
    }
    line = P.format_stats(stats)
    fields = line.decode().rstrip("\n").split(",")
    assert len(fields) == 21 and fields[:2] == ["S", "STATS"]
    assert fields[10:13] == ["Jan 02 09:30AM", "Jan 02 01:31PM", "Connected"]
    parsed = P.parse_stats(line)
    assert parsed["server_port"] == 5009 and parsed["status"] is True and parsed["kb_sent"] == 20.0
    assert parsed["seconds_since_update"] == 0 and np.isnan(parsed["kbs_sent"])
    assert repr(P.parse_stats(tuple(fields))) == repr(parsed)
    with pytest.raises(KeyError):
        P.format_stats({"bogus": 1})


def _ticks(n: int = 3) -> pd.DataFrame:
    ts = [_ny("2025-01-02 09:30:00.000001") + pd.Timedelta(milliseconds=7 * i) for i in range(n)]
    frame = pd.DataFrame(
        {
            "timestamp": ts,
            "symbol": "AAPL",
            "tick_id": np.arange(n) + 100,
            "market_center": np.array([5, 11, 19] * n, np.int16)[:n],
            "price": 234.05 + np.arange(n) / 100,
            "size": 100,
            "total_volume": np.arange(n) * 100 + 100,
            "bid": 234.04,
            "ask": 234.06,
            "basis": "C",
            "conditions": (["01", "3D87", ""] * n)[:n],
            "aggressor": np.array([1, 2, 0] * n, np.int8)[:n],
        }
    )
    return schema.conform(frame, schema.TICK_COLUMNS)


def test_tick_history_lines_by_protocol():
    ticks = _ticks(2)
    assert P.format_tick_history("H_1", ticks, "6.1").splitlines() == [
        b"H_1,2025-01-02 09:30:00.000001,234.05,100,100,234.04,234.06,100,C,5,01,",
        b"H_1,2025-01-02 09:30:00.007001,234.06,100,200,234.04,234.06,101,C,11,3D87,",
    ]
    assert P.format_tick_history("H_1", ticks, "6.2").splitlines()[0] == (
        b"H_1,LH,2025-01-02 09:30:00.000001,234.05,100,100,234.04,234.06,100,C,5,01,1,2,"
    )


def test_bar_lines_order_high_low_open_close():
    bars = pd.DataFrame(
        {
            "timestamp": [_ny("2025-01-02 09:31:00")],
            "open": [1.0],
            "high": [3.0],
            "low": [0.5],
            "close": [2.0],
            "total_volume": [1000],
            "volume": [100],
            "trades": [7],
        }
    )
    assert P.format_interval_bars("B", bars, "6.1") == b"B,2025-01-02 09:31:00,3,0.5,1,2,1000,100,7,\n"
    daily = pd.DataFrame(
        {
            "date": [pd.Timestamp("2025-01-02")],
            "open": [1.0],
            "high": [3.0],
            "low": [0.5],
            "close": [2.0],
            "volume": [100],
            "open_interest": [0],
        }
    )
    assert P.format_daily("D", daily, "6.2") == b"D,LH,2025-01-02,3,0.5,1,2,100,0,\n"


# ---------------------------------------------------------------------------------------------
# prices: shortest text, exact reading


@SETTINGS
@given(
    st.one_of(
        st.floats(min_value=1e-9, max_value=1e17, allow_nan=False),
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False),
        st.builds(round, st.floats(min_value=0, max_value=1e5), st.integers(0, 6)),
    )
)
def test_price_text_round_trips_exactly(x):
    frame = pd.DataFrame(
        {"timestamp": [_ny("2025-01-02 10:00")], "price": [x], "size": [1], "total_volume": [1]}
    )
    frame = frame.assign(
        symbol="A", tick_id=1, market_center=1, bid=x, ask=x, basis="C", conditions="", aggressor=0
    )
    reply = P.parse_tick_history(P.format_tick_history("R", frame, "6.1"), "A")
    assert reply.malformed == []
    got = reply.frame["price"].iloc[0]
    assert got == x and np.signbit(got) == np.signbit(x)
    if abs(x) < 1e16 and x != 0:
        text = P.format_tick_history("R", frame, "6.1").split(b",")[2].decode()
        assert len(text.replace("-", "").replace(".", "").lstrip("0")) <= 17


def test_div_round_matches_python_float():
    rng = random.Random(7)
    for _ in range(3000):
        k = rng.randint(0, 22)
        m = (
            rng.randint(0, 2**63 - 1)
            if rng.random() < 0.5
            else (rng.randint(2**52, 2**60) | 1) * 10 ** rng.randint(0, 2)
        )
        if m < 2**63:
            assert K.div_round(m, k) == float(f"{m}e-{k}")


# ---------------------------------------------------------------------------------------------
# Level 1 round trips


SYMBOLS = st.one_of(
    st.sampled_from(["AAPL", "MSFT", "SPY", "BRK.B", "@ESH25"]),
    st.from_regex(r"[A-Z0-9./@]{1,8}", fullmatch=True),
)
PRICES = st.one_of(
    st.just(np.nan),
    st.builds(round, st.floats(min_value=0.0001, max_value=5000), st.integers(0, 4)),
    st.floats(min_value=1e-9, max_value=1e12, allow_nan=False),
)
CONDITIONS = st.lists(st.sampled_from(["01", "05", "17", "3D", "87", "8a"]), max_size=3).map("".join)


@st.composite
def level1_rows(draw, day: pd.Timestamp, n_max: int = 12) -> pd.DataFrame:
    rows = []
    for _ in range(draw(st.integers(0, n_max))):
        contents = draw(st.text(alphabet="CEObaohlcsv", max_size=5))
        is_trade = any(c in "CEO" for c in contents)
        date = day - pd.Timedelta(days=draw(st.integers(0, 3))) if is_trade else day
        wall = date + pd.Timedelta(microseconds=draw(st.integers(0, 86_400_000_000 - 1)))
        ts = wall.tz_localize(TZ, ambiguous=True, nonexistent="shift_forward")
        rows.append(
            {
                "timestamp": ts,
                "symbol": draw(SYMBOLS),
                "tick_id": draw(st.integers(0, 10**15)),
                "market_center": draw(st.integers(0, 32767)),
                "price": draw(PRICES),
                "size": draw(st.integers(0, 10**12)),
                "total_volume": draw(st.integers(0, 10**15)),
                "bid": draw(PRICES),
                "ask": draw(PRICES),
                "conditions": draw(CONDITIONS),
                "aggressor": draw(st.integers(0, 2)),
                "bid_size": draw(st.integers(0, 10**9)),
                "ask_size": draw(st.integers(0, 10**9)),
                "open": draw(PRICES),
                "high": draw(PRICES),
                "low": draw(PRICES),
                "close": draw(PRICES),
                "contents": contents,
            }
        )
    return level1_frame(rows) if rows else schema.empty_frame(schema.LEVEL1_COLUMNS)


DAYS = st.dates(dt.date(2001, 1, 1), dt.date(2099, 12, 31)).map(pd.Timestamp)


@SETTINGS
@given(st.data(), DAYS)
def test_level1_round_trip_exact(data, day):
    updates = data.draw(level1_rows(day))
    summaries = data.draw(level1_rows(day, 3))
    stream = (
        P.format_timestamp((day + pd.Timedelta(hours=12)).tz_localize(TZ))
        + P.format_level1("P", summaries, P.OSS20_UPDATE_FIELDS)
        + P.format_level1("Q", updates, P.OSS20_UPDATE_FIELDS)
    )
    batch = P.Level1Parser(P.OSS20_UPDATE_FIELDS).feed(stream)
    assert batch.malformed == []
    pd.testing.assert_frame_equal(batch.updates, updates, check_exact=True)
    pd.testing.assert_frame_equal(batch.summaries, summaries, check_exact=True)
    assert batch.messages == [("T", day.strftime("%Y%m%d") + " 12:00:00")]
    trades = batch.trades()
    assert list(trades.dtypes) == list(schema.TICK_COLUMNS.values())
    assert len(trades) == int((updates["basis"] != "").sum())


@SETTINGS
@given(st.data(), DAYS, st.lists(st.sampled_from(P.ALL_UPDATE_FIELDS[1:]), max_size=12, unique=True))
def test_level1_any_field_selection(data, day, fields):
    frame = data.draw(level1_rows(day, 6))
    batch = P.Level1Parser(fields, session_date=day).feed(P.format_level1("Q", frame, fields))
    assert batch.malformed == [] and len(batch.updates) == len(frame)
    layout = ("Symbol", *fields)
    for name, dtype in schema.LEVEL1_COLUMNS.items():
        assert batch.updates[name].dtype == dtype
        carried = [f for f in layout if P.FIELD_COLUMNS.get(f) == name]
        if name in ("timestamp", "basis"):
            continue
        got = batch.updates[name]
        if carried:
            pd.testing.assert_series_equal(got, frame[name], check_exact=True)
        elif name in ("price", "bid", "ask", "open", "high", "low", "close"):
            assert got.isna().all()
        elif dtype is object:
            assert (got == "").all()
        else:
            assert (got == 0).all()


def test_level1_quote_timestamps_follow_the_session():
    quote = level1_frame([{"timestamp": _ny("2025-03-10 10:00:00.25"), "contents": "ba", "bid": 1.0}])
    data = P.format_level1("Q", quote, P.OSS20_UPDATE_FIELDS)
    assert P.Level1Parser(P.OSS20_UPDATE_FIELDS).feed(data).updates["timestamp"].iloc[0] == _ny(
        "2025-03-10 10:00:00.25"
    )  # no T yet: the line's trade date stands in
    parser = P.Level1Parser(P.OSS20_UPDATE_FIELDS)
    batch = parser.feed(b"T,20250311 09:00:00\n" + data)
    assert batch.updates["timestamp"].iloc[0] == _ny("2025-03-11 10:00:00.25")
    assert parser.session_date == dt.date(2025, 3, 11)
    # default layout: no bid/ask times, so quote updates carry the last T time
    plain = P.format_level1("Q", quote, P.DEFAULT_UPDATE_FIELDS)
    batch = P.Level1Parser().feed(b"T,20250311 09:00:07\n" + plain)
    assert batch.updates["timestamp"].iloc[0] == _ny("2025-03-11 09:00:07")
    assert P.Level1Parser().feed(plain).updates["timestamp"].isna().all()


def test_level1_dst_days_localize_correctly():
    stamps = ["2025-03-09 01:59:59", "2025-03-09 03:00:00", "2025-11-02 00:30:00", "2025-11-02 12:00:00"]
    rows = [{"timestamp": _ny(s), "contents": "C", "price": 1.0} for s in stamps]
    frame = level1_frame(rows)
    batch = P.Level1Parser(P.OSS20_UPDATE_FIELDS).feed(P.format_level1("Q", frame, P.OSS20_UPDATE_FIELDS))
    pd.testing.assert_series_equal(batch.updates["timestamp"], frame["timestamp"])
    assert str(batch.updates["timestamp"].iloc[3].tz) == TZ


def test_level1_layout_switch_mid_chunk_and_messages():
    day = pd.Timestamp("2025-01-02")
    rows = [
        {
            "timestamp": _ny("2025-01-02 09:30:00.5"),
            "contents": "C",
            "price": 10.25,
            "tick_id": 9,
            "aggressor": 2,
        }
    ]
    frame = level1_frame(rows)
    stream = (
        P.format_system("CURRENT PROTOCOL", "6.1")
        + P.format_level1("Q", frame, P.DEFAULT_UPDATE_FIELDS)
        + P.format_system("CURRENT UPDATE FIELDNAMES", *P.OSS20_UPDATE_FIELDS)
        + P.format_level1("Q", frame, P.OSS20_UPDATE_FIELDS)
        + P.format_unknown_symbol("ZZZZ")
        + b"E,!SYNTAX_ERROR!,\n"
        + P.format_fundamental({"Symbol": "AAPL"})
    )
    for cut in (None, 40, 97, len(stream) - 3):
        parser = P.Level1Parser(session_date=day)
        if cut is None:
            batches = [parser.feed(stream)]
        else:
            batches = [parser.feed(stream[:cut]), parser.feed(stream[cut:])]
        updates = pd.concat([b.updates for b in batches], ignore_index=True)
        messages = [m for b in batches for m in b.messages]
        assert [b.malformed for b in batches] == [[]] * len(batches)
        assert parser.fields == P.OSS20_UPDATE_FIELDS
        assert list(updates["tick_id"]) == [0, 9] and list(updates["aggressor"]) == [0, 2]
        assert list(updates["price"]) == [10.25, 10.25]
        assert [m[:2] for m in messages] == [
            ("S", "CURRENT PROTOCOL"),
            ("S", "CURRENT UPDATE FIELDNAMES"),
            ("n", "ZZZZ"),
            ("E", "!SYNTAX_ERROR!"),
            ("F", "AAPL"),
        ]
        assert len(messages[-1]) == 58  # F + 57 fields, trailing comma dropped


def test_level1_tolerates_crlf_and_missing_trailing_comma():
    frame = level1_frame([{"timestamp": _ny("2025-01-02 09:30:00.5"), "contents": "C", "price": 1.5}])
    line = P.format_level1("Q", frame, P.DEFAULT_UPDATE_FIELDS)
    variants = [
        line,
        line.replace(b"\n", b"\r\n"),
        line.replace(b",\n", b"\n"),
        line.replace(b",\n", b"\r\n"),
    ]
    for data in variants:
        batch = P.Level1Parser(session_date=dt.date(2025, 1, 2)).feed(data)
        assert batch.malformed == [] and batch.updates["price"].tolist() == [1.5]


def test_level1_malformed_reasons():
    parser = P.Level1Parser()
    data = (
        b"Q,AAPL,1.5,100\n"  # too few fields
        b"Q,AAPL,1.x5,100,09:30:00.000001,5,100,1,1,1,1,1,1,1,1,C,01,\n"
        b"Q,AAPL,1.5,100,9:30,5,100,1,1,1,1,1,1,1,1,C,01,\n"
        b"T,2025-01-02 09:30:00\n"
        b"\n"
        b"Z,what\n"
        b"Q,AAPL,1.5,100,09:30:00.000001,5,100,1,1,1,1,1,1,1,1,C,0,\n"
    )
    batch = parser.feed(data)
    reasons = [m.reason for m in batch.malformed]
    assert len(reasons) == 7 and batch.updates.empty
    assert "field count" in reasons[0] and "'Most Recent Trade'" in reasons[1] and "'1.x5'" in reasons[1]
    assert "time" in reasons[2] and "timestamp message" in reasons[3] and reasons[4] == "empty line"
    assert "unknown message type" in reasons[5] and "hex" in reasons[6]
    assert batch.malformed[0].line == b"Q,AAPL,1.5,100"


def test_level1_partial_lines_and_flush():
    frame = level1_frame([{"timestamp": _ny("2025-01-02 09:30:00.5"), "contents": "C", "price": 2.0}])
    line = P.format_level1("Q", frame, P.DEFAULT_UPDATE_FIELDS).rstrip(b"\n")
    parser = P.Level1Parser(session_date=dt.date(2025, 1, 2))
    assert parser.feed(line[:10]).updates.empty
    assert parser.feed(line[10:]).updates.empty
    assert parser.flush().updates["price"].tolist() == [2.0]
    assert parser.flush().updates.empty


def _mutate(line: bytes, rng: random.Random) -> bytes:
    kind = rng.randrange(6)
    if kind == 0 and line:  # truncate
        return line[: rng.randrange(len(line))]
    if kind == 1:  # drop a field
        parts = line.split(b",")
        del parts[rng.randrange(len(parts))]
        return b",".join(parts)
    if kind == 2:  # swap a digit for a letter
        digits = [i for i, c in enumerate(line) if 48 <= c <= 57]
        if digits:
            i = rng.choice(digits)
            return line[:i] + bytes([rng.choice(b"xZ.-:")]) + line[i + 1 :]
        return line
    if kind == 3:  # insert junk (may contain commas, CR, LF, high bytes)
        i = rng.randrange(len(line) + 1)
        junk = bytes(rng.choice(b",\r\n\x00\xe9\xffA9.-") for _ in range(rng.randint(1, 4)))
        return line[:i] + junk + line[i:]
    if kind == 4:  # CR LF ending
        return line + b"\r"
    return line


@SETTINGS
@given(st.data(), DAYS, st.randoms(use_true_random=False))
def test_level1_mutations_never_raise_and_conserve_lines(data, day, rng):
    frame = data.draw(level1_rows(day, 8))
    fields = data.draw(st.sampled_from([P.DEFAULT_UPDATE_FIELDS, P.OSS20_UPDATE_FIELDS]))
    lines = P.format_level1(rng.choice("QP"), frame, fields).splitlines()
    lines += [b"T,20250102 09:30:00", b"S,SERVER CONNECTED", b"n,XYZ"]
    mutated = [_mutate(line, rng) if rng.random() < 0.6 else line for line in lines]
    rng.shuffle(mutated)
    stream = b"\n".join(mutated) + b"\n"
    parser = P.Level1Parser(fields)
    batch = parser.feed(stream)
    tail = parser.flush()
    total = sum(len(b.updates) + len(b.summaries) + len(b.messages) + len(b.malformed) for b in (batch, tail))
    assert total == lines_in(stream)
    for m in batch.malformed:
        assert isinstance(m.reason, str) and b"\n" not in m.line


@SETTINGS
@given(st.binary(max_size=400), st.lists(st.integers(0, 400), max_size=5))
def test_level1_random_bytes_and_chunking(blob, cuts):
    stream = blob + b"\nQ,AAPL," + blob[:40] + b"\nT,20250102 09:30:0" + blob[:3] + b"\n"
    one = P.Level1Parser()
    whole = [one.feed(stream), one.flush()]
    pieces = P.Level1Parser()
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    parts = [pieces.feed(stream[a:b]) for a, b in itertools.pairwise(bounds)] + [pieces.flush()]
    for attr in ("messages", "malformed"):
        assert [x for b in whole for x in getattr(b, attr)] == [x for b in parts for x in getattr(b, attr)]
    assert sum(
        len(b.updates) + len(b.summaries) + len(b.messages) + len(b.malformed) for b in whole
    ) == lines_in(stream)


@SETTINGS
@given(st.data(), DAYS, st.lists(st.integers(1, 5000), max_size=6))
def test_level1_chunk_boundaries_anywhere(data, day, cuts):
    frame = data.draw(level1_rows(day))
    stream = b"T," + day.strftime("%Y%m%d").encode() + b" 10:00:00\r\n"
    stream += P.format_level1("Q", frame, P.OSS20_UPDATE_FIELDS).replace(b"\n", b"\r\n")
    whole = P.Level1Parser(P.OSS20_UPDATE_FIELDS).feed(stream)
    parser = P.Level1Parser(P.OSS20_UPDATE_FIELDS)
    bounds = sorted({min(c, len(stream)) for c in cuts} | {0, len(stream)})
    parts = [parser.feed(stream[a:b]) for a, b in itertools.pairwise(bounds)]
    got = pd.concat([whole.updates.iloc[:0], *[p.updates for p in parts]], ignore_index=True)
    pd.testing.assert_frame_equal(got, whole.updates, check_exact=True)
    pd.testing.assert_frame_equal(whole.updates, frame, check_exact=True)
    assert [m for p in parts for m in p.messages] == whole.messages


def test_level1_short_lines_grow_the_outputs():
    """Lines far shorter than the parser's first guess of 64 bytes force its output arrays to grow."""
    lines = []
    for i in range(3000):
        lines.append(f"Q,S{i % 7},{i}.5,\n".encode())
        if i % 3 == 0:
            lines.append(b"T,20250102 09:30:00\n")
        if i % 5 == 0:
            lines.append(b"\n")
    stream = b"".join(lines)
    fields = ("Symbol", "Most Recent Trade")
    whole = P.Level1Parser(fields).feed(stream)
    one_by_one = P.Level1Parser(fields)
    parts = [one_by_one.feed(line) for line in lines]
    got = pd.concat([p.updates for p in parts], ignore_index=True)
    pd.testing.assert_frame_equal(whole.updates, got, check_exact=True)
    assert len(whole.updates) == 3000
    assert whole.updates["price"].iloc[-1] == 2999.5
    assert whole.messages == [m for p in parts for m in p.messages] and len(whole.messages) == 1000
    assert len(whole.malformed) == 600 and {m.reason for m in whole.malformed} == {"empty line"}


@given(st.lists(st.binary(max_size=12), min_size=1, max_size=8), st.lists(st.integers(0, 7), max_size=300))
@SETTINGS
def test_intern_codes_match_a_dict(pool, picks):
    """Short (packed key) and long (hashed) strings, many repeats: codes in order of first sight."""
    strings = [pool[i % len(pool)] for i in picks]
    starts = np.cumsum([0] + [len(s) for s in strings]).astype(np.int64)[: len(strings)]
    lens = np.array([len(s) for s in strings], np.int64)
    codes, firsts = K.intern(np.frombuffer(b"".join(strings), np.uint8), starts, lens)
    seen: dict[bytes, int] = {}
    want = [seen.setdefault(s, len(seen)) for s in strings]
    assert codes.tolist() == want
    assert [strings[i] for i in firsts.tolist()] == list(seen)


# ---------------------------------------------------------------------------------------------
# history round trips


@st.composite
def tick_frames(draw, aggressor: bool) -> pd.DataFrame:
    n = draw(st.integers(0, 10))
    day = draw(DAYS)
    walls = sorted(draw(st.lists(st.integers(0, 86_400_000_000 - 1), min_size=n, max_size=n)))
    ts = [
        (day + pd.Timedelta(microseconds=w)).tz_localize(TZ, ambiguous=True, nonexistent="shift_forward")
        for w in walls
    ]
    prices = st.builds(round, st.floats(min_value=0.0001, max_value=5000), st.integers(0, 4))
    frame = pd.DataFrame(
        {
            "timestamp": pd.Series(ts, dtype=schema.TIMESTAMP),
            "symbol": "SPY",
            "tick_id": draw(st.lists(st.integers(0, 10**12), min_size=n, max_size=n)),
            "market_center": draw(st.lists(st.integers(0, 32767), min_size=n, max_size=n)),
            "price": draw(st.lists(prices, min_size=n, max_size=n)),
            "size": draw(st.lists(st.integers(0, 10**9), min_size=n, max_size=n)),
            "total_volume": draw(st.lists(st.integers(0, 10**12), min_size=n, max_size=n)),
            "bid": draw(st.lists(prices | st.just(np.nan), min_size=n, max_size=n)),
            "ask": draw(st.lists(prices, min_size=n, max_size=n)),
            "basis": draw(st.lists(st.sampled_from("CEO"), min_size=n, max_size=n)),
            "conditions": draw(st.lists(CONDITIONS, min_size=n, max_size=n)),
            "aggressor": draw(st.lists(st.integers(0, 2), min_size=n, max_size=n)) if aggressor else 0,
        }
    )
    return schema.conform(frame, schema.TICK_COLUMNS)


@SETTINGS
@given(tick_frames(aggressor=True), st.sampled_from(["6.1", "6.2"]), st.booleans(), st.booleans())
def test_tick_history_round_trip(ticks, protocol, crlf, no_trailing_comma):
    data = P.format_tick_history("H_7", ticks, protocol) + P.format_end("H_7")
    if no_trailing_comma:
        data = data.replace(b",\n", b"\n")
    if crlf:
        data = data.replace(b"\n", b"\r\n")
    reply = P.parse_tick_history(data, "SPY")
    assert reply.complete and reply.error is None and reply.malformed == []
    expected = ticks if protocol == "6.2" else ticks.assign(aggressor=np.int8(0))
    pd.testing.assert_frame_equal(reply.frame, expected, check_exact=True)


@SETTINGS
@given(st.data(), st.sampled_from(["6.1", "6.2"]))
def test_bars_and_daily_round_trip(data, protocol):
    n = data.draw(st.integers(0, 8))
    day = data.draw(DAYS)
    prices = st.builds(round, st.floats(min_value=0.01, max_value=1e5), st.integers(0, 4))
    ints = st.lists(st.integers(0, 10**12), min_size=n, max_size=n)
    seconds = sorted(data.draw(st.lists(st.integers(0, 86399), min_size=n, max_size=n, unique=True)))
    bars = pd.DataFrame(
        {
            "timestamp": pd.Series(
                [
                    (day + pd.Timedelta(seconds=s)).tz_localize(
                        TZ, ambiguous=True, nonexistent="shift_forward"
                    )
                    for s in seconds
                ],
                dtype=schema.TIMESTAMP,
            ),
            "symbol": "QQQ",
            **{
                c: data.draw(st.lists(prices, min_size=n, max_size=n))
                for c in ("open", "high", "low", "close")
            },
            "total_volume": data.draw(ints),
            "volume": data.draw(ints),
            "trades": data.draw(ints),
        }
    )
    bars = schema.conform(bars, schema.INTERVAL_BAR_COLUMNS)
    reply = P.parse_interval_bars(P.format_interval_bars("B1", bars, protocol) + P.format_end("B1"), "QQQ")
    assert reply.complete and reply.malformed == []
    pd.testing.assert_frame_equal(reply.frame, bars, check_exact=True)
    dates = [day + pd.Timedelta(days=i) for i in range(n)]
    daily = pd.DataFrame(
        {
            "date": pd.Series(dates, dtype="datetime64[ns]"),
            "symbol": "QQQ",
            **{
                c: data.draw(st.lists(prices, min_size=n, max_size=n))
                for c in ("open", "high", "low", "close")
            },
            "volume": data.draw(ints),
            "open_interest": data.draw(ints),
        }
    )
    daily = schema.conform(daily, schema.DAILY_COLUMNS)
    reply = P.parse_daily(P.format_daily("D1", daily, protocol) + P.format_end("D1"), "QQQ")
    assert reply.complete and reply.malformed == []
    pd.testing.assert_frame_equal(reply.frame, daily, check_exact=True)


def test_history_errors_and_variants():
    reply = P.parse_tick_history(P.format_history_error("H_1", P.NO_DATA), "AAPL")
    assert reply.error == P.NO_DATA and reply.complete and reply.frame.empty
    assert list(reply.frame.dtypes) == list(schema.TICK_COLUMNS.values())
    reply = P.parse_tick_history(b"E,Too many simultaneous history requests.\r\n", "AAPL")
    assert reply.error == P.THROTTLED and not reply.complete
    ticks = _ticks(3)
    no_rid = P.format_tick_history("", ticks, "6.1")
    reply = P.parse_tick_history(no_rid + b"!ENDMSG!,\n", "AAPL")
    assert reply.complete and len(reply.frame) == 3
    partial = P.format_tick_history("H_2", ticks, "6.2")
    reply = P.parse_tick_history(partial[:-30], "AAPL")  # cut mid-line, no end marker
    assert not reply.complete and len(reply.frame) == 2 and len(reply.malformed) == 1


@SETTINGS
@given(tick_frames(aggressor=True), st.randoms(use_true_random=False), st.sampled_from(["6.1", "6.2"]))
def test_history_mutations_never_raise(ticks, rng, protocol):
    lines = (P.format_tick_history("H_3", ticks, protocol) + P.format_end("H_3")).splitlines()
    mutated = [_mutate(line, rng) if rng.random() < 0.5 else line for line in lines]
    data = b"\n".join(mutated) + b"\n"
    for parse in (P.parse_tick_history, P.parse_interval_bars, P.parse_daily):
        reply = parse(data, "SPY")
        assert len(reply.frame) + len(reply.malformed) + reply.markers == lines_in(data)


@SETTINGS
@given(st.binary(max_size=300))
def test_history_random_bytes(blob):
    for parse in (P.parse_tick_history, P.parse_interval_bars, P.parse_daily):
        reply = parse(blob, "X")
        assert len(reply.frame) + len(reply.malformed) + reply.markers == lines_in(blob)


def test_split_reply_and_strip_request_id():
    a = P.format_tick_history("A1", _ticks(2), "6.1")
    b = P.format_tick_history("A10", _ticks(1), "6.1")
    first = a.index(b"\n") + 1
    buffer = a[:first] + b + a[first:] + P.format_end("A1") + b"A10,!END"
    split = P.split_reply(buffer, "A1")
    assert split.done and split.mine == a + P.format_end("A1")
    assert split.rest == b + b"A10,!END"
    assert not P.split_reply(a, "A1").done and P.split_reply(a[:30], "A1").rest == a[:30]
    stripped = P.strip_request_id(buffer, "A1")
    assert stripped.startswith(b"2025-01-02 09:30:00.000001,") and stripped.endswith(b"!ENDMSG!,\n")
    reply = P.parse_tick_history(stripped, "AAPL")
    assert reply.complete and len(reply.frame) == 2
    assert P.strip_request_id(a + b"A1,!ENDMSG!", "A1").endswith(b"!ENDMSG!\n")


# ---------------------------------------------------------------------------------------------
# commands


def test_parse_command_scheme():
    assert P.parse_command(b"wAAPL\r\n") == P.Command("w", ("AAPL",))
    assert P.parse_command("tMSFT") == P.Command("t", ("MSFT",))
    assert P.parse_command("T") == P.Command("T", ())
    assert P.parse_command(b"S,SET PROTOCOL,6.2\r\n") == P.Command("S,SET PROTOCOL", ("6.2",))
    assert P.parse_command("S,unwatch all") == P.Command("S,UNWATCH ALL", ())
    assert P.parse_command("S,SELECT UPDATE FIELDS,Bid,Ask") == P.Command(
        "S,SELECT UPDATE FIELDS", ("Bid", "Ask")
    )
    assert P.parse_command("HTX,AAPL,,1,R1,") == P.Command("HTX", ("AAPL", "", "1", "R1", ""))
    assert P.parse_command("SLM") == P.Command("SLM", ())
    for garbage in ["", "\r\n", "w", "wA,B", "S", "S,", "hello world", "12,3", "HTX\x00,A", b"\xff\xfe"]:
        with pytest.raises(P.ProtocolError):
            P.parse_command(garbage)


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("HTX,SPY,100,0,H_0000000000,100", {"max_points": 100, "direction": 0, "per_send": 100}),
        (
            "HTD,SPY,4,100,100000,120000,0,H_0000000001,100",
            {"days": 4, "begin_filter": dt.time(10), "end_filter": dt.time(12)},
        ),
        (
            "HTT,SPY,20240101 093000,20240106 093000,100,,,0,H_0000000002,100",
            {"begin": _ny("2024-01-01 09:30"), "end": _ny("2024-01-06 09:30"), "begin_filter": None},
        ),
        (
            "HIX,SPY,60,100,0,H_0000000003,100,s,0",
            {"interval": 60, "interval_type": "s", "label_at_beginning": False},
        ),
        (
            "HID,SPY,60,5,,,,0,H_4,100,v,1",
            {"days": 5, "max_points": None, "interval_type": "v", "label_at_beginning": True},
        ),
        ("HIT,SPY,60,20240101 000000,20240111 235959,,,,0,H_5,100,t,0", {"end": _ny("2024-01-11 23:59:59")}),
        ("HDX,SPY,10,0,H_6,10", {"max_points": 10, "per_send": 10}),
        ("HDT,SPY,20240101,20240131,,0,H_7,100", {"begin": _ny("2024-01-01"), "end": _ny("2024-01-31")}),
        ("HWX,SPY,0,1,H_8", {"max_points": None, "direction": 1, "per_send": P.DEFAULT_PER_SEND}),
    ],
)
def test_parse_history_request_pyiqfeed_lines(line, expected):
    request = P.parse_history_request(P.parse_command(line))
    assert request.kind == line[:3] and request.symbol == "SPY"
    for name, value in expected.items():
        assert getattr(request, name) == value, name
    assert P.request_id_of(line) == request.request_id


@pytest.mark.parametrize(
    "line",
    [
        "HTX,AAPL,abc,0,R1,100",
        "HTX,AAPL,10,2,R1,100",
        "HTX,,10,0,R1,100",
        "HTX,AAPL,10,0,R1,100,extra",
        "HTD,AAPL,,10,,,0,R1",
        "HTD,AAPL,1,10,25,,0,R1",
        "HTT,AAPL,2024-01-01,,10,,,0,R1",
        "HTT,AAPL,20241301 000000,,10,,,0,R1",
        "HIX,AAPL,0,10,0,R1,100,s,0",
        "HIX,AAPL,60,10,0,R1,100,x,0",
        "HIX,AAPL,60,10,0,R1,100,s,2",
        "HDT,AAPL,20240101 093000,,,0,R1",
        "XYZ,AAPL",
    ],
)
def test_parse_history_request_rejects(line):
    with pytest.raises(P.ProtocolError):
        P.parse_history_request(P.parse_command(line))


def test_client_commands_round_trip():
    begin, end = _ny("2025-01-02 09:30"), pd.Timestamp("2025-01-02 16:00")
    requests = [
        P.TickRequest(kind="HTX", symbol="AAPL", request_id="R1", max_points=100),
        P.TickRequest(
            kind="HTD",
            symbol="AAPL",
            request_id="R2",
            days=3,
            begin_filter=dt.time(9, 30),
            end_filter=dt.time(16),
            direction=0,
            per_send=50,
        ),
        P.TickRequest(kind="HTT", symbol="AAPL", request_id="R3", begin=begin, end=end, max_points=500),
        P.IntervalRequest(
            kind="HIX",
            symbol="AAPL",
            request_id="R4",
            interval=60,
            max_points=10,
            interval_type="v",
            label_at_beginning=True,
        ),
        P.IntervalRequest(kind="HID", symbol="AAPL", request_id="R5", interval=300, days=5, direction=0),
        P.IntervalRequest(
            kind="HIT",
            symbol="AAPL",
            request_id="R6",
            interval=60,
            begin=begin,
            begin_filter=dt.time(9, 30),
            per_send=100,
            interval_type="t",
        ),
        P.DailyRequest(kind="HDX", symbol="AAPL", request_id="R7", max_points=30),
        P.DailyRequest(
            kind="HDT", symbol="AAPL", request_id="R8", begin=dt.date(2025, 1, 2), end="2025-01-31"
        ),
        P.DailyRequest(kind="HWX", symbol="AAPL", request_id="R9", max_points=4, direction=0),
        P.DailyRequest(kind="HMX", symbol="AAPL", request_id="R10", max_points=4, direction=0),
    ]
    cmds = [P.format_request(r) for r in requests]
    assert cmds[0] == b"HTX,AAPL,100,1,R1,500\r\n"
    assert cmds[1] == b"HTD,AAPL,3,,093000,160000,0,R2,50\r\n"
    assert cmds[2] == b"HTT,AAPL,20250102 093000,20250102 160000,500,,,1,R3,500\r\n"
    assert cmds[3] == b"HIX,AAPL,60,10,1,R4,500,v,1\r\n"
    assert cmds[5] == b"HIT,AAPL,60,20250102 093000,,,093000,,1,R6,100,t,0\r\n"
    assert cmds[7] == b"HDT,AAPL,20250102,20250131,,1,R8,500\r\n"
    parsed = [P.parse_history_request(P.parse_command(c)) for c in cmds]
    assert parsed == requests
    assert [P.request_id_of(c) for c in cmds] == [f"R{i}" for i in range(1, 11)]
    assert requests[2].end == _ny("2025-01-02 16:00")  # naive times are New York wall time
    assert requests[7].begin == _ny("2025-01-02") and requests[7].max_points is None
    assert P.cmd_set_protocol("6.2") == b"S,SET PROTOCOL,6.2\r\n"
    assert P.cmd_watch("AAPL") == b"wAAPL\r\n" and P.cmd_unwatch("AAPL") == b"rAAPL\r\n"
    assert P.cmd_select_fields(P.OSS20_UPDATE_FIELDS).startswith(b"S,SELECT UPDATE FIELDS,Most Recent Trade,")
    assert P.cmd_timestamps(False) == b"S,TIMESTAMPSOFF\r\n"
    with pytest.raises(ValueError):
        P.cmd_watch("A B")
    with pytest.raises(ValueError):
        P.cmd_select_fields(["Bid", "Not A Field"])


def test_request_values_keep_what_the_wire_carries():
    """Values are kept as the wire says them: New York time to the second, 0 points = all (None)."""
    r = P.TickRequest(
        kind="HTT",
        symbol="AAPL",
        request_id="R",
        begin=pd.Timestamp("2025-01-02 14:30:00.75", tz="UTC"),
        end=pd.Timestamp("2025-01-02 23:59:59.999999"),
        begin_filter=dt.time(9, 30, 0, 500),
        max_points=0,
    )
    assert r.begin == _ny("2025-01-02 09:30") and str(r.begin.tz) == TZ
    assert r.end == _ny("2025-01-02 23:59:59") and r.begin_filter == dt.time(9, 30)
    assert r.max_points is None and r.direction == 1 and r.per_send == P.DEFAULT_PER_SEND
    # the repeated November hour: the wire cannot say EST, so it reads (and is kept) as EDT
    est = pd.Timestamp("2024-11-03 06:30", tz="UTC")
    r = P.TickRequest(kind="HTT", symbol="AAPL", request_id="R", begin=est)
    assert r.begin == pd.Timestamp("2024-11-03 05:30", tz="UTC")
    d = P.DailyRequest(kind="HDT", symbol="AAPL", request_id="R", begin=_ny("2025-01-02 15:00"))
    assert d.begin == _ny("2025-01-02")
    assert P.IntervalRequest(kind="HIX", symbol="A", request_id="R", interval=60).interval_type == "s"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: P.TickRequest(kind="HIX", symbol="AAPL", request_id="R"), "kind must be one of HTX"),
        (lambda: P.TickRequest(kind="HTX", symbol="", request_id="R"), "symbol must be non-empty"),
        (lambda: P.TickRequest(kind="HTX", symbol="A B", request_id="R"), "without commas, spaces"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id="R,1"), "request_id must be text"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id=" R"), "surrounding spaces"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id="R", max_points=-1), "or None for all"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id="R", direction=2), "0 (newest first)"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id="R", direction=True), "1 (oldest"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id="R", per_send=0), "per_send must be"),
        (lambda: P.TickRequest(kind="HTX", symbol="AAPL", request_id="R", days=3), "only HTD take it"),
        (lambda: P.TickRequest(kind="HTD", symbol="AAPL", request_id="R"), "HTD days must be an int >= 0"),
        (lambda: P.TickRequest(kind="HTT", symbol="AAPL", request_id="R", begin=5), "must be a timestamp"),
        (
            lambda: P.TickRequest(kind="HTD", symbol="AAPL", request_id="R", days=1, end_filter="16:00"),
            "datetime.time",
        ),
        (lambda: P.IntervalRequest(kind="HIX", symbol="A", request_id="R", interval=0), "interval must be"),
        (
            lambda: P.IntervalRequest(kind="HIX", symbol="A", request_id="R", interval=60, interval_type="x"),
            "'s' (seconds)",
        ),
        (
            lambda: P.IntervalRequest(
                kind="HIX", symbol="A", request_id="R", interval=6, label_at_beginning=1
            ),
            "True (label bars by their start)",
        ),
        (
            lambda: P.DailyRequest(kind="HDX", symbol="A", request_id="R", begin=_ny("2025-01-02")),
            "only HDT take it",
        ),
    ],
)
def test_request_values_reject_what_the_wire_cannot_say(make, message):
    with pytest.raises(P.ProtocolError, match=re.escape(message)):
        make()
    with pytest.raises(TypeError):
        P.format_request(P.Command("HTX", ("AAPL",)))  # type: ignore[arg-type]


REQUEST_IDS = st.text(
    alphabet=st.characters(min_codepoint=32, max_codepoint=255, blacklist_characters=",\x7f"), max_size=8
).filter(lambda s: s == s.strip())
MOMENTS = st.one_of(
    st.none(),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2099, 12, 31)).map(pd.Timestamp),
    st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2099, 12, 31)).map(
        lambda d: pd.Timestamp(d).tz_localize("UTC")
    ),
)
FILTERS = st.one_of(st.none(), st.times())
COMMON = {
    "symbol": SYMBOLS,
    "request_id": REQUEST_IDS,
    "max_points": st.one_of(st.none(), st.integers(0, 10**9)),
    "direction": st.integers(0, 1),
    "per_send": st.integers(1, 10**6),
}
TICK_EXTRA = {
    "HTX": {},
    "HTD": {"days": st.integers(0, 400), "begin_filter": FILTERS, "end_filter": FILTERS},
    "HTT": {"begin": MOMENTS, "end": MOMENTS, "begin_filter": FILTERS, "end_filter": FILTERS},
}
INTERVAL = {
    "interval": st.integers(1, 10**7),
    "interval_type": st.sampled_from("stv"),
    "label_at_beginning": st.booleans(),
}
REQUESTS = st.one_of(
    *(st.builds(P.TickRequest, kind=st.just(k), **COMMON, **extra) for k, extra in TICK_EXTRA.items()),
    *(
        st.builds(P.IntervalRequest, kind=st.just("HI" + k[2]), **COMMON, **INTERVAL, **extra)
        for k, extra in TICK_EXTRA.items()
    ),
    *(st.builds(P.DailyRequest, kind=st.just(k), **COMMON) for k in ("HDX", "HWX", "HMX")),
    st.builds(
        P.DailyRequest,
        kind=st.just("HDT"),
        **COMMON,
        begin=st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), dt.date(2099, 12, 31))),
        end=MOMENTS,
    ),
)


@SETTINGS
@given(REQUESTS)
def test_format_request_round_trips_every_kind(request):
    line = P.format_request(request)
    assert line.endswith(b"\r\n") and line.count(b",") == len(P.parse_command(line).args)
    assert P.parse_history_request(P.parse_command(line)) == request
    assert P.request_id_of(line) == request.request_id
