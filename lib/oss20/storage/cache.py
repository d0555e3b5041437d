"""The hot cache dashboards read: latest tick, recent bars, validation status, task state, clients.

Keys are the system design's: ``tick:{symbol}:latest``, ``bars:{symbol}:{interval}`` (a list, oldest
first), ``validation:{symbol}:status``, ``collection:{task_id}``, ``ws:clients`` (a set). Values are
JSON, so timestamps come back as ISO text and numpy numbers as plain ones, from either backend.
``MemoryCache`` serves one process. ``RedisCache`` shares it across processes: writes go through a
background sender and never block nor raise (losses are counted in ``stats``); reads go straight to
Redis and raise ``CacheUnavailable`` when it is down.

>>> cache = open_cache()
>>> cache.push_bar("AAPL", "1min", {"close": 189.5})
>>> cache.bars("AAPL", "1min")
[{'close': 189.5}]
"""

from __future__ import annotations

import json
import logging
import threading
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import redis

from oss20.storage.redis_writer import RedisWriter, connect, to_json, where
from oss20.symbols import validate_symbol

log = logging.getLogger(__name__)

KEYS = {
    "latest": "tick:{}:latest",
    "bars": "bars:{}:{}",
    "validation": "validation:{}:status",
    "collection": "collection:{}",
    "clients": "ws:clients",
}
KEEP_BARS = 1000


def key(name: str, *parts: str) -> str:
    """The cache key ``name`` (a ``KEYS`` entry) for ``parts``; symbols are validated and upper-cased.

    >>> key("bars", "aapl", "1min")
    'bars:AAPL:1min'
    """
    if name in ("latest", "bars", "validation"):
        parts = (validate_symbol(parts[0]), *parts[1:])
    for part in parts:
        if not part or any(c.isspace() for c in part):
            raise ValueError(f"cache key part {part!r} for {name!r} must be non-empty text without spaces")
    return KEYS[name].format(*parts)


class CacheUnavailable(ConnectionError):
    """The cache's Redis did not answer a read."""


@dataclass(frozen=True)
class CacheStats:
    """Writes stored, failed (Redis down, or a bad symbol or value) and dropped (send queue full)."""

    written: int
    failed: int
    dropped: int


class Cache(ABC):
    """Latest ticks, bars, statuses and dashboard clients; writes never raise, reads may."""

    def __init__(self) -> None:
        self._rejected = 0

    def set_latest(self, symbol: str, tick: Mapping[str, Any]) -> None:
        """Remember ``tick`` as ``symbol``'s latest."""
        self._write_value("set_latest", "latest", (symbol,), tick, self._set)

    def latest(self, symbol: str) -> dict[str, Any] | None:
        """``symbol``'s latest tick, or None if none was cached."""
        return _load(self._get(key("latest", symbol)))

    def latest_many(self, symbols: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Latest ticks of the ``symbols`` that have one, by upper-cased symbol."""
        tickers = [validate_symbol(s) for s in symbols]
        if not tickers:
            return {}
        found = self._get_many([key("latest", s) for s in tickers])
        return {s: json.loads(data) for s, data in zip(tickers, found, strict=True) if data is not None}

    def push_bar(self, symbol: str, interval: str, bar: Mapping[str, Any], keep: int = KEEP_BARS) -> None:
        """Append ``bar`` to ``symbol``'s ``interval`` bars, keeping the newest ``keep``."""
        if keep < 1:
            self._reject("push_bar", ValueError(f"keep={keep}; expected at least 1"))
            return
        self._write_value("push_bar", "bars", (symbol, interval), bar, lambda k, v: self._push(k, v, keep))

    def bars(self, symbol: str, interval: str, count: int | None = None) -> list[dict[str, Any]]:
        """The newest ``count`` bars (all if None), oldest first."""
        if count is not None and count < 1:
            return []
        return [json.loads(data) for data in self._range(key("bars", symbol, interval), count)]

    def set_validation_status(self, symbol: str, status: Mapping[str, Any]) -> None:
        """Remember ``symbol``'s current validation status."""
        self._write_value("set_validation_status", "validation", (symbol,), status, self._set)

    def validation_status(self, symbol: str) -> dict[str, Any] | None:
        """``symbol``'s current validation status, or None."""
        return _load(self._get(key("validation", symbol)))

    def set_collection(self, task_id: str, state: Mapping[str, Any]) -> None:
        """Remember a collection or backfill task's state."""
        self._write_value("set_collection", "collection", (str(task_id),), state, self._set)

    def collection(self, task_id: str) -> dict[str, Any] | None:
        """A task's last cached state, or None."""
        return _load(self._get(key("collection", str(task_id))))

    def client_connected(self, client_id: str) -> None:
        """Count a dashboard websocket client (idempotent)."""
        self._add_client(str(client_id), True)

    def client_disconnected(self, client_id: str) -> None:
        """Forget a dashboard websocket client."""
        self._add_client(str(client_id), False)

    def clients(self) -> int:
        """How many dashboard clients are connected."""
        return self._count(KEYS["clients"])

    @property
    @abstractmethod
    def stats(self) -> CacheStats: ...

    @property
    @abstractmethod
    def healthy(self) -> bool: ...

    @abstractmethod
    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until writes made so far are stored; True if all of them were."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @abstractmethod
    def _set(self, name: str, data: bytes) -> None: ...

    @abstractmethod
    def _push(self, name: str, data: bytes, keep: int) -> None: ...

    @abstractmethod
    def _member(self, name: str, member: str, present: bool) -> None: ...

    @abstractmethod
    def _get(self, name: str) -> bytes | None: ...

    @abstractmethod
    def _get_many(self, names: list[str]) -> list[bytes | None]: ...

    @abstractmethod
    def _range(self, name: str, count: int | None) -> list[bytes]: ...

    @abstractmethod
    def _count(self, name: str) -> int: ...

    def _write_value(
        self,
        op: str,
        name: str,
        parts: tuple[str, ...],
        value: Mapping[str, Any],
        store: Callable[[str, bytes], None],
    ) -> None:
        try:
            target, data = key(name, *parts), to_json(dict(value))
        except (ValueError, TypeError) as error:
            self._reject(op, error)
            return
        store(target, data)

    def _add_client(self, client_id: str, present: bool) -> None:
        if not client_id:
            self._reject("client", ValueError("empty client id"))
            return
        self._member(KEYS["clients"], client_id, present)

    def _reject(self, op: str, error: Exception) -> None:
        self._rejected += 1
        log.warning("cache write rejected op=%s error=%s", op, error)


def _load(data: bytes | None) -> dict[str, Any] | None:
    return None if data is None else json.loads(data)


class MemoryCache(Cache):
    """The cache in this process's memory (dicts and deques under one lock)."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._values: dict[str, bytes] = {}
        self._lists: dict[str, deque[bytes]] = {}
        self._sets: dict[str, set[str]] = {}
        self._written = 0

    @property
    def stats(self) -> CacheStats:
        return CacheStats(self._written, self._rejected, 0)

    @property
    def healthy(self) -> bool:
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Writes are immediate: nothing is ever pending."""
        return True

    def close(self) -> None:
        """Nothing to release; the contents stay readable."""

    def _set(self, name: str, data: bytes) -> None:
        with self._lock:
            self._values[name] = data
            self._written += 1

    def _push(self, name: str, data: bytes, keep: int) -> None:
        with self._lock:
            bars = self._lists.get(name)
            if bars is None or bars.maxlen != keep:
                bars = self._lists[name] = deque(bars or (), maxlen=keep)
            bars.append(data)
            self._written += 1

    def _member(self, name: str, member: str, present: bool) -> None:
        with self._lock:
            members = self._sets.setdefault(name, set())
            if present:
                members.add(member)
            else:
                members.discard(member)
            self._written += 1

    def _get(self, name: str) -> bytes | None:
        with self._lock:
            return self._values.get(name)

    def _get_many(self, names: list[str]) -> list[bytes | None]:
        with self._lock:
            return [self._values.get(name) for name in names]

    def _range(self, name: str, count: int | None) -> list[bytes]:
        with self._lock:
            bars = list(self._lists.get(name, ()))
        return bars if count is None else bars[-count:]

    def _count(self, name: str) -> int:
        with self._lock:
            return len(self._sets.get(name, ()))


class RedisCache(Cache):
    """The cache in Redis, shared by every process: queued writes, direct reads."""

    def __init__(self, url: str, *, queue_size: int = 100_000, read_timeout: float = 1.0) -> None:
        super().__init__()
        self.url = url
        self._where = where(url)
        self._writer = RedisWriter(url, name="cache", maxsize=queue_size)
        self._reader = connect(url, timeout=read_timeout, retries=1)

    @property
    def stats(self) -> CacheStats:
        counts = self._writer.counts
        return CacheStats(counts.sent, counts.failed + self._rejected, counts.dropped)

    @property
    def healthy(self) -> bool:
        return self._writer.healthy

    def flush(self, timeout: float = 5.0) -> bool:
        return self._writer.flush(timeout)

    def close(self) -> None:
        self._writer.close()
        self._reader.close()

    def _set(self, name: str, data: bytes) -> None:
        self._writer.submit((("SET", name, data),), len(data))

    def _push(self, name: str, data: bytes, keep: int) -> None:
        self._writer.submit((("RPUSH", name, data), ("LTRIM", name, -keep, -1)), len(data))

    def _member(self, name: str, member: str, present: bool) -> None:
        self._writer.submit((("SADD" if present else "SREM", name, member),), len(member))

    def _get(self, name: str) -> bytes | None:
        return self._read(self._reader.get, name)

    def _get_many(self, names: list[str]) -> list[bytes | None]:
        return self._read(self._reader.mget, names)

    def _range(self, name: str, count: int | None) -> list[bytes]:
        return self._read(self._reader.lrange, name, 0 if count is None else -count, -1)

    def _count(self, name: str) -> int:
        return self._read(self._reader.scard, name)

    def _read(self, command: Callable[..., Any], *args: Any) -> Any:
        try:
            return command(*args)
        except (redis.ConnectionError, redis.TimeoutError) as error:
            raise CacheUnavailable(
                f"Redis at {self._where} did not answer a cache read ({error}); start it, or leave "
                "OSS20_REDIS_URL empty for the in-process cache"
            ) from error


def open_cache(redis_url: str = "") -> Cache:
    """The in-memory cache, or the Redis cache when ``redis_url`` is set (``Settings.redis_url``)."""
    return RedisCache(redis_url) if redis_url else MemoryCache()
