"""An IQConnect stand-in on loopback: Level 1, lookup/history and admin ports over the synthetic market.

The simulator speaks the protocol of ../shared/IQFEED_PROTOCOL.md so that our client and
third-party clients (pyiqfeed) work against it unchanged. A simulated clock replays one
trading day at a chosen speed (``speed=0`` is a firehose); history is answered from the same
market, cut at the clock's ``now``, so live and history agree tick for tick.

    with Simulator(SimulatorConfig(level1_port=0, lookup_port=0, admin_port=0)).running() as sim:
        print(sim.ports)          # {'level1': 40123, 'lookup': 40124, 'admin': 40125}
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from oss20 import calendar
from oss20.iqfeed import protocol, reference
from oss20.iqfeed.faults import FaultPlan, inject
from oss20.iqfeed.history_desk import HistoryDesk
from oss20.market import Market
from oss20.schema import TZ

log = logging.getLogger(__name__)

FEED_VERSION = "6.2.0.25"
ADMIN_REPLIES = {  # admin command -> IQConnect's answer (a password is acknowledged, never echoed)
    "S,REGISTER CLIENT APP": lambda args: ("REGISTER CLIENT APP COMPLETED",),
    "S,REMOVE CLIENT APP": lambda args: ("REMOVE CLIENT APP COMPLETED",),
    "S,SET LOGINID": lambda args: ("CURRENT LOGINID", *args[:1]),
    "S,SET PASSWORD": lambda args: ("CURRENT PASSWORD", "********"),
    "S,SET AUTOCONNECT": lambda args: (f"AUTOCONNECT {(args or ('On',))[0].upper()}",),
    "S,SET SAVE LOGIN INFO": lambda args: (
        "LOGIN INFO SAVED" if (args or ("On",))[0].lower() == "on" else "LOGIN INFO NOT SAVED",
    ),
}
BLOCK_ROWS = 8192
KEEP_BLOCKS = 4  # formatted blocks kept per symbol-day and layout


Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class PortUnavailable(OSError):
    """A port the simulator was asked to listen on is taken or not allowed."""


@dataclass
class SimulatorConfig:
    """Where the simulator listens and what it plays. Ports 0 pick free ports (tests)."""

    host: str = "127.0.0.1"
    level1_port: int = protocol.LEVEL1_PORT
    lookup_port: int = protocol.LOOKUP_PORT
    admin_port: int = protocol.ADMIN_PORT
    day: dt.date | None = None  # None: the latest session
    start: dt.time | None = None  # simulated time of day to start at; None: 09:30
    speed: float = 1.0  # simulated seconds per wall second; 0 = firehose
    firehose_step: float = 5.0  # simulated seconds per firehose step
    seed: int = 7
    activity: float = 1.0
    symbols: tuple[str, ...] = ()  # restrict the universe (empty: all)
    max_symbols: int = 500
    history_rate: float = 50.0  # history requests per second before IQFeed's throttle reply
    history_burst: int = 75
    faults: FaultPlan = field(default_factory=FaultPlan)
    paused: bool = False  # hold the clock at ``start`` until ``Simulator.resume()``


class SessionClock:
    """Simulated exchange time in ns: wall time scaled by ``speed``, or stepped in firehose mode."""

    def __init__(
        self, start: pd.Timestamp, end: pd.Timestamp, speed: float, step: float, paused: bool = False
    ) -> None:
        self.start_ns, self.end_ns = start.value, end.value
        self.speed, self.step_ns = speed, int(step * 1e9)
        self._wall0 = time.monotonic()
        self.now_ns = self.start_ns
        self.paused = paused

    def pause(self) -> None:
        self.paused = True

    def resume(self) -> None:
        """Carry on from the current simulated time."""
        self.start_ns, self._wall0 = self.now_ns, time.monotonic()
        self.paused = False

    def advance(self) -> int:
        """Move the clock to the present (or one firehose step) and return it."""
        if self.paused:
            return self.now_ns
        if self.speed > 0:
            elapsed = time.monotonic() - self._wall0
            self.now_ns = self.start_ns + int(elapsed * self.speed * 1e9)
        else:
            self.now_ns += self.step_ns
        self.now_ns = min(self.now_ns, self.end_ns)
        return self.now_ns

    @property
    def now(self) -> pd.Timestamp:
        return pd.Timestamp(self.now_ns, tz="UTC").tz_convert(TZ)

    @property
    def end(self) -> pd.Timestamp:
        """The end of the simulated day (after-hours close)."""
        return pd.Timestamp(self.end_ns, tz="UTC").tz_convert(TZ)

    @property
    def finished(self) -> bool:
        return self.now_ns >= self.end_ns


class FormattedLines:
    """Q lines of one symbol-day in one field layout, formatted lazily in blocks and sliced by row.

    Watches read forward, so only the last few blocks are kept; a block needed again (a slow
    watcher) is formatted again, identically.
    """

    def __init__(self, frame: pd.DataFrame, fields: tuple[str, ...]) -> None:
        self._frame, self._fields = frame, fields
        self._blocks: OrderedDict[int, tuple[bytes, np.ndarray]] = OrderedDict()

    def slice(self, lo: int, hi: int) -> bytes:
        parts = []
        for block in range(lo // BLOCK_ROWS, (hi - 1) // BLOCK_ROWS + 1) if hi > lo else ():
            data, offsets = self._block(block)
            base = block * BLOCK_ROWS
            parts.append(data[offsets[max(lo, base) - base] : offsets[min(hi, base + BLOCK_ROWS) - base]])
        return b"".join(parts)

    def _block(self, block: int) -> tuple[bytes, np.ndarray]:
        if block in self._blocks:
            self._blocks.move_to_end(block)
            return self._blocks[block]
        rows = self._frame.iloc[block * BLOCK_ROWS : (block + 1) * BLOCK_ROWS]
        data = protocol.format_level1("Q", rows, self._fields)
        ends = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == ord("\n")) + 1
        self._blocks[block] = (data, np.concatenate(([0], ends)))
        while len(self._blocks) > KEEP_BLOCKS:
            self._blocks.popitem(last=False)
        return self._blocks[block]


class SymbolDay:
    """One symbol's Level 1 updates for the simulated day, with their formatted lines per layout."""

    def __init__(self, market: Market, symbol: str, day: dt.date) -> None:
        self.frame = market.level1(symbol, day)
        self.stamps = self.frame["timestamp"].to_numpy(dtype="datetime64[ns]").view(np.int64)
        trade = self.frame["contents"].str.contains("[CEO]", regex=True).to_numpy()
        self.trades = self.frame[trade].reset_index(drop=True)
        self.trade_stamps = self.stamps[trade]
        self._lines: dict[tuple[tuple[str, ...], bool], FormattedLines] = {}

    def lines(self, fields: tuple[str, ...], trades_only: bool) -> FormattedLines:
        key = (fields, trades_only)
        if key not in self._lines:
            self._lines[key] = FormattedLines(self.trades if trades_only else self.frame, fields)
        return self._lines[key]

    def state_at(self, now_ns: int) -> pd.DataFrame:
        """The symbol's summary (P) row at ``now_ns``: its last update, or an empty state before any."""
        at = int(np.searchsorted(self.stamps, now_ns, side="right")) - 1
        return self.frame.iloc[[max(at, 0)]]


@dataclass
class Watch:
    trades_only: bool
    sent_ns: int  # updates up to and including this time have been sent
    started: float = field(default_factory=time.monotonic)  # wall time of the watch command


@dataclass(eq=False)
class Level1Session:
    """One client connection on the Level 1 port: its protocol, field layout and watches."""

    writer: asyncio.StreamWriter
    version: str = "6.0"
    name: str = ""
    fields: tuple[str, ...] = protocol.DEFAULT_UPDATE_FIELDS
    watches: dict[str, Watch] = field(default_factory=dict)
    timestamps: bool = True
    bytes_sent: int = 0
    connected_at: float = field(default_factory=time.time)


class TokenBucket:
    """IQFeed's history throttle: ``rate`` requests per second with bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self.tokens, self.stamp = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


class Simulator:
    """The IQConnect stand-in. Run it with ``await serve()`` or in a thread with ``running()``."""

    def __init__(self, config: SimulatorConfig | None = None, market: Market | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.market = market or Market(seed=self.config.seed, activity=self.config.activity)
        self.day = self.config.day or calendar.latest_session()
        sess = calendar.session(self.day)
        start_time = self.config.start or dt.time(9, 30)
        start = pd.Timestamp.combine(self.day, start_time).tz_localize(TZ)
        self.clock = SessionClock(
            max(start, sess.pre_open),
            sess.post_close,
            self.config.speed,
            self.config.firehose_step,
            self.config.paused,
        )
        self.faults = self.config.faults
        self.desk = HistoryDesk(self.market)
        self.ports: dict[str, int] = {}
        self._days: dict[str, SymbolDay] = {}
        self._level1: set[Level1Session] = set()
        self._clients: dict[int, dict[str, object]] = {}
        self._bucket = TokenBucket(self.config.history_rate, self.config.history_burst)
        self._rng = np.random.default_rng(self.config.seed)
        self._stalled_until = 0.0
        self._server_down = False  # IQConnect has lost DTN: Level 1 data is lost, stats say Not Connected
        self._server_down_until = 0.0
        self._silenced: dict[str, tuple[float, float]] = {}  # symbol -> (wall start, wall end) of a silence
        self._admins: set[asyncio.StreamWriter] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._servers: list[asyncio.base_events.Server] = []
        self._connections: dict[asyncio.Task[None], asyncio.StreamWriter] = {}
        self._stopping: asyncio.Event | None = None
        self.history_requests = 0
        self.history_throttled = 0  # requests answered with the throttle error
        self.updates_sent = 0
        self.drops = 0
        self.server_disconnects = 0
        self.server_reconnects = 0
        self.silences = 0
        self.trades_lost = 0  # trades a server disconnect or a silence kept off the live stream
        self._building = 0  # watches whose symbol-day is being built
        self._last_update = time.monotonic()

    # -- public control API (thread-safe when the simulator runs in a thread) ---------------

    def drop_connections(self) -> None:
        """Close every Level 1 connection, as a feed outage would."""
        self._call(self._drop_level1)

    def stall(self, seconds: float) -> None:
        """Send nothing at all on the Level 1 port for ``seconds`` (no updates, no timestamps)."""
        self._stalled_until = time.monotonic() + seconds

    def disconnect(self, seconds: float) -> None:
        """Lose IQConnect's link to DTN for ``seconds``: ``S,SERVER DISCONNECTED`` on the Level 1 and admin
        ports, stats Not Connected, Level 1 data lost (history keeps it); then ``S,SERVER CONNECTED`` and
        one more reconnect in the stats."""
        self._call(lambda: self._lose_server(seconds))

    def silence(self, symbol: str, seconds: float) -> None:
        """Lose ``symbol``'s Level 1 updates for ``seconds`` on every watch older than now (history keeps
        them); a watch made again (``r`` then ``w``) streams at once."""
        now = time.monotonic()
        self._silenced[symbol] = (now, now + seconds)
        self.silences += 1

    @property
    def server_connected(self) -> bool:
        """Whether IQConnect is connected to DTN (False during a ``disconnect``)."""
        return not self._server_down

    def pause(self) -> None:
        """Hold the simulated clock (nothing new is streamed)."""
        self.clock.pause()

    def resume(self) -> None:
        """Let the simulated clock run again from where it stopped."""
        self.clock.resume()

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the line fault plan (duplicates, reordering, bad prices, malformed lines)."""
        self.faults = plan

    @property
    def now(self) -> pd.Timestamp:
        """The simulated exchange time."""
        return self.clock.now

    def symbol_day(self, symbol: str) -> SymbolDay:
        if symbol not in self._days:
            self._days[symbol] = SymbolDay(self.market, symbol, self.day)
        return self._days[symbol]

    def knows(self, symbol: str) -> bool:
        return self.market.knows(symbol) and (not self.config.symbols or symbol in self.config.symbols)

    def start(self) -> Simulator:
        """Serve in a background thread (for notebooks and tests); ``ports`` then holds the bound ports."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            try:
                asyncio.run(self.serve(ready))
            except BaseException as err:
                failure.append(err)
                ready.set()

        self._thread = threading.Thread(target=run, name="iqfeed-simulator", daemon=True)
        self._thread.start()
        if not ready.wait(60):
            raise RuntimeError("simulator did not start within 60 s")
        if failure:
            raise failure[0]
        return self

    def stop(self) -> None:
        """Close every port and end the background thread started by ``start()``."""
        self._call(self._request_stop)
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None

    @contextlib.contextmanager
    def running(self) -> Iterator[Simulator]:
        """``start()`` for the duration of a with-block, then ``stop()``."""
        self.start()
        try:
            yield self
        finally:
            self.stop()

    async def serve(self, ready: threading.Event | None = None) -> None:
        """Listen on the three ports and stream until cancelled or stopped."""
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        cfg = self.config
        for name, port, handler in (
            ("level1", cfg.level1_port, self._serve_level1),
            ("lookup", cfg.lookup_port, self._serve_lookup),
            ("admin", cfg.admin_port, self._serve_admin),
        ):
            try:
                server = await asyncio.start_server(self._tracked(handler), cfg.host, port, limit=1 << 20)
            except OSError as err:
                for bound in self._servers:
                    bound.close()
                raise PortUnavailable(
                    f"cannot listen on {cfg.host}:{port} for the {name} port: {os.strerror(err.errno or 0)}. "
                    "Is IQConnect or another simulator running? Choose other ports (OSS20_*_PORT or "
                    "the --*-port flags; 0 picks a free one)."
                ) from err
            self._servers.append(server)
            self.ports[name] = server.sockets[0].getsockname()[1]
        log.info(
            "simulator listening host=%s ports=%s day=%s speed=%s", cfg.host, self.ports, self.day, cfg.speed
        )
        if ready is not None:
            ready.set()
        tasks = [asyncio.create_task(self._tape()), asyncio.create_task(self._scheduled_faults())]
        try:
            await self._stopping.wait()
        finally:
            for task in tasks:
                task.cancel()
            for server in self._servers:
                server.close()
            self._drop_level1()
            for writer in self._connections.values():
                writer.close()
            if self._connections:
                await asyncio.wait(set(self._connections), timeout=2)
            for server in self._servers:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(server.wait_closed(), 2)

    def _tracked(self, handler: Handler) -> Handler:
        """``handler`` with its connection registered, so that stopping can close it and wait for it."""

        async def run(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            self._connections[task] = writer
            try:
                await handler(reader, writer)
            except asyncio.CancelledError:
                return  # the loop is shutting down mid-request; asyncio 3.11 logs a cancelled handler
            finally:
                self._connections.pop(task, None)

        return run

    def _request_stop(self) -> None:
        if self._stopping is not None:
            self._stopping.set()

    def _call(self, fn: Callable[[], object]) -> None:
        if self._loop is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(fn)

    # -- Level 1 --------------------------------------------------------------------------

    async def _serve_level1(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Level1Session(writer)
        self._level1.add(session)
        self._register_client(session, "level1")
        try:
            while line := await reader.readline():
                await self._level1_command(session, line)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._level1.discard(session)
            self._clients.pop(id(session), None)
            writer.close()

    async def _level1_command(self, session: Level1Session, line: bytes) -> None:
        try:
            cmd = protocol.parse_command(line)
        except protocol.ProtocolError as err:
            self._send(session, protocol.format_error(f"Unknown command: {err}"))
            return
        verb, args = cmd.verb, cmd.args
        if verb in ("w", "t"):
            await self._watch(session, args[0], trades_only=verb == "t")
        elif verb == "r":
            session.watches.pop(args[0], None)
        elif verb == "f":
            if args[0] in session.watches:
                self._send_summary(session, args[0])
        elif verb == "S,SET PROTOCOL":
            session.version = args[0]
            self._send(session, protocol.format_system("CURRENT PROTOCOL", args[0]))
        elif verb == "S,SET CLIENT NAME":
            session.name = args[0]
        elif verb == "S,CONNECT":
            self._send(session, self._server_message())
        elif verb == "S,SELECT UPDATE FIELDS":
            self._select_fields(session, args)
        elif verb == "S,REQUEST CURRENT UPDATE FIELDNAMES":
            self._send(session, protocol.format_system("CURRENT UPDATE FIELDNAMES", *session.fields))
        elif verb == "S,REQUEST ALL UPDATE FIELDNAMES":
            self._send(session, protocol.format_system("UPDATE FIELDNAMES", *protocol.ALL_UPDATE_FIELDS))
        elif verb == "S,REQUEST FUNDAMENTAL FIELDNAMES":
            self._send(
                session, protocol.format_system("FUNDAMENTAL FIELDNAMES", *protocol.FUNDAMENTAL_FIELDS)
            )
        elif verb == "S,REQUEST WATCHES":
            self._send(session, protocol.format_system("WATCHES", *session.watches))
        elif verb == "S,UNWATCH ALL":
            session.watches.clear()
        elif verb == "S,TIMESTAMPSON":
            session.timestamps = True
        elif verb == "S,TIMESTAMPSOFF":
            session.timestamps = False
        elif verb == "T":
            self._send(session, protocol.format_timestamp(self.clock.now))
        elif verb == "S,REQUEST STATS":
            self._send(session, protocol.format_stats(self._stats()))

    async def _watch(self, session: Level1Session, symbol: str, trades_only: bool) -> None:
        """F, then P, then the symbol's updates from the moment the command arrived.

        The symbol's day is built off the loop, so the tape never waits for it.
        """
        since = self.clock.now_ns
        if not self.knows(symbol):
            self._send(session, protocol.format_unknown_symbol(symbol))
            return
        if symbol not in self._days:
            self._building += 1
            try:
                await asyncio.get_running_loop().run_in_executor(None, self.symbol_day, symbol)
            finally:
                self._building -= 1
        watched = {s for other in self._level1 for s in other.watches}
        if symbol not in watched and len(watched) >= self.config.max_symbols:
            self._send(session, protocol.format_system("SYMBOL LIMIT REACHED", symbol))
            return
        fundamentals = {"Symbol": symbol, **self.market.fundamentals(symbol)}
        self._send(session, protocol.format_fundamental(fundamentals, protocol.FUNDAMENTAL_FIELDS))
        session.watches[symbol] = Watch(trades_only, since)
        self._send_summary(session, symbol)

    def _send_summary(self, session: Level1Session, symbol: str) -> None:
        watch = session.watches[symbol]
        state = self.symbol_day(symbol).state_at(watch.sent_ns)
        self._send(session, protocol.format_level1("P", state, session.fields))

    def _select_fields(self, session: Level1Session, names: tuple[str, ...]) -> None:
        unknown = [n for n in names if n not in protocol.ALL_UPDATE_FIELDS]
        if unknown:
            self._send(session, protocol.format_error(f"Invalid field names: {','.join(unknown)}"))
            return
        session.fields = ("Symbol", *(n for n in names if n != "Symbol"))
        self._send(session, protocol.format_system("CURRENT UPDATE FIELDNAMES", *session.fields))

    def _send(self, session: Level1Session, data: bytes) -> None:
        if not session.writer.is_closing():
            session.writer.write(data)
            session.bytes_sent += len(data)

    async def _tape(self) -> None:
        """Stream every watched symbol's updates as the clock advances; one T line per wall second.

        A firehose holds its clock while nobody watches and while a new watch's day is being built,
        so that it streams as fast as clients read rather than running ahead of them.
        """
        last_stamp = 0.0
        while True:
            if self._server_down and time.monotonic() >= self._server_down_until:
                self._restore_server()
            watching = any(session.watches for session in self._level1)
            holding = self.config.speed <= 0 and (self._building > 0 or not watching)
            now_ns = self.clock.now_ns if holding else self.clock.advance()
            stalled = time.monotonic() < self._stalled_until
            send_stamp = time.monotonic() - last_stamp >= 1.0
            for session in list(self._level1):
                if stalled:
                    continue
                for symbol, watch in session.watches.items():
                    self._send(session, self._updates(session, symbol, watch, now_ns))
                if send_stamp and session.timestamps and not self._server_down:
                    self._send(session, protocol.format_timestamp(self.clock.now))
            if send_stamp and not stalled:
                last_stamp = time.monotonic()
            await self._drain_all()
            await asyncio.sleep(0.02 if self.config.speed > 0 or self.clock.finished else 0)

    def _updates(self, session: Level1Session, symbol: str, watch: Watch, now_ns: int) -> bytes:
        day = self.symbol_day(symbol)
        stamps = day.trade_stamps if watch.trades_only else day.stamps
        lo = int(np.searchsorted(stamps, watch.sent_ns, side="right"))
        hi = int(np.searchsorted(stamps, now_ns, side="right"))
        sent_ns, watch.sent_ns = watch.sent_ns, now_ns
        if hi <= lo:
            return b""
        if self._server_down or self._silenced_watch(symbol, watch):
            lost = np.searchsorted(day.trade_stamps, [sent_ns, now_ns], side="right")
            self.trades_lost += int(lost[1] - lost[0])
            return b""
        self.updates_sent += hi - lo
        self._last_update = time.monotonic()
        data = day.lines(session.fields, watch.trades_only).slice(lo, hi)
        if self.faults.rewrites_lines:
            price = (
                session.fields.index("Most Recent Trade") + 1
                if "Most Recent Trade" in session.fields
                else None
            )
            data = inject(data, self.faults, self._rng, price)
        return data

    def _silenced_watch(self, symbol: str, watch: Watch) -> bool:
        silence = self._silenced.get(symbol)
        return silence is not None and watch.started < silence[0] and time.monotonic() < silence[1]

    def _server_message(self) -> bytes:
        """``S,SERVER CONNECTED`` or ``S,SERVER DISCONNECTED``, as IQConnect's link to DTN stands."""
        return protocol.format_system("SERVER DISCONNECTED" if self._server_down else "SERVER CONNECTED")

    def _lose_server(self, seconds: float) -> None:
        self._server_down_until = max(self._server_down_until, time.monotonic() + seconds)
        if not self._server_down:
            self._server_down = True
            self.server_disconnects += 1
            self._tell_server_state()

    def _restore_server(self) -> None:
        self._server_down = False
        self.server_reconnects += 1
        self._tell_server_state()

    def _tell_server_state(self) -> None:
        """Send the server state message to every Level 1 and admin connection."""
        message = self._server_message()
        for session in list(self._level1):
            self._send(session, message)
        for writer in list(self._admins):
            if not writer.is_closing():
                writer.write(message)

    async def _drain_all(self) -> None:
        for session in list(self._level1):
            try:
                await session.writer.drain()
            except ConnectionError:
                self._level1.discard(session)

    def _drop_level1(self) -> None:
        if self._level1:
            self.drops += 1
        for session in list(self._level1):
            session.writer.close()
        self._level1.clear()

    async def _scheduled_faults(self) -> None:
        """Drop connections, stall the stream, lose the server and silence a symbol on the plan's
        schedule (wall seconds)."""
        next_drop = next_stall = next_disconnect = next_silence = time.monotonic()
        while True:
            await asyncio.sleep(0.05)
            now, plan = time.monotonic(), self.faults
            if plan.drop_every and now - next_drop >= plan.drop_every:
                next_drop = now
                log.info("fault=drop connections=%d", len(self._level1))
                self._drop_level1()
            if plan.stall_every and now - next_stall >= plan.stall_every:
                next_stall = now
                log.info("fault=stall seconds=%s", plan.stall_seconds)
                self.stall(plan.stall_seconds)
            if plan.disconnect_every and now - next_disconnect >= plan.disconnect_every:
                next_disconnect = now
                log.info("fault=server_disconnect seconds=%s", plan.disconnect_seconds)
                self._lose_server(plan.disconnect_seconds)
            if plan.silence_every and now - next_silence >= plan.silence_every:
                watched = sorted({s for session in self._level1 for s in session.watches})
                if watched:
                    next_silence = now
                    symbol = watched[int(self._rng.integers(len(watched)))]
                    log.info("fault=silence symbol=%s seconds=%s", symbol, plan.silence_seconds)
                    self.silence(symbol, plan.silence_seconds)

    # -- lookup / history -----------------------------------------------------------------

    async def _serve_lookup(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        version = "6.0"
        info = {"kind": "lookup", "name": "", "connected": time.time()}
        self._clients[id(writer)] = info
        loop = asyncio.get_running_loop()
        try:
            while line := await reader.readline():
                try:
                    cmd = protocol.parse_command(line)
                except protocol.ProtocolError:
                    writer.write(protocol.format_error(protocol.SYNTAX_ERROR))
                    continue
                if cmd.verb == "S,SET PROTOCOL":
                    version = cmd.args[0]
                    writer.write(protocol.format_system("CURRENT PROTOCOL", version))
                elif cmd.verb == "S,SET CLIENT NAME":
                    info["name"] = cmd.args[0]
                elif cmd.verb in reference.TABLES:
                    writer.write(reference.format_table(cmd.verb))
                else:
                    if self.faults.history_delay:
                        await asyncio.sleep(self.faults.history_delay)
                    reply = await loop.run_in_executor(None, self._history_reply, cmd, version)
                    writer.write(reply)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            self._clients.pop(id(writer), None)
            writer.close()

    def _history_reply(self, cmd: protocol.Command, version: str) -> bytes:
        self.history_requests += 1
        try:
            request = protocol.parse_history_request(cmd)
        except protocol.ProtocolError:
            rid = cmd.args[protocol.request_id_position(cmd.verb)] if protocol.has_request_id(cmd) else ""
            return protocol.format_history_error(rid, protocol.SYNTAX_ERROR)
        if not self._bucket.take():
            self.history_throttled += 1
            return protocol.format_history_error(request.request_id, protocol.THROTTLED)
        if not self.knows(request.symbol):
            return protocol.format_history_error(request.request_id, protocol.INVALID_SYMBOL)
        return self.desk.reply(request, self.clock.now, version)

    # -- admin ----------------------------------------------------------------------------

    async def _serve_admin(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        info: dict[str, object] = {
            "kind": "admin",
            "name": "",
            "connected": time.time(),
            "clientstats": False,
        }
        self._clients[id(writer)] = info
        self._admins.add(writer)
        stats = asyncio.create_task(self._admin_stats(writer, info))
        try:
            while line := await reader.readline():
                with contextlib.suppress(protocol.ProtocolError):
                    cmd = protocol.parse_command(line)
                    if cmd.verb == "S,SET PROTOCOL":
                        writer.write(protocol.format_system("CURRENT PROTOCOL", cmd.args[0]))
                    elif cmd.verb == "S,CONNECT":
                        writer.write(self._server_message())
                    elif cmd.verb in ADMIN_REPLIES:
                        writer.write(protocol.format_system(*ADMIN_REPLIES[cmd.verb](cmd.args)))
                    elif cmd.verb == "S,SET CLIENT NAME":
                        info["name"] = cmd.args[0]
                    elif cmd.verb in ("S,CLIENTSTATS ON", "S,CLIENTSTATS OFF"):
                        info["clientstats"] = cmd.verb.endswith("ON")
        except ConnectionError:
            pass
        finally:
            stats.cancel()
            self._admins.discard(writer)
            self._clients.pop(id(writer), None)
            writer.close()

    async def _admin_stats(self, writer: asyncio.StreamWriter, info: dict[str, object]) -> None:
        with contextlib.suppress(ConnectionError):
            while not writer.is_closing():
                writer.write(protocol.format_stats(self._stats()))
                if info["clientstats"]:
                    for number, session in enumerate(self._level1):
                        writer.write(
                            protocol.format_system(
                                "CLIENTSTATS",
                                "0",
                                str(number),
                                session.name,
                                str(len(session.watches)),
                                str(session.bytes_sent // 1024),
                            )
                        )
                await writer.drain()
                await asyncio.sleep(1.0)

    def _register_client(self, session: Level1Session, kind: str) -> None:
        self._clients[id(session)] = {"kind": kind, "connected": session.connected_at}

    def _stats(self) -> dict[str, object]:
        watched = {s for session in self._level1 for s in session.watches}
        sent = sum(session.bytes_sent for session in self._level1)
        now = self.clock.now
        return {
            "server_ip": self.config.host,
            "server_port": self.ports.get("level1", self.config.level1_port),
            "max_symbols": self.config.max_symbols,
            "symbols_watched": len(watched),
            "clients": len(self._clients),
            "seconds_since_update": int(time.monotonic() - self._last_update),
            "reconnects": self.drops + self.server_reconnects,
            "failed_reconnects": 0,
            "connection_time": now,
            "market_time": now,
            "status": not self._server_down,
            "feed_version": FEED_VERSION,
            "login_id": "SIMULATOR",
            "kb_received": 0.0,
            "kbs_received": 0.0,
            "avg_kbs_received": 0.0,
            "kb_sent": sent / 1024,
            "kbs_sent": 0.0,
            "avg_kbs_sent": 0.0,
        }
