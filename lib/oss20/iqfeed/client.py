"""Asyncio IQFeed client: a Level 1 stream that survives drops, history requests, admin stats.

Works against IQConnect or our simulator alike; only host and ports differ. ``AdminStream`` reads the
admin port's view of IQConnect's link to DTN for the collector's watchdog.

    async with Level1Stream(Endpoint.from_settings(Settings.from_env())) as stream:
        await stream.watch("AAPL", "MSFT")
        async for batch in stream.batches():
            print(batch.trades())
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import logging
import random
import time
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.config import Settings
from oss20.iqfeed import protocol
from oss20.schema import TICK_COLUMNS, TZ, empty_frame, last_per_symbol

if TYPE_CHECKING:
    from oss20.backfill.budget import RequestBudget

log = logging.getLogger(__name__)

READ_SIZE = 1 << 20
STREAM_LIMIT = 1 << 31
FOLD_EVERY = 256
"""Batches of trades between two updates of each symbol's latest trade time (or when it is read)."""


class IQFeedError(Exception):
    """IQFeed answered a request with an error line."""


class InvalidSymbol(IQFeedError):
    """IQFeed does not know the symbol (history: ``Invalid symbol.``; Level 1: ``n,<sym>``)."""


class IQFeedSyntaxError(IQFeedError):
    """IQFeed could not parse the request (``!SYNTAX_ERROR!``)."""


class Throttled(IQFeedError):
    """Too many history requests at once; retried with backoff until retries run out."""


class FeedUnavailable(IQFeedError):
    """IQConnect (or the simulator) is not listening, or did not complete the handshake."""


@dataclass(frozen=True)
class Endpoint:
    """Where IQConnect listens."""

    host: str = "127.0.0.1"
    level1_port: int = protocol.LEVEL1_PORT
    lookup_port: int = protocol.LOOKUP_PORT
    admin_port: int = protocol.ADMIN_PORT

    @classmethod
    def from_settings(cls, settings: Settings) -> Endpoint:
        return cls(settings.iqfeed_host, settings.level1_port, settings.lookup_port, settings.admin_port)


async def feed_time(endpoint: Endpoint, timeout: float = 5.0) -> pd.Timestamp:
    """The feed's clock (America/New_York) from its once-a-second Level 1 timestamp (``T,``): what
    "now" means for the feed's history (the simulator's day need not be today)."""
    reader, writer = await _open(endpoint.host, endpoint.level1_port, timeout)
    try:
        writer.write(protocol.cmd_timestamps(True))
        await writer.drain()
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            line = await asyncio.wait_for(reader.readline(), left)
            if not line:
                break
            if line.startswith(b"T,"):
                return pd.Timestamp(line[2:].strip().decode()).tz_localize(TZ)
    except TimeoutError:
        pass
    finally:
        writer.close()
    where = f"{endpoint.host}:{endpoint.level1_port}"
    raise FeedUnavailable(f"no timestamp from IQFeed at {where} within {timeout} s")


async def _open(host: str, port: int, timeout: float) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.wait_for(asyncio.open_connection(host, port, limit=STREAM_LIMIT), timeout)
    except (TimeoutError, OSError) as err:
        raise FeedUnavailable(f"cannot connect to IQFeed at {host}:{port}: {err}") from err


async def _handshake(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, version: str, timeout: float
) -> None:
    """Send ``S,SET PROTOCOL`` and wait for the server's echo of that version."""
    writer.write(protocol.cmd_set_protocol(version))
    await writer.drain()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = await asyncio.wait_for(reader.readline(), max(deadline - time.monotonic(), 0.01))
        if not line:
            break
        if line.startswith(b"S,CURRENT PROTOCOL,"):
            echoed = line.rstrip(b"\r\n,").split(b",")[2].decode()
            if echoed != version:
                raise FeedUnavailable(f"IQFeed speaks protocol {echoed}, we asked for {version}")
            return
    raise FeedUnavailable(f"no protocol echo from IQFeed within {timeout} s")


@dataclass
class Outage:
    """A spell without the Level 1 stream: what was last seen before it, per symbol."""

    began: pd.Timestamp
    ended: pd.Timestamp | None = None
    last_trade: dict[str, pd.Timestamp] = field(default_factory=dict)
    reason: str = ""


@dataclass
class StreamStats:
    lines: int = 0
    updates: int = 0
    summaries: int = 0
    trades: int = 0
    malformed: int = 0
    reconnects: int = 0
    stalls: int = 0
    server_disconnects: int = 0  # S,SERVER DISCONNECTED (or RECONNECT FAILED) seen while connected
    rewatches: int = 0  # symbols watched again (r then w) on request


class Level1Stream:
    """Level 1 updates for a watchlist. Reconnects with backoff and re-watches after a drop or stall.

    Malformed lines are counted and kept aside in ``malformed`` with their reason; they never stop
    the stream. Every interruption is recorded in ``outages`` so a collector can ask history for
    exactly what it missed. While IQConnect says its server is disconnected (``server_up`` False)
    silence is expected and is not a stall: reconnecting to IQConnect would not help.
    """

    def __init__(
        self,
        endpoint: Endpoint | None = None,
        fields: Sequence[str] = protocol.OSS20_UPDATE_FIELDS,
        protocol_version: str = "6.2",
        name: str = "oss20",
        stall_after: float = 5.0,
        backoff: tuple[float, float] = (0.05, 5.0),
        connect_timeout: float = 5.0,
        keep_malformed: int = 10_000,
    ) -> None:
        self.endpoint = endpoint or Endpoint()
        self.fields = tuple(fields)
        self.protocol_version = protocol_version
        self.name = name
        self.stall_after = stall_after
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self.watches: dict[str, bool] = {}  # symbol -> trades only
        self.unknown: set[str] = set()
        self.limited: set[str] = set()
        self.errors: deque[str] = deque(maxlen=1000)
        self.malformed: deque[protocol.Malformed] = deque(maxlen=keep_malformed)
        self.outages: list[Outage] = []
        self._last_trade_ns: dict[str, int] = {}
        self._trades_since: list[tuple[np.ndarray, np.ndarray]] = []  # (symbols, times) not yet folded in
        self.stats = StreamStats()
        self._parser = protocol.Level1Parser(protocol.DEFAULT_UPDATE_FIELDS)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._closed = False
        self.server_up = True  # IQConnect's link to DTN, as its S,SERVER messages on this port tell it
        self.last_read = time.monotonic()  # when bytes last arrived (monotonic seconds)

    async def __aenter__(self) -> Level1Stream:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Connect, agree on the protocol, select our fields and (re-)watch the watchlist."""
        reader, writer = await _open(self.endpoint.host, self.endpoint.level1_port, self.connect_timeout)
        try:
            await _handshake(reader, writer, self.protocol_version, self.connect_timeout)
        except BaseException:
            writer.close()
            raise
        self._reader, self._writer = reader, writer
        self.server_up = True
        self.last_read = time.monotonic()
        self._parser = protocol.Level1Parser(protocol.DEFAULT_UPDATE_FIELDS)
        writer.write(protocol.cmd_set_client_name(self.name))
        writer.write(protocol.cmd_connect())
        writer.write(protocol.cmd_select_fields(self.fields[1:]))
        for symbol, trades_only in self.watches.items():
            writer.write(protocol.cmd_trades_only(symbol) if trades_only else protocol.cmd_watch(symbol))
        await writer.drain()

    async def watch(self, *symbols: str, trades_only: bool = False) -> None:
        """Watch trades and quotes (or trades only) of ``symbols``."""
        for symbol in symbols:
            self.watches[symbol] = trades_only
            self.unknown.discard(symbol)
            if self._writer is not None:
                self._writer.write(
                    protocol.cmd_trades_only(symbol) if trades_only else protocol.cmd_watch(symbol)
                )
        if self._writer is not None:
            await self._writer.drain()

    def rewatch(self, *symbols: str) -> None:
        """Remove and watch again (``r`` then ``w``) each of ``symbols`` watched: IQConnect answers with a
        fresh summary and streams the symbol anew. Without a connection the next one watches them all."""
        if self._writer is None:
            return
        for symbol in symbols:
            if symbol in self.watches:
                self._writer.write(protocol.cmd_unwatch(symbol))
                trades_only = self.watches[symbol]
                self._writer.write(
                    protocol.cmd_trades_only(symbol) if trades_only else protocol.cmd_watch(symbol)
                )
                self.stats.rewatches += 1

    async def unwatch(self, *symbols: str) -> None:
        for symbol in symbols:
            self.watches.pop(symbol, None)
            if self._writer is not None:
                self._writer.write(protocol.cmd_unwatch(symbol))
        if self._writer is not None:
            await self._writer.drain()

    async def close(self) -> None:
        self._closed = True
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    @property
    def last_trade(self) -> dict[str, pd.Timestamp]:
        """Each symbol's latest trade time seen on the stream."""
        self._fold_trades()
        return {s: pd.Timestamp(ns, tz="UTC").tz_convert(TZ) for s, ns in self._last_trade_ns.items()}

    def _fold_trades(self) -> None:
        """Bring ``_last_trade_ns`` up to date with the batches since the last fold, in one pass."""
        if self._trades_since:
            symbols = np.concatenate([symbols for symbols, _ in self._trades_since])
            stamps = np.concatenate([stamps for _, stamps in self._trades_since])
            self._trades_since.clear()
            for symbol, ns in last_per_symbol(symbols, stamps).items():
                self._last_trade_ns[symbol] = max(ns, self._last_trade_ns.get(symbol, ns))

    async def batches(self) -> AsyncIterator[protocol.Level1Batch]:
        """Parsed batches of updates as they arrive, across reconnects, until ``close()``."""
        while not self._closed:
            if self._reader is None:
                await self._reconnect()
                continue
            try:
                stall_after = self.stall_after if self.server_up else None
                chunk = await asyncio.wait_for(self._reader.read(READ_SIZE), stall_after)
            except TimeoutError:
                self.stats.stalls += 1
                self._lost("stall")
                continue
            except (ConnectionError, OSError):
                chunk = b""
            if not chunk:
                if not self._closed:
                    self._lost("disconnected")
                continue
            received = time.time_ns()
            self.last_read = time.monotonic()
            batch = self._parser.feed(chunk)
            batch.received_ns = received
            self._account(batch)
            yield batch

    def _account(self, batch: protocol.Level1Batch) -> None:
        self.stats.lines += batch.n_updates + batch.n_summaries + len(batch.messages) + len(batch.malformed)
        self.stats.updates += batch.n_updates
        self.stats.summaries += batch.n_summaries
        self.stats.malformed += len(batch.malformed)
        self.malformed.extend(batch.malformed)
        if batch.n_updates:
            self.server_up = True  # data flows only while IQConnect has DTN, whatever it said last
        trades = batch.trade_arrays
        self.stats.trades += len(trades)
        if len(trades):
            self._trades_since.append((trades["symbol"], trades["timestamp"]))
            if len(self._trades_since) >= FOLD_EVERY:
                self._fold_trades()
        for message in batch.messages:
            kind = message[0]
            if kind == "n" and len(message) > 1:
                self.unknown.add(message[1])
                self.watches.pop(message[1], None)
            elif kind == "E":
                self.errors.append(",".join(message[1:]))
            elif kind == "S" and len(message) > 2 and message[1] == "SYMBOL LIMIT REACHED":
                self.limited.add(message[2])
                self.watches.pop(message[2], None)
            elif kind == "S" and len(message) > 1 and message[1] in protocol.SERVER_STATES:
                up = protocol.SERVER_STATES[message[1]]
                if self.server_up and not up:
                    self.stats.server_disconnects += 1
                    log.warning("iqfeed server disconnected state=%s", message[1])
                self.server_up = up

    def _lost(self, reason: str) -> None:
        log.warning(
            "level1 stream lost reason=%s host=%s port=%s",
            reason,
            self.endpoint.host,
            self.endpoint.level1_port,
        )
        self.outages.append(Outage(pd.Timestamp.now(tz=TZ), last_trade=self.last_trade, reason=reason))
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def _reconnect(self) -> None:
        low, high = self.backoff
        for attempt in itertools.count():
            if self._closed:
                return
            await asyncio.sleep(min(high, low * 2**attempt) * random.uniform(0.5, 1.0))
            try:
                await self.connect()
            except (TimeoutError, FeedUnavailable, OSError) as err:
                log.info("level1 reconnect failed attempt=%d error=%s", attempt + 1, err)
                continue
            self.stats.reconnects += 1
            if self.outages and self.outages[-1].ended is None:
                self.outages[-1].ended = pd.Timestamp.now(tz=TZ)
            log.info("level1 reconnected attempt=%d watches=%d", attempt + 1, len(self.watches))
            return


class HistoryClient:
    """IQFeed history (port 9100): ticks, interval bars and daily bars as schema frames.

    Keeps a small pool of connections, paces requests under DTN's ~50/s limit, retries the
    throttle reply with backoff, splits long tick ranges into one request per session day, and
    returns an empty frame (not an error) when IQFeed has no data.

    Every request, retries included, waits for a slot of ``budget`` right before it is written;
    pass a shared one (``oss20.backfill.budget.open_budget``) when several clients, processes or
    machines ask history at once. Without it the client paces itself alone at ``rate`` per second.
    """

    def __init__(
        self,
        endpoint: Endpoint | None = None,
        protocol_version: str = "6.2",
        connections: int = 4,
        rate: float = 45.0,
        retries: int = 6,
        timeout: float = 60.0,
        budget: RequestBudget | None = None,
    ) -> None:
        self.endpoint = endpoint or Endpoint()
        self.protocol_version = protocol_version
        self.timeout = timeout
        self.retries = retries
        # Imported here: oss20.backfill's package imports the executors, which import this module.
        from oss20.backfill.budget import LocalBudget

        self.budget = budget or LocalBudget(rate, burst=1)
        self._pool: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter] | None] = asyncio.Queue()
        for _ in range(connections):
            self._pool.put_nowait(None)
        self._ids = itertools.count(1)
        self._open: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> HistoryClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        for writer in self._open:
            writer.close()
        self._open.clear()

    async def ticks(
        self, symbol: str, start: pd.Timestamp | str | None = None, end: pd.Timestamp | str | None = None
    ) -> pd.DataFrame:
        """Trades of ``symbol`` from ``start`` to ``end`` inclusive, oldest first (a request per session)."""
        begin = _ts(start) if start is not None else None
        finish = _ts(end) if end is not None else pd.Timestamp.now(tz=TZ)
        first = begin.date() if begin is not None else finish.date() - dt.timedelta(days=180)
        days = calendar.sessions(first, finish.date())
        if not days:
            return empty_frame(TICK_COLUMNS)
        parts = await asyncio.gather(*(self._day_ticks(symbol, d, begin, finish) for d in days))
        return _concat_ticks(parts)

    async def last_ticks(self, symbol: str, count: int) -> pd.DataFrame:
        """The last ``count`` trades (HTX), oldest first."""
        request = protocol.TickRequest(kind="HTX", symbol=symbol, request_id=self._rid(), max_points=count)
        return await self._ask(protocol.format_request(request), symbol, protocol.parse_tick_history)

    async def tick_days(self, symbol: str, days: int) -> pd.DataFrame:
        """Trades of the last ``days`` calendar days, today included (HTD), oldest first."""
        request = protocol.TickRequest(kind="HTD", symbol=symbol, request_id=self._rid(), days=days)
        return await self._ask(protocol.format_request(request), symbol, protocol.parse_tick_history)

    async def interval_bars(
        self,
        symbol: str,
        interval: int,
        start: pd.Timestamp | str,
        end: pd.Timestamp | str,
        kind: str = "s",
    ) -> pd.DataFrame:
        """Bars of ``interval`` seconds (``kind`` s), trades (t) or shares (v), labelled by their end."""
        request = protocol.IntervalRequest(
            kind="HIT",
            symbol=symbol,
            request_id=self._rid(),
            interval=interval,
            interval_type=kind,
            begin=_ts(start),
            end=_ts(end),
        )
        return await self._ask(protocol.format_request(request), symbol, protocol.parse_interval_bars)

    async def daily(self, symbol: str, start: dt.date | str, end: dt.date | str) -> pd.DataFrame:
        """Daily bars from ``start`` to ``end`` inclusive (HDT), oldest first."""
        request = protocol.DailyRequest(
            kind="HDT",
            symbol=symbol,
            request_id=self._rid(),
            begin=pd.Timestamp(calendar.to_date(start)),
            end=pd.Timestamp(calendar.to_date(end)),
        )
        return await self._ask(protocol.format_request(request), symbol, protocol.parse_daily)

    async def weekly(self, symbol: str, count: int) -> pd.DataFrame:
        """The last ``count`` weekly bars (HWX), oldest first, each dated by its last session."""
        return await self._periods("HWX", symbol, count)

    async def monthly(self, symbol: str, count: int) -> pd.DataFrame:
        """The last ``count`` monthly bars (HMX), oldest first, each dated by its last session."""
        return await self._periods("HMX", symbol, count)

    async def _periods(self, kind: str, symbol: str, count: int) -> pd.DataFrame:
        request = protocol.DailyRequest(kind=kind, symbol=symbol, request_id=self._rid(), max_points=count)
        return await self._ask(protocol.format_request(request), symbol, protocol.parse_daily)

    async def _day_ticks(
        self, symbol: str, day: dt.date, begin: pd.Timestamp | None, end: pd.Timestamp
    ) -> pd.DataFrame:
        day_start = pd.Timestamp(day).tz_localize(TZ)
        lo = max(begin, day_start) if begin is not None else day_start
        hi = min(end, day_start + pd.Timedelta(days=1) - pd.Timedelta(microseconds=1))
        request = protocol.TickRequest(kind="HTT", symbol=symbol, request_id=self._rid(), begin=lo, end=hi)
        frame = await self._ask(protocol.format_request(request), symbol, protocol.parse_tick_history)
        return frame[(frame["timestamp"] >= lo) & (frame["timestamp"] <= hi)]

    def _rid(self) -> str:
        return f"O{next(self._ids)}"

    async def _ask(self, command: bytes, symbol: str, parse) -> pd.DataFrame:  # type: ignore[no-untyped-def]
        """Send one request and parse its reply, retrying IQFeed's throttle reply with backoff."""
        request_id = protocol.request_id_of(command)
        for attempt in range(self.retries + 1):
            data = await self._exchange(command, request_id)
            reply = parse(protocol.strip_request_id(data, request_id), symbol)
            if reply.malformed:
                log.warning("history reply malformed lines=%d symbol=%s", len(reply.malformed), symbol)
            if reply.error is None:
                return reply.frame
            if reply.error == protocol.NO_DATA:
                return reply.frame
            if reply.error == protocol.INVALID_SYMBOL:
                raise InvalidSymbol(f"IQFeed does not know symbol {symbol!r}")
            if reply.error == protocol.SYNTAX_ERROR:
                raise IQFeedSyntaxError(f"IQFeed rejected {command!r} as a syntax error")
            if not reply.error.startswith("Too many"):
                raise IQFeedError(f"IQFeed error for {symbol!r}: {reply.error}")
            await asyncio.sleep(min(2.0, 0.05 * 2**attempt) * random.uniform(0.5, 1.0))
        raise Throttled(f"IQFeed kept throttling history for {symbol!r} after {self.retries} retries")

    async def _exchange(self, command: bytes, request_id: str) -> bytes:
        """Write ``command`` on a pooled connection and read through its ``!ENDMSG!`` line.

        The budget's slot is taken once the connection is ready, so the request goes out in it.
        """
        conn = await self._pool.get()
        try:
            if conn is None:
                conn = await self._connect()
            reader, writer = conn
            await self.budget.acquire()
            writer.write(command)
            await writer.drain()
            marker = f"{request_id},{protocol.ENDMSG}".encode()
            data = await asyncio.wait_for(reader.readuntil(marker), self.timeout)
            await reader.readline()
            return data
        except BaseException:
            if conn is not None:
                conn[1].close()
            conn = None
            raise
        finally:
            self._pool.put_nowait(conn)

    async def _connect(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await _open(self.endpoint.host, self.endpoint.lookup_port, self.timeout)
        await _handshake(reader, writer, self.protocol_version, self.timeout)
        self._open.append(writer)
        return reader, writer


@dataclass
class AdminStats:
    lines: int = 0
    states: int = 0
    malformed: int = 0
    lost: int = 0  # admin connections lost (dropped or silent), each followed by a reconnect


class AdminStream:
    """IQConnect's admin port read as real clients use it (protocol, client name, ``S,CONNECT``, client
    stats off): the feed's state from each ``S,STATS`` (once a second) and ``S,SERVER ...`` line.

    Reconnects with backoff when the port drops or says nothing for ``silent_after`` seconds, until
    ``close()``; the admin port being away says nothing about the feed, so it is only logged.
    """

    def __init__(
        self,
        endpoint: Endpoint | None = None,
        name: str = "oss20-watchdog",
        protocol_version: str = "6.2",
        silent_after: float = 5.0,
        backoff: tuple[float, float] = (0.5, 10.0),
        connect_timeout: float = 5.0,
    ) -> None:
        self.endpoint = endpoint or Endpoint()
        self.name = name
        self.protocol_version = protocol_version
        self.silent_after = silent_after
        self.backoff = backoff
        self.connect_timeout = connect_timeout
        self.stats = AdminStats()
        self._attempts = 0  # failed connection attempts in a row
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._closed = False

    async def connect(self) -> None:
        """Connect, agree on the protocol, name ourselves, ask IQConnect to connect, turn client stats off."""
        reader, writer = await _open(self.endpoint.host, self.endpoint.admin_port, self.connect_timeout)
        try:
            await _handshake(reader, writer, self.protocol_version, self.connect_timeout)
        except BaseException:
            writer.close()
            raise
        writer.write(protocol.cmd_set_client_name(self.name))
        writer.write(protocol.cmd_connect())
        writer.write(protocol.cmd_clientstats(False))
        await writer.drain()
        self._reader, self._writer = reader, writer

    async def states(self) -> AsyncIterator[protocol.FeedState]:
        """The feed's state as each line tells it, across reconnects, until ``close()``."""
        while not self._closed:
            reader = self._reader or await self._reach()
            if reader is None:
                continue
            try:
                line = await asyncio.wait_for(reader.readline(), self.silent_after)
            except (TimeoutError, ConnectionError, OSError):
                line = b""
            if not line:
                self._drop()
                continue
            self.stats.lines += 1
            try:
                state = protocol.feed_state(line)
            except protocol.ProtocolError as err:
                self.stats.malformed += 1
                log.warning("admin line malformed error=%s", err)
                continue
            if state is not None:
                self.stats.states += 1
                yield state

    async def _reach(self) -> asyncio.StreamReader | None:
        """Connect, or wait out the backoff after a failed attempt and return None."""
        try:
            await self.connect()
        except (TimeoutError, FeedUnavailable, OSError) as err:
            low, high = self.backoff
            log.log(
                logging.WARNING if self._attempts == 0 else logging.DEBUG,
                "admin port unreachable attempt=%d error=%s",
                self._attempts + 1,
                err,
            )
            await asyncio.sleep(min(high, low * 2**self._attempts) * random.uniform(0.5, 1.0))
            self._attempts += 1
            return None
        self._attempts = 0
        return self._reader

    def _drop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
        if not self._closed:
            self.stats.lost += 1
            log.info("admin port lost host=%s port=%s", self.endpoint.host, self.endpoint.admin_port)

    async def close(self) -> None:
        self._closed = True
        self._drop()


async def admin_stats(endpoint: Endpoint | None = None, timeout: float = 5.0) -> dict[str, object]:
    """One ``S,STATS`` message from the admin port, as a dict keyed by the documented field names."""
    endpoint = endpoint or Endpoint()
    reader, writer = await _open(endpoint.host, endpoint.admin_port, timeout)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = await asyncio.wait_for(reader.readline(), max(deadline - time.monotonic(), 0.01))
            if not line:
                break
            if line.startswith(b"S,STATS,"):
                return protocol.parse_stats(line)
        raise FeedUnavailable(f"no S,STATS from {endpoint.host}:{endpoint.admin_port} within {timeout} s")
    finally:
        writer.close()


def _ts(value: pd.Timestamp | str) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    return stamp.tz_localize(TZ) if stamp.tzinfo is None else stamp.tz_convert(TZ)


def _concat_ticks(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    parts = [p for p in parts if not p.empty]
    if not parts:
        return empty_frame(TICK_COLUMNS)
    return pd.concat(parts, ignore_index=True)
