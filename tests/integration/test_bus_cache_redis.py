"""The Redis bus and cache against real servers: the machine's Redis, and one we stop and restart."""

from __future__ import annotations

import itertools
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pandas as pd
import pytest
import redis

from oss20.bus import (
    BarEvent,
    CollectionEvent,
    Event,
    RedisBus,
    Subscription,
    SystemEvent,
    TickEvent,
    ValidationEvent,
    open_bus,
)
from oss20.schema import TICK_COLUMNS, TZ, conform
from oss20.storage.cache import CacheUnavailable, RedisCache, open_cache
from tests.servers import RedisServer, free_port, wait_for

pytestmark = pytest.mark.integration

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(scope="module")
def raw() -> Iterator[redis.Redis]:
    """The machine's Redis; the tests fail (not skip) when it does not answer."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.ConnectionError as error:
        pytest.fail(f"Redis at {REDIS_URL} is required for these tests and did not answer: {error}")
    yield client
    client.close()


NOT_BLOCKED = 1.0
"""Slowest call that still proves a writer did not wait on Redis or on a reader: waiting would take
the 2 s connect timeout (or forever); anything below is the scheduler of a loaded machine."""


def unique_symbol() -> str:
    return "T" + uuid.uuid4().hex[:8].upper()


def collect(sub: Subscription, until: Callable[[list[Event]], bool], timeout: float = 5.0) -> list[Event]:
    events: list[Event] = []
    deadline = time.monotonic() + timeout
    while not until(events) and time.monotonic() < deadline:
        event = sub.get(timeout=0.1)
        if event is not None:
            events.append(event)
    return events


def tick_frame(symbol: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "timestamp": pd.to_datetime(["2025-01-02 09:30:00.000001", "2025-01-02 09:30:00.5"]).tz_localize(
                TZ
            ),
            "symbol": [symbol, symbol],
            "tick_id": [1, 2],
            "market_center": [11, 19],
            "price": [10.0, 10.01],
            "size": [100, 5],
            "total_volume": [100, 105],
            "bid": [9.99, 10.0],
            "ask": [10.01, 10.02],
            "basis": ["C", "E"],
            "conditions": ["", "3D"],
            "aggressor": [1, 2],
        }
    )
    return conform(frame, TICK_COLUMNS)


def ticks(symbol: str, seq: int) -> dict[str, list[Any]]:
    """A one-tick columnar batch whose tick_id is ``seq`` (cheap to build in a loop)."""
    return {
        "timestamp": [time.time_ns()],
        "symbol": [symbol],
        "tick_id": [seq],
        "market_center": [11],
        "price": [10.0],
        "size": [1],
        "total_volume": [seq],
        "bid": [9.99],
        "ask": [10.01],
        "basis": ["C"],
        "conditions": [""],
        "aggressor": [0],
    }


def test_events_cross_between_two_buses(raw: redis.Redis) -> None:
    symbol, other, task, component = unique_symbol(), unique_symbol(), uuid.uuid4().hex, uuid.uuid4().hex
    publisher, listener = open_bus(REDIS_URL), open_bus(REDIS_URL)
    assert isinstance(publisher, RedisBus) and isinstance(listener, RedisBus)
    try:
        everything = listener.subscribe(symbols=[symbol])
        bars_only = listener.subscribe(kinds=["bar"], symbols=[symbol])
        frame = tick_frame(symbol)
        sent: list[Event] = [
            TickEvent.from_frame(symbol, frame),
            BarEvent(symbol, "1min", {"close": 10.01, "volume": 105}),
            ValidationEvent(symbol, "2025-01-02", 1, "bid_le_ask", "ok", {"checked": 2}),
            CollectionEvent(task, "running", {"received": 2}),
            SystemEvent(component, "running", "test", {"n": 1}),
        ]
        publisher.publish(TickEvent.from_frame(other, tick_frame(other)))
        for event in sent:
            publisher.publish(event)
        assert publisher.flush(5)
        mine = {"collection": task, "system": component}

        def ours(event: Event) -> bool:
            name = mine.get(event.kind)
            return name is None or name in (
                getattr(event, "task_id", None),
                getattr(event, "component", None),
            )

        got = [e for e in collect(everything, lambda got: len([e for e in got if ours(e)]) >= 5) if ours(e)]
        assert [e.kind for e in got] == ["tick", "bar", "validation", "collection", "system"]
        assert [type(e) for e in got] == [type(e) for e in sent]
        assert all(e.sent_ns > 0 for e in got)
        assert got[1:] == [replace_sent(s, g) for s, g in zip(sent[1:], got[1:], strict=True)]
        assert isinstance(got[0], TickEvent)
        pd.testing.assert_frame_equal(got[0].frame(), frame)
        assert all(getattr(e, "symbol", symbol) == symbol for e in got)
        assert [e.kind for e in collect(bars_only, lambda got: len(got) >= 1)] == ["bar"]
        assert bars_only.get(timeout=0.2) is None
        assert publisher.stats.published == 6 and publisher.stats.failed == 0
        assert publisher.healthy and listener.healthy
    finally:
        publisher.close()
        listener.close()


def replace_sent(sent: Event, got: Event) -> Event:
    """``sent`` as the bus stamped it (same ``sent_ns`` as the received copy)."""
    return replace(sent, sent_ns=got.sent_ns)


def test_cache_keys_and_values_in_redis(raw: redis.Redis) -> None:
    symbol, task, client_id = unique_symbol(), uuid.uuid4().hex, f"client-{uuid.uuid4().hex}"
    names = [
        f"tick:{symbol}:latest",
        f"bars:{symbol}:1min",
        f"validation:{symbol}:status",
        f"collection:{task}",
    ]
    cache = open_cache(REDIS_URL)
    assert isinstance(cache, RedisCache)
    try:
        stamp = pd.Timestamp("2025-01-02 09:30:00.000001", tz=TZ)
        cache.set_latest(symbol.lower(), {"price": 10.0, "timestamp": stamp})
        for i in range(5):
            cache.push_bar(symbol, "1min", {"i": i}, keep=3)
        cache.set_validation_status(symbol, {"tier1": "ok"})
        cache.set_collection(task, {"status": "done", "stored": 7})
        cache.client_connected(client_id)
        assert cache.flush(5)
        assert cache.latest(symbol) == {"price": 10.0, "timestamp": "2025-01-02T09:30:00.000001-05:00"}
        assert cache.latest_many([symbol, unique_symbol()]) == {symbol: cache.latest(symbol)}
        assert cache.bars(symbol, "1min") == [{"i": 2}, {"i": 3}, {"i": 4}]
        assert cache.bars(symbol, "1min", count=1) == [{"i": 4}]
        assert cache.validation_status(symbol) == {"tier1": "ok"}
        assert cache.collection(task) == {"status": "done", "stored": 7}
        assert cache.clients() >= 1
        assert [raw.type(name) for name in names] == [b"string", b"list", b"string", b"string"]
        assert raw.llen(f"bars:{symbol}:1min") == 3
        assert raw.type("ws:clients") == b"set" and raw.sismember("ws:clients", client_id)
        cache.client_disconnected(client_id)
        assert cache.flush(5) and not raw.sismember("ws:clients", client_id)
        assert cache.stats.written == 10 and cache.stats.failed == cache.stats.dropped == 0
    finally:
        cache.close()
        raw.delete(*names)
        raw.srem("ws:clients", client_id)


def test_unreachable_redis_fails_reads_loudly_and_writes_quietly() -> None:
    url = f"redis://127.0.0.1:{free_port()}/0"
    cache, bus = RedisCache(url), RedisBus(url, subscribe_timeout=0.2)
    try:
        started = time.perf_counter()
        cache.set_latest("AAPL", {"price": 1.0})
        bus.publish(SystemEvent("test", "ok"))
        assert time.perf_counter() - started < NOT_BLOCKED
        wait_for(lambda: cache.stats.failed == 1 and bus.stats.failed == 1, 5, "the writes to count failed")
        assert cache.stats.written == bus.stats.published == 0
        with pytest.raises(CacheUnavailable, match="did not answer"):
            cache.latest("AAPL")
        wait_for(lambda: not cache.healthy and not bus.healthy, 5, "both to report unhealthy")
        sub = bus.subscribe(kinds=["system"])
        assert not sub.ready.is_set()
    finally:
        cache.close()
        bus.close()


def test_a_hung_redis_fills_the_queue_and_drops_instead_of_blocking() -> None:
    with socket.socket() as hung:
        hung.bind(("127.0.0.1", 0))
        hung.listen(16)  # accepts connections (in the backlog) and never answers
        bus = RedisBus(f"redis://127.0.0.1:{hung.getsockname()[1]}/0", queue_size=5)
        try:
            worst = 0.0
            for i in range(50):
                started = time.perf_counter()
                bus.publish(SystemEvent("test", str(i)))
                worst = max(worst, time.perf_counter() - started)
            assert worst < NOT_BLOCKED
            assert bus.stats.dropped == 45
            assert not bus.flush(0.1)
        finally:
            bus.close()


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_collection_goes_on_through_a_redis_restart(own_redis: RedisServer) -> None:
    symbol = unique_symbol()
    bus, listener, cache = RedisBus(own_redis.url), RedisBus(own_redis.url), RedisCache(own_redis.url)
    sub = listener.subscribe(kinds=["tick"], symbols=[symbol])
    seq = itertools.count()
    last = 0
    worst = {"publish": 0.0, "set_latest": 0.0}
    errors: list[BaseException] = []
    stop = threading.Event()

    def produce() -> None:
        nonlocal last
        try:
            while not stop.is_set():
                last = next(seq)
                started = time.perf_counter()
                bus.publish(TickEvent(symbol, ticks(symbol, last)))
                published = time.perf_counter()
                cache.set_latest(symbol, {"seq": last})
                ended = time.perf_counter()
                worst["publish"] = max(worst["publish"], published - started)
                worst["set_latest"] = max(worst["set_latest"], ended - published)
                time.sleep(0.002)
        except BaseException as error:
            errors.append(error)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    try:
        assert isinstance(sub.get(timeout=5), TickEvent)
        wait_for(lambda: cache.latest(symbol), 5, "the first cache write")
        bus_failed, cache_failed = bus.stats.failed, cache.stats.failed

        own_redis.stop()
        wait_for(lambda: bus.stats.failed > bus_failed + 10, 5, "bus failures to be counted")
        wait_for(lambda: cache.stats.failed > cache_failed + 10, 5, "cache failures to be counted")
        wait_for(lambda: not bus.healthy and not cache.healthy and not listener.healthy, 5, "unhealthy")
        with pytest.raises(CacheUnavailable):
            cache.latest(symbol)
        time.sleep(0.5)

        own_redis.start()
        restarted = last
        sub.drain()
        event = wait_for(lambda: _newer(sub, restarted), 10, "a tick published after the restart")
        assert event.ticks["tick_id"][0] > restarted
        wait_for(lambda: (cache.latest(symbol) or {}).get("seq", -1) > restarted, 10, "cache writes to land")
        wait_for(lambda: bus.healthy and cache.healthy and listener.healthy, 5, "healthy again")
    finally:
        stop.set()
        producer.join(5)
        bus.close()
        listener.close()
        cache.close()
    assert errors == []
    assert worst["publish"] < NOT_BLOCKED and worst["set_latest"] < NOT_BLOCKED, worst
    assert bus.stats.failed > bus_failed and cache.stats.failed > cache_failed


def _newer(sub: Subscription, seq: int) -> TickEvent | None:
    """The first queued tick event with a tick_id after ``seq``, if any has arrived."""
    for event in sub.drain():
        if isinstance(event, TickEvent) and event.ticks["tick_id"][0] > seq:
            return event
    return None
