"""The non-blocking Redis writer behind the Redis bus and cache, and the JSON both send.

Callers enqueue commands and return at once; one daemon thread sends them in pipelined batches.
A full queue drops (counted), an outage fails whatever was queued (counted, logged once per
outage), and the thread reconnects with backoff capped at ``BACKOFF_CAP`` seconds. So collection
never waits on Redis and never fails because of it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

Command = tuple[Any, ...]
"""One Redis command and its arguments, e.g. ``("SET", key, value)``."""

Item = tuple[Command, ...]
"""The commands counted as one write: a published event, or a bar push with its trim."""

BACKOFF_START = 0.05
BACKOFF_CAP = 1.0
ERROR_LOG_EVERY = 60.0
"""Seconds between two log lines about commands Redis rejected (a wrong key type, say)."""


def plain(value: Any) -> Any:
    """JSON stand-in for what ``json`` cannot encode: numpy values, timestamps (as ISO text), sets."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.datetime64):
        value = pd.Timestamp(value)
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return value.total_seconds()
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot send {type(value).__name__} {value!r} as JSON; use numbers, text, lists, dicts")


_ENCODER = json.JSONEncoder(separators=(",", ":"), default=plain, check_circular=False)


def to_json(value: Any) -> bytes:
    """Compact JSON bytes of ``value`` (numpy and pandas values converted by ``plain``)."""
    return _ENCODER.encode(value).encode()


def describe(error: BaseException) -> str:
    """``Type: message`` of an error, for logs (redis-py's own repr hides the message)."""
    return f"{type(error).__name__}: {error}"


def where(url: str) -> str:
    """``host:port/db`` of a Redis URL, for logs and errors: never the password."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 6379}{parts.path or '/0'}"


def connect(url: str, *, timeout: float = 2.0, retries: int = 0) -> redis.Redis:
    """A client that fails fast (short timeouts, ``retries`` quick retries): callers own the retry policy."""
    return redis.Redis.from_url(
        url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=Retry(NoBackoff(), retries)
    )


class Outage:
    """Logs the start and the end of one Redis outage, not every failure in between."""

    def __init__(self, name: str, address: str) -> None:
        self.name = name
        self.address = address
        self.since: float | None = None

    @property
    def down(self) -> bool:
        return self.since is not None

    def failed(self, error: BaseException) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning(
                "redis unreachable user=%s redis=%s error=%r", self.name, self.address, describe(error)
            )

    def recovered(self) -> None:
        if self.since is not None:
            down_s = time.monotonic() - self.since
            self.since = None
            log.info("redis back user=%s redis=%s down_s=%.1f", self.name, self.address, down_s)


@dataclass(frozen=True)
class WriteCounts:
    """Items sent, failed (Redis down or the command rejected) and dropped (queue full or closed)."""

    sent: int
    failed: int
    dropped: int


class RedisWriter:
    """Sends queued items to Redis from one daemon thread; ``submit`` never blocks nor raises."""

    def __init__(
        self, url: str, *, name: str, maxsize: int = 100_000, max_bytes: int = 256 << 20, batch: int = 1000
    ) -> None:
        self.name = name
        self._client = connect(url)
        self._maxsize = maxsize
        self._max_bytes = max_bytes
        self._bytes = 0
        self._batch = batch
        self._outage = Outage(name, where(url))
        self._pending: deque[tuple[Item, int]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._submitted = 0
        self._handled = 0
        self._failed_spans: deque[tuple[int, int]] = deque(maxlen=256)
        self._sent = self._failed = self._dropped = 0
        self._next_error_log = 0.0
        self._stopping = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"oss20-redis-{name}", daemon=True)
        self._thread.start()

    def submit(self, item: Item, size: int = 0) -> bool:
        """Queue ``item`` (``size`` bytes); False (and counted dropped) when the queue is full or closed."""
        with self._cond:
            full = len(self._pending) >= self._maxsize or (
                self._pending and self._bytes + size > self._max_bytes
            )
            if self._stopping or full:
                self._dropped += 1
                return False
            self._pending.append((item, size))
            self._bytes += size
            self._submitted += 1
            if len(self._pending) == 1:
                self._cond.notify()
        return True

    @property
    def counts(self) -> WriteCounts:
        with self._cond:
            return WriteCounts(self._sent, self._failed, self._dropped)

    @property
    def healthy(self) -> bool:
        """The thread runs and its last contact with Redis succeeded."""
        return self._thread.is_alive() and not self._outage.down

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until everything queued before the call is handled; True if all of it reached Redis."""
        with self._cond:
            start, target = self._handled, self._submitted
            if not self._cond.wait_for(lambda: self._handled >= target, timeout):
                return False
            return not any(lo <= target and hi > start for lo, hi in self._failed_spans)

    def close(self, timeout: float = 2.0) -> None:
        """Send what is queued (for up to ``timeout`` s), then stop the thread and disconnect."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._stop.set()
        self._thread.join(timeout)
        self._client.close()

    def _run(self) -> None:
        delay = BACKOFF_START
        self._ping()
        while True:
            batch, first = self._take()
            if batch is None:
                return
            ok = self._send(batch, first) if batch else self._ping()
            if ok:
                delay = BACKOFF_START
            elif self._outage.down:
                self._stop.wait(delay)
                delay = min(delay * 2, BACKOFF_CAP)

    def _take(self) -> tuple[list[Item] | None, int]:
        """The next batch (everything while Redis is down); empty to probe; None once stopped and empty."""
        with self._cond:
            if not self._pending and not self._stopping and not self._outage.down:
                self._cond.wait()
            if not self._pending:
                return (None, 0) if self._stopping else ([], 0)
            count = len(self._pending) if self._outage.down else min(len(self._pending), self._batch)
            taken = [self._pending.popleft() for _ in range(count)]
            self._bytes -= sum(size for _, size in taken)
            return [item for item, _ in taken], self._handled + 1

    def _ping(self) -> bool:
        try:
            self._client.ping()
        except Exception as error:
            self._outage.failed(error)
            return False
        self._outage.recovered()
        return True

    def _send(self, batch: list[Item], first: int) -> bool:
        pipe = self._client.pipeline(transaction=False)
        try:
            for item in batch:
                for command in item:
                    pipe.execute_command(*command)
            results = pipe.execute(raise_on_error=False)
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            self._outage.failed(error)
            self._done(first, len(batch), len(batch))
            return False
        except Exception as error:
            log.error("redis batch failed user=%s items=%d error=%r", self.name, len(batch), describe(error))
            self._done(first, len(batch), len(batch))
            return False
        self._outage.recovered()
        rejected, at, reason = 0, 0, None
        for item in batch:
            errors = [r for r in results[at : at + len(item)] if isinstance(r, Exception)]
            at += len(item)
            if errors:
                rejected, reason = rejected + 1, describe(errors[0])
        if rejected and time.monotonic() >= self._next_error_log:
            self._next_error_log = time.monotonic() + ERROR_LOG_EVERY
            log.warning("redis rejected writes user=%s items=%d error=%r", self.name, rejected, reason)
        self._done(first, len(batch), rejected)
        return True

    def _done(self, first: int, count: int, failed: int) -> None:
        with self._cond:
            self._handled += count
            self._sent += count - failed
            self._failed += failed
            if failed:
                self._failed_spans.append((first, first + count - 1))
            self._cond.notify_all()
