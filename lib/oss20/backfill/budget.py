"""One budget of IQFeed history requests per second, shared by every worker that sends them.

DTN throttles history lookups per account (about 50 a second, short bursts near 75 tolerated)
and answers the excess with an error line. Pacing each client on its own is not enough once
several processes or machines backfill at once, so every request first takes a slot from one
shared budget:

- ``LocalBudget``: the threads and event loops of one process;
- ``FileBudget``: every process on one machine, through a small state file under ``flock``;
- ``RedisBudget``: every process on every machine (Dask workers), through one atomic Lua script.

All three are the same token bucket, kept as GCRA (the generic cell rate algorithm): the whole
state is one number, the *theoretical arrival time* ``tat`` of the next request at the sustained
rate. Taking a slot reserves it at once and says how long to wait for it, so a caller sleeps
exactly that long (no polling) and no slot is lost or handed out twice. Over any window of
``E`` seconds at most ``burst + rate * E`` requests are sent.

    budget = open_budget(Settings.from_env())
    async with HistoryClient(endpoint, budget=budget) as history:
        ...
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import fcntl
import math
import os
import struct
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

import redis

from oss20.config import Settings
from oss20.storage.redis_writer import connect

BUDGET_FILE = "history-budget"
"""State file of the machine-wide budget, in the data dir."""

REDIS_KEY = "oss20:history-budget"
"""Redis key holding the cluster-wide budget's state."""

_STATE = struct.Struct("<dd")  # (tat, stamp) in time.monotonic() seconds


def reserve(tat: float, now: float, rate: float, burst: int) -> tuple[float, float]:
    """Take the next slot of a token bucket held as GCRA: ``(new tat, seconds to wait)``.

    ``tat`` is the theoretical arrival time of the next request at ``rate`` per second (anything
    at or before ``now`` means the bucket is full); ``burst`` requests may go at once from a full
    bucket, then one every ``1 / rate`` seconds. Pure, so callers hold whatever lock shares it.

    >>> reserve(0.0, 10.0, rate=10.0, burst=2)
    (10.1, 0.0)
    >>> round(reserve(10.2, 10.0, rate=10.0, burst=2)[1], 6)  # two slots taken: wait 100 ms
    0.1
    """
    interval = 1.0 / rate
    tat = max(tat, now)
    wait = max(0.0, tat - (burst - 1) * interval - now)
    return tat + interval, wait


def _check(rate: float, burst: int) -> None:
    if not rate > 0:
        raise ValueError(f"a request budget needs a rate above 0 requests/s, got {rate!r}")
    if burst < 1:
        raise ValueError(f"a request budget needs a burst of at least 1 request, got {burst!r}")


class RequestBudget(ABC):
    """Slots for history requests: ``rate`` per second, up to ``burst`` at once.

    Call ``await budget.acquire()`` (or ``acquire_blocking()`` outside an event loop) right before
    sending each request, retries included. A slot is reserved when asked for: a caller cancelled
    while it waits wastes its slot, never lends it to someone else, so the rate is never exceeded.
    """

    def __init__(self, rate: float, burst: int) -> None:
        _check(rate, burst)
        self.rate = float(rate)
        self.burst = int(burst)

    @abstractmethod
    def reserve(self) -> float:
        """Reserve the next slot; seconds to wait before sending in it."""

    async def acquire(self) -> None:
        """Wait until a request may be sent (the shared state is reached off the event loop)."""
        wait = await asyncio.to_thread(self.reserve)
        if wait > 0:
            await asyncio.sleep(wait)

    def acquire_blocking(self) -> None:
        """Block the calling thread until a request may be sent."""
        wait = self.reserve()
        if wait > 0:
            time.sleep(wait)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(rate={self.rate:g}, burst={self.burst})"


class LocalBudget(RequestBudget):
    """A budget for one process: its threads and event loops share it, other processes do not."""

    def __init__(self, rate: float, burst: int) -> None:
        super().__init__(rate, burst)
        self._lock = threading.Lock()
        self._tat = 0.0

    def reserve(self) -> float:
        with self._lock:
            self._tat, wait = reserve(self._tat, time.monotonic(), self.rate, self.burst)
        return wait

    async def acquire(self) -> None:
        """Wait until a request may be sent (the lock is held for microseconds: no thread needed)."""
        wait = self.reserve()
        if wait > 0:
            await asyncio.sleep(wait)


class FileBudget(RequestBudget):
    """A budget shared by every process on one machine through a 16-byte state file.

    Each reservation opens the file, takes an exclusive ``flock``, reads and rewrites the state
    and lets go: microseconds under the lock. Opening per call keeps it safe across ``fork`` and
    threads (each open is its own lock holder). Times are ``time.monotonic()``, which all
    processes of one boot share; a state stamped later than now was written before a reboot and
    is discarded. Picklable (by path), so it can be handed to worker processes.
    """

    def __init__(self, path: str | os.PathLike[str], rate: float, burst: int) -> None:
        super().__init__(rate, burst)
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def reserve(self) -> float:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            now = time.monotonic()
            raw = os.pread(fd, _STATE.size, 0)
            tat, stamp = _STATE.unpack(raw) if len(raw) == _STATE.size else (0.0, 0.0)
            if stamp > now:  # written during an earlier boot: its clock means nothing now
                tat = 0.0
            tat, wait = reserve(tat, now, self.rate, self.burst)
            os.pwrite(fd, _STATE.pack(tat, now), 0)
            return wait
        finally:
            os.close(fd)  # releases the lock

    def __reduce__(self) -> tuple[type[FileBudget], tuple[Path, float, int]]:
        return FileBudget, (self.path, self.rate, self.burst)

    def __repr__(self) -> str:
        return f"FileBudget({str(self.path)!r}, rate={self.rate:g}, burst={self.burst})"


_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or 0)
if tat < now then tat = now end
local wait = tat - tolerance - now
if wait < 0 then wait = 0 end
tat = tat + interval
redis.call('SET', KEYS[1], string.format('%d', tat), 'PX', math.ceil((tat - now) / 1000) + 1000)
return wait
"""
"""``reserve`` in integer microseconds of the Redis server's clock, so machines' clocks never
meet; the key expires a second after the bucket is full again."""


class RedisBudget(RequestBudget):
    """A budget shared by every process on every machine through one Redis key.

    One Lua script reads the server's ``TIME``, takes the slot and stores the new state
    atomically, so concurrent workers anywhere never share a slot, and their own clocks do not
    matter. The interval is rounded up to a whole microsecond (never above ``rate``). When Redis
    cannot be reached, ``reserve`` raises ``redis.ConnectionError`` after two quick retries: no
    request goes out unbudgeted. Needs Redis 5 or later (``TIME`` inside a script that writes).
    Picklable (by URL and key), so it can be shipped to Dask workers.
    """

    def __init__(self, url: str, key: str, rate: float, burst: int) -> None:
        super().__init__(rate, burst)
        self.url, self.key = url, key
        self._interval_us = math.ceil(1e6 / self.rate)
        self._redis: redis.Redis = connect(url, retries=2)
        self._script = self._redis.register_script(_GCRA_LUA)

    def reserve(self) -> float:
        tolerance_us = (self.burst - 1) * self._interval_us
        wait_us = self._script(keys=[self.key], args=[self._interval_us, tolerance_us])
        return int(wait_us) / 1e6

    def close(self) -> None:
        """Let go of the Redis connections."""
        self._redis.close()

    def __reduce__(self) -> tuple[type[RedisBudget], tuple[str, str, float, int]]:
        return RedisBudget, (self.url, self.key, self.rate, self.burst)

    def __repr__(self) -> str:
        return f"RedisBudget(key={self.key!r}, rate={self.rate:g}, burst={self.burst})"


class Tally:
    """Slots taken while it is current (``CountedBudget.tally``): one per request sent, retries included."""

    def __init__(self) -> None:
        self.slots = 0


_TALLY: contextvars.ContextVar[Tally | None] = contextvars.ContextVar("oss20_budget_tally", default=None)


class CountedBudget(RequestBudget):
    """Another budget, with each slot counted against the ``Tally`` current where it is taken.

    A backfill chunk sets a tally of its own (``with budget.tally() as tally``) around its history
    requests; the client's requests run in tasks and threads that inherit the chunk's context, so
    the chunk learns how many requests it sent although chunks share one client and one budget.
    """

    def __init__(self, inner: RequestBudget) -> None:
        super().__init__(inner.rate, inner.burst)
        self.inner = inner

    @contextlib.contextmanager
    def tally(self) -> Iterator[Tally]:
        """A fresh tally, current in this context until the block ends."""
        tally = Tally()
        token = _TALLY.set(tally)
        try:
            yield tally
        finally:
            _TALLY.reset(token)

    def _count(self) -> None:
        tally = _TALLY.get()
        if tally is not None:
            tally.slots += 1

    def reserve(self) -> float:
        self._count()
        return self.inner.reserve()

    async def acquire(self) -> None:
        """Count the slot, then wait as the inner budget says."""
        self._count()
        await self.inner.acquire()

    def __repr__(self) -> str:
        return f"CountedBudget({self.inner!r})"


def open_budget(settings: Settings) -> RequestBudget:
    """The budget every backfill worker of this deployment shares.

    Redis when ``OSS20_REDIS_URL`` is set (every machine), else a state file in the data dir
    (every process of this machine); ``settings.history_rate`` requests per second. The burst is
    one second's worth of the rate: a full bucket lets a backfill start at once, and with the
    default 50 it stays 25 requests under the ~75 DTN tolerates, headroom for the jitter that
    bunches requests up between our clock and DTN's (network, scheduling, retries in flight).
    """
    rate = settings.history_rate
    burst = max(1, math.floor(rate))
    if settings.redis_url:
        return RedisBudget(settings.redis_url, REDIS_KEY, rate, burst)
    return FileBudget(settings.data_path / BUDGET_FILE, rate, burst)
