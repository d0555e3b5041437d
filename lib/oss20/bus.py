"""Typed events and the bus that carries them: in-process by default, Redis pub/sub across processes.

Publishers (collection, validation, backfill) are never blocked nor failed by the bus: ``publish``
hands the event over and returns, and every loss is counted in ``Bus.stats``. Subscribers
(dashboards, notebooks) filter by kind and symbol and read with ``get``, iteration or ``await aget``.
Channels: ``oss20:{kind}:{symbol}`` for ticks, bars and validation, ``oss20:collection:{task_id}``,
``oss20:system``.

>>> bus = open_bus()
>>> sub = bus.subscribe(kinds=["system"])
>>> bus.publish(SystemEvent("collector", "running"))
>>> sub.get(timeout=1).status
'running'
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, fields, replace
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import redis

from oss20.schema import TICK_COLUMNS, TZ, conform
from oss20.storage.redis_writer import (
    BACKOFF_CAP,
    BACKOFF_START,
    Outage,
    RedisWriter,
    connect,
    describe,
    to_json,
    where,
)
from oss20.symbols import validate_symbol

log = logging.getLogger(__name__)

_EVENT_DTYPES = {name: np.int64 if name == "timestamp" else dtype for name, dtype in TICK_COLUMNS.items()}

SYMBOL_KINDS = ("tick", "bar", "validation")
KINDS = (*SYMBOL_KINDS, "collection", "system")
POLL = 0.25
"""Seconds a Redis subscription thread waits for a message before checking whether it was closed."""


@dataclass(frozen=True, slots=True, eq=False)
class TickEvent:
    """Ticks of one symbol as ``TICK_COLUMNS`` numpy columns; timestamps as int64 ns since epoch UTC.

    Columns are arrays, not lists: publishing builds no Python object per tick (and nothing for the
    garbage collector to walk). The collector's columns are views of its batch: read, never write.
    """

    kind: ClassVar[str] = "tick"
    symbol: str
    ticks: dict[str, np.ndarray]
    received_ns: int = field(default=0, kw_only=True)  # when the collector read them (epoch ns), 0 unknown
    sent_ns: int = field(default=0, kw_only=True)

    def __post_init__(self) -> None:
        for name, values in self.ticks.items():  # lists, as ``decode`` gets them from JSON
            if not isinstance(values, np.ndarray):
                self.ticks[name] = np.asarray(values, dtype=_EVENT_DTYPES.get(name))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, TickEvent):
            return NotImplemented
        return (
            (self.symbol, self.received_ns, self.sent_ns) == (other.symbol, other.received_ns, other.sent_ns)
            and self.ticks.keys() == other.ticks.keys()
            and all(np.array_equal(values, other.ticks[name]) for name, values in self.ticks.items())
        )

    @classmethod
    def from_frame(cls, symbol: str, frame: pd.DataFrame) -> TickEvent:
        """The event for a tick frame (``TICK_COLUMNS``, tz-aware timestamps); other columns are left out."""
        missing = [name for name in TICK_COLUMNS if name not in frame.columns]
        if missing:
            raise KeyError(f"tick frame lacks columns {missing}; expected {list(TICK_COLUMNS)}")
        stamps = pd.DatetimeIndex(frame["timestamp"])
        if stamps.tz is None:
            raise ValueError(
                f"tick timestamps must be time-zone aware ({TZ}), got {frame['timestamp'].dtype}"
            )
        ticks = {
            name: stamps.as_unit("ns").asi8 if name == "timestamp" else frame[name].to_numpy()
            for name in TICK_COLUMNS
        }
        return cls(symbol, ticks)

    def frame(self) -> pd.DataFrame:
        """The ticks as a frame conformed to ``TICK_COLUMNS``, timestamps in America/New_York."""
        stamps = self.ticks["timestamp"]
        data = {**self.ticks, "timestamp": pd.to_datetime(stamps, unit="ns", utc=True).tz_convert(TZ)}
        return conform(pd.DataFrame(data), TICK_COLUMNS)


@dataclass(frozen=True, slots=True)
class BarEvent:
    """A bar of one symbol and interval, as a dict of its fields."""

    kind: ClassVar[str] = "bar"
    symbol: str
    interval: str
    bar: dict[str, Any]
    sent_ns: int = field(default=0, kw_only=True)


@dataclass(frozen=True, slots=True)
class ValidationEvent:
    """The outcome of one validation check for a symbol-day (``day`` in ISO format)."""

    kind: ClassVar[str] = "validation"
    symbol: str
    day: str
    tier: int
    check: str
    status: str
    metrics: dict[str, Any]
    sent_ns: int = field(default=0, kw_only=True)


@dataclass(frozen=True, slots=True)
class CollectionEvent:
    """Progress of a collection or backfill task."""

    kind: ClassVar[str] = "collection"
    task_id: str
    status: str
    counters: dict[str, int]
    message: str = ""
    sent_ns: int = field(default=0, kw_only=True)


@dataclass(frozen=True, slots=True)
class SystemEvent:
    """A component's state change (collector running, feed down, ...)."""

    kind: ClassVar[str] = "system"
    component: str
    status: str
    message: str = ""
    values: dict[str, Any] = field(default_factory=dict)
    sent_ns: int = field(default=0, kw_only=True)


Event = TickEvent | BarEvent | ValidationEvent | CollectionEvent | SystemEvent
EVENT_TYPES: dict[str, type[Event]] = {
    cls.kind: cls for cls in (TickEvent, BarEvent, ValidationEvent, CollectionEvent, SystemEvent)
}
_FIELDS = {kind: tuple(f.name for f in fields(cls)) for kind, cls in EVENT_TYPES.items()}


def encode(event: Event) -> bytes:
    """JSON bytes of ``event`` with its ``kind``: a shallow dict, so tick columns go as flat lists."""
    body = {"kind": event.kind}
    for name in _FIELDS[event.kind]:
        body[name] = getattr(event, name)
    return to_json(body)


def decode(data: bytes | str) -> Event:
    """The event ``encode`` made; ValueError if ``data`` is not one."""
    try:
        body = json.loads(data)
        return EVENT_TYPES[body.pop("kind")](**body)
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ValueError(
            f"not an oss20 event: {data[:80]!r} ({error}); expected a JSON object with kind one of {KINDS}"
        ) from None


def channel(event: Event) -> str:
    """The pub/sub channel of ``event``."""
    if isinstance(event, CollectionEvent):
        return f"oss20:collection:{event.task_id}"
    if isinstance(event, SystemEvent):
        return "oss20:system"
    return f"oss20:{event.kind}:{event.symbol}"


@dataclass(frozen=True)
class PublishStats:
    """What a bus did with published events: delivered (sent to Redis), failed, dropped for lack of room."""

    published: int
    failed: int
    dropped: int


class Subscription:
    """Events for one reader, in a bounded queue that drops its oldest entries when the reader lags.

    ``aget`` is asyncio-native: an awaiting task registers a future that the publishing thread
    resolves with ``loop.call_soon_threadsafe``, so no executor thread is held while waiting.
    """

    def __init__(
        self,
        kinds: frozenset[str],
        symbols: frozenset[str] | None,
        maxsize: int,
        on_close: Callable[[Subscription], None] | None = None,
    ) -> None:
        self.kinds = kinds
        self.symbols = symbols
        self.dropped = 0
        self.ready = threading.Event()
        self._maxsize = maxsize
        self._on_close = on_close
        self._items: deque[Event] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._closed = False

    def accepts(self, event: Event) -> bool:
        """Whether ``event`` passes the filters (events without a symbol pass the symbol filter)."""
        if event.kind not in self.kinds:
            return False
        symbol = getattr(event, "symbol", None)
        return symbol is None or self.symbols is None or symbol in self.symbols

    def put(self, event: Event) -> bool:
        """Queue ``event``; True when the oldest entry was dropped to make room."""
        with self._cond:
            if self._closed:
                return False
            full = len(self._items) >= self._maxsize
            if full:
                self._items.popleft()
                self.dropped += 1
            self._items.append(event)
            self._cond.notify()
            if self._waiters:
                self._wake()
        return full

    def get(self, timeout: float | None = None) -> Event | None:
        """The next event, waiting up to ``timeout`` s (None: until one comes or the subscription closes)."""
        with self._cond:
            self._cond.wait_for(lambda: self._items or self._closed, timeout)
            return self._items.popleft() if self._items else None

    async def aget(self, timeout: float | None = None) -> Event | None:
        """``get`` for asyncio: awaits without blocking the loop; None on timeout or close."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            with self._cond:
                if self._items:
                    return self._items.popleft()
                if self._closed:
                    return None
                waiter = (loop, loop.create_future())
                self._waiters.append(waiter)
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            try:
                done, _ = await asyncio.wait({waiter[1]}, timeout=remaining)
            finally:
                with self._cond:
                    if waiter in self._waiters:
                        self._waiters.remove(waiter)
            if not done:
                with self._cond:
                    return self._items.popleft() if self._items else None

    def drain(self, max_items: int | None = None) -> list[Event]:
        """Up to ``max_items`` queued events (all if None), without waiting."""
        with self._cond:
            count = len(self._items) if max_items is None else min(max_items, len(self._items))
            return [self._items.popleft() for _ in range(count)]

    def __iter__(self) -> Iterator[Event]:
        """Events as they come, until the subscription is closed."""
        while (event := self.get()) is not None:
            yield event

    def close(self) -> None:
        """Stop receiving; waiting readers get None."""
        with self._cond:
            if self._closed:
                return
            self._closed = True
            self._items.clear()
            self._cond.notify_all()
            self._wake()
        if self._on_close is not None:
            self._on_close(self)

    def __enter__(self) -> Subscription:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wake(self) -> None:
        for loop, future in self._waiters:
            with contextlib.suppress(RuntimeError):  # a closed loop: its waiter went with it
                loop.call_soon_threadsafe(_resolve, future)
        self._waiters.clear()


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


class Bus(ABC):
    """Publishes typed events without ever blocking or raising; hands them to filtered subscriptions."""

    @abstractmethod
    def publish(self, event: Event) -> None:
        """Send ``event`` (stamping ``sent_ns`` if 0); never blocks, never raises, counts every loss."""

    @abstractmethod
    def subscribe(
        self, kinds: Iterable[str] | None = None, symbols: Iterable[str] | None = None
    ) -> Subscription:
        """Events of ``kinds`` (default all) for ``symbols`` (default all; collection and system events
        have no symbol and pass this filter)."""

    @property
    @abstractmethod
    def stats(self) -> PublishStats: ...

    @property
    @abstractmethod
    def healthy(self) -> bool: ...

    @abstractmethod
    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until published events are sent; True if all of them were."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Bus:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _filters(
    kinds: Iterable[str] | None, symbols: Iterable[str] | None
) -> tuple[frozenset[str], frozenset[str] | None]:
    chosen = frozenset(KINDS if kinds is None else kinds)
    unknown = sorted(chosen - set(KINDS))
    if unknown:
        raise ValueError(f"unknown event kinds {unknown}; expected some of {KINDS}")
    return chosen, None if symbols is None else frozenset(validate_symbol(s) for s in symbols)


class InProcessBus(Bus):
    """Delivers each event to the matching subscriptions of this process, synchronously."""

    def __init__(self, subscriber_queue: int = 10_000) -> None:
        self._subscriber_queue = subscriber_queue
        self._subs: tuple[Subscription, ...] = ()
        self._lock = threading.Lock()
        self._published = self._failed = self._dropped = 0
        self._closed = False

    def publish(self, event: Event) -> None:
        if self._closed:
            with self._lock:
                self._dropped += 1
            return
        dropped = 0
        try:
            if not event.sent_ns:
                event = replace(event, sent_ns=time.time_ns())
            for sub in self._subs:
                if sub.accepts(event) and sub.put(event):
                    dropped += 1
        except Exception as error:
            with self._lock:
                self._failed += 1
            log.warning(
                "publish failed bus=inprocess event=%s error=%r", type(event).__name__, describe(error)
            )
            return
        with self._lock:
            self._published += 1
            self._dropped += dropped

    def subscribe(
        self, kinds: Iterable[str] | None = None, symbols: Iterable[str] | None = None
    ) -> Subscription:
        sub = Subscription(*_filters(kinds, symbols), self._subscriber_queue, on_close=self._forget)
        sub.ready.set()
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    @property
    def stats(self) -> PublishStats:
        with self._lock:
            return PublishStats(self._published, self._failed, self._dropped)

    @property
    def healthy(self) -> bool:
        return not self._closed

    def flush(self, timeout: float = 5.0) -> bool:
        """Delivery is synchronous: nothing is ever pending."""
        return True

    def close(self) -> None:
        self._closed = True
        for sub in self._subs:
            sub.close()

    def _forget(self, sub: Subscription) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)


class RedisBus(Bus):
    """Redis pub/sub: ``publish`` queues for a background sender; each subscription reads in its own thread.

    Events published while Redis is down are counted failed, not replayed (pub/sub keeps no history);
    subscriptions resubscribe once it is back.
    """

    def __init__(
        self,
        url: str,
        *,
        queue_size: int = 100_000,
        subscriber_queue: int = 10_000,
        subscribe_timeout: float = 2.0,
    ) -> None:
        self.url = url
        self._writer = RedisWriter(url, name="bus", maxsize=queue_size)
        self._subscriber_queue = subscriber_queue
        self._subscribe_timeout = subscribe_timeout
        self._readers: dict[Subscription, _PubSubReader] = {}
        self._lock = threading.Lock()
        self._unsent = self._sub_dropped = 0

    def publish(self, event: Event) -> None:
        try:
            if not event.sent_ns:
                event = replace(event, sent_ns=time.time_ns())
            payload = encode(event)
            self._writer.submit((("PUBLISH", channel(event), payload),), len(payload))
        except Exception as error:
            with self._lock:
                self._unsent += 1
            log.warning("publish failed bus=redis event=%s error=%r", type(event).__name__, describe(error))

    def subscribe(
        self, kinds: Iterable[str] | None = None, symbols: Iterable[str] | None = None
    ) -> Subscription:
        """See ``Bus.subscribe``; waits up to ``subscribe_timeout`` s for Redis to confirm it."""
        sub = Subscription(*_filters(kinds, symbols), self._subscriber_queue, on_close=self._forget)
        patterns = _patterns(sub.kinds, sub.symbols)
        if not patterns:
            sub.ready.set()
            return sub
        with self._lock:
            self._readers[sub] = _PubSubReader(self.url, patterns, sub, self._count_drop)
        if not sub.ready.wait(self._subscribe_timeout):
            log.warning(
                "subscription unconfirmed redis=%s patterns=%d; still trying", where(self.url), len(patterns)
            )
        return sub

    @property
    def stats(self) -> PublishStats:
        counts = self._writer.counts
        with self._lock:
            return PublishStats(counts.sent, counts.failed + self._unsent, counts.dropped + self._sub_dropped)

    @property
    def healthy(self) -> bool:
        with self._lock:
            readers = list(self._readers.values())
        return self._writer.healthy and all(reader.healthy for reader in readers)

    def flush(self, timeout: float = 5.0) -> bool:
        return self._writer.flush(timeout)

    def close(self) -> None:
        with self._lock:
            readers = dict(self._readers)
        for reader in readers.values():
            reader.signal()
        for sub in readers:
            sub.close()
        self._writer.close()

    def _forget(self, sub: Subscription) -> None:
        with self._lock:
            reader = self._readers.pop(sub, None)
        if reader is not None:
            reader.stop()

    def _count_drop(self) -> None:
        with self._lock:
            self._sub_dropped += 1


def _patterns(kinds: frozenset[str], symbols: frozenset[str] | None) -> list[str]:
    """Redis channel patterns covering the filters."""
    patterns = []
    for kind in SYMBOL_KINDS:
        if kind in kinds:
            patterns += (
                [f"oss20:{kind}:*"] if symbols is None else [f"oss20:{kind}:{s}" for s in sorted(symbols)]
            )
    if "collection" in kinds:
        patterns.append("oss20:collection:*")
    if "system" in kinds:
        patterns.append("oss20:system")
    return patterns


class _PubSubReader:
    """Feeds one subscription from Redis pattern subscriptions, resubscribing after an outage."""

    def __init__(self, url: str, patterns: list[str], sub: Subscription, on_drop: Callable[[], None]) -> None:
        self._client = connect(url)
        self._patterns = patterns
        self._sub = sub
        self._on_drop = on_drop
        self._outage = Outage("bus-subscriber", where(url))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oss20-redis-subscriber", daemon=True)
        self._thread.start()

    @property
    def healthy(self) -> bool:
        return self._thread.is_alive() and not self._outage.down

    def signal(self) -> None:
        """Ask the thread to stop, without waiting for it."""
        self._stop.set()

    def stop(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread:
            self._thread.join(4 * POLL)

    def _run(self) -> None:
        pubsub: redis.client.PubSub | None = None
        confirmed = 0
        delay = BACKOFF_START
        while not self._stop.is_set():
            try:
                if pubsub is None:
                    pubsub = self._client.pubsub()
                    pubsub.psubscribe(*self._patterns)
                    confirmed = 0
                message = pubsub.get_message(timeout=POLL)
            except Exception as error:
                self._outage.failed(error)
                _discard(pubsub)
                pubsub = None
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_CAP)
                continue
            delay = BACKOFF_START
            if message is None:
                continue
            if message["type"] == "pmessage":
                self._deliver(message["data"])
            elif message["type"] == "psubscribe":
                confirmed += 1
                if confirmed == len(self._patterns):
                    self._outage.recovered()
                    self._sub.ready.set()
        _discard(pubsub)
        self._client.close()

    def _deliver(self, data: bytes) -> None:
        try:
            event = decode(data)
        except ValueError as error:
            log.warning("undecodable bus message skipped error=%s", error)
            return
        if self._sub.accepts(event) and self._sub.put(event):
            self._on_drop()


def _discard(pubsub: redis.client.PubSub | None) -> None:
    """Close a pubsub connection that may already be broken."""
    if pubsub is not None:
        try:
            pubsub.close()
        except Exception as error:
            log.debug("pubsub close failed error=%s", describe(error))


def open_bus(redis_url: str = "") -> Bus:
    """The in-process bus, or the Redis bus when ``redis_url`` is set (``Settings.redis_url``)."""
    return RedisBus(redis_url) if redis_url else InProcessBus()
