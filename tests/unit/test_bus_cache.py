"""The in-process bus and cache: event round trips, filters, lagging subscribers, cache semantics."""

from __future__ import annotations

import asyncio
import threading
import time

import numpy as np
import pandas as pd
import pytest

from oss20.bus import (
    BarEvent,
    CollectionEvent,
    InProcessBus,
    SystemEvent,
    TickEvent,
    ValidationEvent,
    channel,
    decode,
    encode,
    open_bus,
)
from oss20.schema import TICK_COLUMNS, TZ, conform
from oss20.storage.cache import MemoryCache, key, open_cache

NOT_BLOCKED = 1.0
"""Slowest call that still proves a writer did not wait on Redis or on a reader: waiting would take
the 2 s connect timeout (or forever); anything below is the scheduler of a loaded machine."""


def tick_frame(symbol: str = "AAPL", rows: int = 3) -> pd.DataFrame:
    start = pd.Timestamp("2025-01-02 09:30:00.000001", tz=TZ)
    frame = pd.DataFrame(
        {
            "timestamp": [start + pd.Timedelta(microseconds=137 * i) for i in range(rows)],
            "symbol": [symbol] * rows,
            "tick_id": range(100, 100 + rows),
            "market_center": [11] * rows,
            "price": [189.5 + 0.01 * i for i in range(rows)],
            "size": [100] * rows,
            "total_volume": [1000 + 100 * i for i in range(rows)],
            "bid": [189.49] * rows,
            "ask": [np.nan if i == 0 else 189.52 for i in range(rows)],
            "basis": ["C"] * rows,
            "conditions": ["", "3D", "87"][:rows] + [""] * max(0, rows - 3),
            "aggressor": [1, 2, 0][:rows] + [0] * max(0, rows - 3),
        }
    )
    return conform(frame, TICK_COLUMNS)


EVENTS = [
    BarEvent("AAPL", "1min", {"open": 1.0, "close": 2.5, "volume": 300, "timestamp": "2025-01-02T09:30:00"}),
    ValidationEvent("MSFT", "2025-01-02", 2, "spread", "warn", {"wide": 3, "p99": 0.12}),
    CollectionEvent("task-7", "running", {"received": 10, "stored": 9}, "chunk 2/5"),
    CollectionEvent("task-8", "done", {}),
    SystemEvent("collector", "running", "watching 3 symbols", {"symbols": ["A", "B"]}),
    SystemEvent("feed", "down"),
]


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_round_trip(event: object) -> None:
    assert decode(encode(event)) == event  # type: ignore[arg-type]


def test_tick_event_round_trips_to_the_same_frame() -> None:
    frame = tick_frame()
    event = TickEvent.from_frame("AAPL", frame)
    assert list(event.ticks) == list(TICK_COLUMNS)
    assert event.ticks["timestamp"].dtype == np.int64
    back = decode(encode(event))
    assert isinstance(back, TickEvent)
    pd.testing.assert_frame_equal(back.frame(), frame)
    pd.testing.assert_frame_equal(event.frame(), frame)
    assert str(back.frame()["timestamp"].dt.tz) == TZ


def test_tick_event_rejects_frames_it_cannot_carry() -> None:
    with pytest.raises(KeyError, match="lacks columns"):
        TickEvent.from_frame("AAPL", tick_frame().drop(columns="bid"))
    naive = tick_frame().assign(timestamp=lambda f: f["timestamp"].dt.tz_localize(None))
    with pytest.raises(ValueError, match="time-zone aware"):
        TickEvent.from_frame("AAPL", naive)


def test_empty_tick_event_round_trips() -> None:
    frame = tick_frame(rows=0)
    back = decode(encode(TickEvent.from_frame("AAPL", frame)))
    assert isinstance(back, TickEvent)
    pd.testing.assert_frame_equal(back.frame(), frame, check_index_type=False)


def test_numpy_and_pandas_values_become_plain_json() -> None:
    event = BarEvent(
        "AAPL",
        "1min",
        {"volume": np.int64(5), "close": np.float32(1.5), "at": pd.Timestamp("2025-01-02 09:30", tz=TZ)},
    )
    back = decode(encode(event))
    assert isinstance(back, BarEvent)
    assert back.bar == {"volume": 5, "close": 1.5, "at": "2025-01-02T09:30:00-05:00"}


def test_decode_says_what_is_wrong() -> None:
    with pytest.raises(ValueError, match="not an oss20 event"):
        decode(b'{"kind": "weather", "symbol": "AAPL"}')
    with pytest.raises(ValueError, match="not an oss20 event"):
        decode(b"not json")


def test_channels_follow_the_design() -> None:
    assert channel(TickEvent("AAPL", {})) == "oss20:tick:AAPL"
    assert channel(EVENTS[0]) == "oss20:bar:AAPL"
    assert channel(EVENTS[1]) == "oss20:validation:MSFT"
    assert channel(EVENTS[2]) == "oss20:collection:task-7"
    assert channel(EVENTS[4]) == "oss20:system"


def test_subscriptions_filter_by_kind_and_symbol() -> None:
    bus = open_bus()
    assert isinstance(bus, InProcessBus)
    everything = bus.subscribe()
    aapl = bus.subscribe(symbols=["aapl"])
    aapl_bars = bus.subscribe(kinds=["bar"], symbols=["AAPL"])
    system = bus.subscribe(kinds=["system"])
    for event in EVENTS:
        bus.publish(event)
    assert [type(e).__name__ for e in everything.drain()] == [type(e).__name__ for e in EVENTS]
    assert [e.kind for e in aapl.drain()] == ["bar", "collection", "collection", "system", "system"]
    assert [e.kind for e in aapl_bars.drain()] == ["bar"]
    assert [e.status for e in system.drain()] == ["running", "down"]  # type: ignore[union-attr]
    assert bus.stats.published == len(EVENTS) and bus.stats.failed == bus.stats.dropped == 0


def test_subscribe_rejects_unknown_kinds_and_bad_symbols() -> None:
    bus = InProcessBus()
    with pytest.raises(ValueError, match="unknown event kinds"):
        bus.subscribe(kinds=["ticks"])
    with pytest.raises(ValueError, match="not a valid ticker"):
        bus.subscribe(symbols=["oss20:*"])


def test_bus_stamps_sent_ns_unless_set() -> None:
    bus = InProcessBus()
    sub = bus.subscribe()
    before = time.time_ns()
    bus.publish(SystemEvent("a", "ok"))
    bus.publish(SystemEvent("b", "ok", sent_ns=42))
    first, second = sub.drain()
    assert first.sent_ns >= before and second.sent_ns == 42


def test_slow_subscriber_loses_its_oldest_and_never_blocks_the_publisher() -> None:
    bus = InProcessBus(subscriber_queue=3)
    slow = bus.subscribe(kinds=["system"])
    fast = bus.subscribe(kinds=["system"])
    received: list[object] = []
    reader = threading.Thread(target=lambda: received.extend(iter(fast)))
    reader.start()
    worst = 0.0
    for i in range(2000):
        started = time.perf_counter()
        bus.publish(SystemEvent("c", str(i)))
        worst = max(worst, time.perf_counter() - started)
    assert [e.status for e in slow.drain()] == ["1997", "1998", "1999"]  # type: ignore[union-attr]
    assert slow.dropped == 1997
    assert bus.stats.published == 2000 and bus.stats.dropped >= 1997
    assert worst < NOT_BLOCKED
    deadline = time.monotonic() + 5
    while fast.dropped + len(received) < 2000 and time.monotonic() < deadline:
        time.sleep(0.01)
    fast.close()
    reader.join(5)
    assert fast.dropped + len(received) == 2000


def test_publish_never_raises() -> None:
    bus = InProcessBus()
    bus.publish(object())  # type: ignore[arg-type]
    assert bus.stats.failed == 1
    bus.close()
    bus.publish(SystemEvent("x", "late"))
    assert bus.stats.dropped == 1 and not bus.healthy


def test_get_times_out_and_iteration_ends_on_close() -> None:
    bus = InProcessBus()
    sub = bus.subscribe()
    started = time.perf_counter()
    assert sub.get(timeout=0.05) is None
    assert time.perf_counter() - started >= 0.04
    bus.publish(SystemEvent("x", "one"))
    threading.Timer(0.05, sub.close).start()
    assert [e.status for e in sub] == ["one"]  # type: ignore[union-attr]
    bus.publish(SystemEvent("x", "after"))
    assert sub.get(timeout=0) is None


def test_aget_waits_without_blocking_the_loop() -> None:
    bus = InProcessBus()
    sub = bus.subscribe(kinds=["system"])

    async def main() -> tuple[object, object, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.005)
                ticks += 1

        task = asyncio.create_task(ticker())
        threading.Timer(0.1, bus.publish, [SystemEvent("x", "hello")]).start()
        event = await sub.aget(timeout=2)
        nothing = await sub.aget(timeout=0.05)
        task.cancel()
        return event, nothing, ticks

    event, nothing, ticks = asyncio.run(main())
    assert isinstance(event, SystemEvent) and event.status == "hello"
    assert nothing is None
    assert ticks >= 10


def test_memory_cache_latest_and_statuses() -> None:
    cache = open_cache()
    assert isinstance(cache, MemoryCache)
    assert cache.latest("AAPL") is None
    tick = {
        "price": np.float64(189.5),
        "size": np.int64(100),
        "timestamp": pd.Timestamp("2025-01-02 09:30", tz=TZ),
    }
    cache.set_latest("aapl", tick)
    cache.set_latest("MSFT", {"price": 400.0})
    assert cache.latest("AAPL") == {"price": 189.5, "size": 100, "timestamp": "2025-01-02T09:30:00-05:00"}
    assert cache.latest_many(["AAPL", "msft", "IBM"]) == {
        "AAPL": cache.latest("AAPL"),
        "MSFT": {"price": 400.0},
    }
    cache.set_validation_status("AAPL", {"tier1": "ok"})
    cache.set_collection("task-1", {"status": "running", "done": 3})
    assert cache.validation_status("AAPL") == {"tier1": "ok"}
    assert cache.collection("task-1") == {"status": "running", "done": 3}
    assert cache.collection("task-2") is None
    assert cache.stats.written == 4


def test_memory_cache_bars_keep_the_newest_oldest_first() -> None:
    cache = MemoryCache()
    for i in range(10):
        cache.push_bar("AAPL", "1min", {"i": i}, keep=4)
    assert [b["i"] for b in cache.bars("AAPL", "1min")] == [6, 7, 8, 9]
    assert [b["i"] for b in cache.bars("AAPL", "1min", count=2)] == [8, 9]
    assert cache.bars("AAPL", "1min", count=0) == []
    assert cache.bars("AAPL", "5min") == []
    cache.push_bar("AAPL", "1min", {"i": 10}, keep=2)
    assert [b["i"] for b in cache.bars("AAPL", "1min")] == [9, 10]


def test_memory_cache_clients_are_a_set() -> None:
    cache = MemoryCache()
    cache.client_connected("c1")
    cache.client_connected("c1")
    cache.client_connected("c2")
    assert cache.clients() == 2
    cache.client_disconnected("c1")
    cache.client_disconnected("never")
    assert cache.clients() == 1


def test_cache_writes_never_raise_reads_say_what_is_wrong() -> None:
    cache = MemoryCache()
    cache.set_latest("not a ticker", {"price": 1.0})
    cache.set_latest("AAPL", {"blob": object()})
    cache.push_bar("AAPL", "1min", {"i": 1}, keep=0)
    assert cache.stats.failed == 3 and cache.stats.written == 0
    with pytest.raises(ValueError, match="not a valid ticker"):
        cache.latest("not a ticker")


def test_cache_keys_follow_the_design() -> None:
    assert key("latest", "aapl") == "tick:AAPL:latest"
    assert key("bars", "AAPL", "1min") == "bars:AAPL:1min"
    assert key("validation", "BRK.B") == "validation:BRK.B:status"
    assert key("collection", "42") == "collection:42"
    assert key("clients") == "ws:clients"
