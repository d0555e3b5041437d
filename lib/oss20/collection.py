"""The live collector: IQFeed Level 1 -> tier 1 -> journal -> bus and cache -> ArcticDB -> checkpoint.

Every tick is stored exactly once. A validated batch is written to the journal before anything else
sees it: a killed process loses nothing, and a background group commit fsyncs it within
milliseconds (what a power cut could take in between comes back from tick history). About once a
second the buffered ticks are merged into ArcticDB on their identity and the
journal is checkpointed. On start the journal's unchecked entries are replayed, and whenever the
feed (re)delivers a symbol's summary the collector asks tick history for the stretch between the
last tick it holds and the feed's latest trade, so a kill or a dropped feed loses nothing. Each such
window is kept in a fill ledger until its ticks are journaled: a collector killed while a fill is under
way asks for it again at its next start, and a failed fill is retried with backoff.
A watchdog (``oss20.watchdog``) reads IQConnect's admin port and server messages: when the feed has been
Not Connected, or reconnected to DTN, it re-watches every symbol once the feed is back and fills each
from its last live trade before the spell; a symbol silent far longer than its usual gap while the
stream lives is re-watched alone, and the summary that answers brings its silence back from history.
Redis and the catalog are told what happens but never hold collection up.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import logging
import sys
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from prometheus_client import Counter

from oss20 import calendar
from oss20.bar_engine.builders import bar_records
from oss20.bar_engine.live import LiveBars
from oss20.bar_engine.spec import BarSpec
from oss20.bus import BarEvent, Bus, CollectionEvent, SystemEvent, TickEvent, open_bus
from oss20.config import Settings
from oss20.iqfeed import protocol
from oss20.iqfeed.client import AdminStream, Endpoint, HistoryClient, IQFeedError, Level1Stream
from oss20.iqfeed.protocol import Level1Batch
from oss20.metrics import CollectorMetrics
from oss20.schema import NAT, TZ, TZINFO, last_rows
from oss20.storage.arctic import TickStore
from oss20.storage.bar_store import BarStore
from oss20.storage.cache import Cache, open_cache
from oss20.storage.catalog import Catalog, CatalogUnavailable, open_catalog
from oss20.storage.fill_ledger import FillLedger
from oss20.storage.journal import Journal
from oss20.storage.writer import Flush, StoreWriter
from oss20.symbols import validate_symbol
from oss20.tick_arrays import TickArrays
from oss20.validation.tier1 import Tier1State, check_ticks
from oss20.watchdog import Change, FeedHealth, GapWatch

log = logging.getLogger(__name__)

CATALOG_EVERY = 5.0
"""Seconds between task heartbeats in the catalog."""
FILL_RETRY_FIRST, FILL_RETRY_MAX = 1.0, 30.0
"""Seconds before the first and the longest retry of a history fill that failed."""
SYMBOL_CHECK_EVERY = 0.25
"""Seconds between two looks for symbols silent past their usual gap."""
MARK_FRESH = 2.5
"""Seconds a healthy admin stats' mark of each symbol's last live trade stays the start of a spell's fill
(stats come once a second; an older mark means the admin port is away and the present is used)."""
SWITCH_INTERVAL = 0.0005
"""GIL switch interval while collecting: the flush thread's pandas work must not hold the event loop
for Python's default 5 ms (the p99 budget from socket read to publish)."""
LATEST_EVERY = 0.05
"""Seconds between writes of each symbol's latest update to the cache (dashboards redraw ~10/s)."""


@dataclass
class CollectorOptions:
    """How the collector runs; the defaults suit one machine."""

    flush_every: float = 1.0
    stall_after: float = 10.0
    metrics_port: int | None = None
    asset_class: str = "equity"
    quotes: bool = True  # watch quotes too (latest bid/ask for dashboards), not only trades
    bar_specs: tuple[str, ...] = ("1min",)  # bars built live, published and appended to storage
    fill_grace: float = 10.0  # seconds a stop waits for history fills under way
    symbol_stall_floor: float = 5.0  # seconds of silence below which no symbol counts as stalled


@dataclass
class Counts:
    """What the collector has done since it started."""

    received: int = 0
    stored: int = 0
    quarantined: int = 0
    malformed: int = 0
    replayed: int = 0
    history: int = 0
    flushes: int = 0
    feed_sick: int = 0  # sick spells of IQConnect's link to DTN (Not Connected, or a reconnect)
    feed_recovered: int = 0  # spells over: every symbol re-watched and filled from its last live trade
    symbol_stalls: int = 0  # symbols re-watched after a silence far past their usual gap

    def as_dict(self) -> dict[str, int]:
        return dict(self.__dict__)


@dataclass
class _Pending:
    """What the next flush stores: journal entries up to ``seq`` (``ticks`` of them since the last
    flush), rejects not yet quarantined, malformed lines and live bars."""

    ticks: int = 0
    rejected: list[pd.DataFrame] = field(default_factory=list)
    malformed: list[dict[str, object]] = field(default_factory=list)
    bars: list[tuple[str, dt.date, BarSpec, dict[str, np.ndarray]]] = field(default_factory=list)
    seq: int = 0

    def followed_by(self, later: _Pending) -> _Pending:
        """This unstored batch with what arrived after it, to be stored together."""
        return _Pending(
            self.ticks + later.ticks,
            self.rejected + later.rejected,
            self.malformed + later.malformed,
            self.bars + later.bars,
            max(self.seq, later.seq),
        )


class TaskReporter:
    """Keeps the collection task's row in the catalog current from a thread of its own.

    Reports never wait for the database: while it is unreachable they fail quietly in the
    background (logged once per outage) and the next one after it returns catches up.
    """

    def __init__(self, url: str, symbols: Sequence[str], params: dict[str, object]) -> None:
        self.url, self.symbols, self.params = url, list(symbols), params
        self.task_id = uuid.uuid4().hex
        self._created = False
        self.up = True
        self._catalog: Catalog | None = None
        self._down_since: float | None = None
        self._last = -CATALOG_EVERY
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="oss20-catalog")
        self._inflight: Future[None] | None = None

    def report(self, status: str, counts: Counts, error: str | None = None, force: bool = False) -> None:
        """Queue a write of status and counters: one at a time, every CATALOG_EVERY s unless forced."""
        now = time.monotonic()
        busy = self._inflight is not None and not self._inflight.done()
        if not force and (busy or now - self._last < CATALOG_EVERY):
            return
        self._last = now
        self._inflight = self._worker.submit(self._write, status, counts.as_dict(), error)

    def _write(self, status: str, counters: dict[str, int], error: str | None) -> None:
        try:
            if self._catalog is None:
                self._catalog = open_catalog(self.url)
            if not self._created:
                self._catalog.create_task(
                    "collect", self.symbols, self.params, task_id=self.task_id, status=status
                )
                self._created = True
            self._catalog.update_task(self.task_id, status=status, counters=counters, error=error)
        except CatalogUnavailable as err:
            if self._down_since is None:
                log.warning("catalog unreachable, collection goes on error=%s", err)
                self._down_since = time.monotonic()
            self.up = False
            return
        if self._down_since is not None:
            log.info("catalog reachable again after_s=%.1f", time.monotonic() - self._down_since)
            self._down_since = None
        self.up = True

    def close(self, timeout: float = 15.0) -> None:
        """Wait (a bounded time) for the last report, then let the thread go."""
        if self._inflight is not None:
            with contextlib.suppress(FutureTimeout):
                self._inflight.result(timeout)
        self._worker.shutdown(wait=False, cancel_futures=True)
        if self._catalog is not None:
            self._catalog.close()


class Collector:
    """Collects Level 1 trades of a watchlist into ArcticDB, exactly once, until stopped."""

    def __init__(
        self,
        symbols: Sequence[str],
        settings: Settings | None = None,
        options: CollectorOptions | None = None,
        endpoint: Endpoint | None = None,
        bus: Bus | None = None,
        cache: Cache | None = None,
    ) -> None:
        self.symbols = [validate_symbol(s) for s in symbols]
        if not self.symbols:
            raise ValueError("the collector needs at least one symbol to watch")
        self.settings = settings or Settings.from_env()
        self.options = options or CollectorOptions()
        self.endpoint = endpoint or Endpoint.from_settings(self.settings)
        self.journal = Journal(Path(self.settings.data_dir) / "journal", group_commit=True)
        self.ledger = FillLedger(self.journal.directory)
        self.writer = StoreWriter(self.settings.resolved_arctic_uri, self.options.asset_class)
        self.store = TickStore(self.settings.resolved_arctic_uri, self.options.asset_class)  # reads only:
        self.bar_store = BarStore(self.settings.resolved_arctic_uri)  # the writer process writes
        self.bars = LiveBars(self.options.bar_specs)
        self.bus = bus or open_bus(self.settings.redis_url)
        self.cache = cache or open_cache(self.settings.redis_url)
        self.metrics = CollectorMetrics()
        self.counts = Counts()
        self.reporter = TaskReporter(
            self.settings.resolved_catalog_url,
            self.symbols,
            {"host": self.endpoint.host, "level1_port": self.endpoint.level1_port},
        )
        self.stream = Level1Stream(self.endpoint, stall_after=self.options.stall_after)
        self.history = HistoryClient(self.endpoint)
        self.admin = AdminStream(self.endpoint)
        self.health = FeedHealth()
        self.gaps = GapWatch(floor=self.options.symbol_stall_floor)
        self.metrics_port: int | None = None
        self._tier1 = Tier1State()
        self._pending = _Pending()
        self._held: dict[tuple[str, dt.date], int] = {}  # latest tick held per symbol-day, epoch ns
        self._live_ns: dict[str, int] = {}  # latest trade read off the live stream per symbol, epoch ns
        self._fills: set[asyncio.Task[None]] = set()
        self._dirty: dict[str, pd.Timestamp | None] = {}
        self._updates: list[dict[str, np.ndarray]] = []  # update columns since the last cache write
        self._reported: dict[str, int] = {}  # latest time the feed's updates carry (trade or quote), epoch ns
        self._reported_volume: dict[tuple[str, dt.date], int] = {}  # day volume the feed's updates report
        self._held_volume: dict[tuple[str, dt.date], int] = {}  # day volume after the latest trade held
        self._asked_volume: dict[str, int] = {}  # reported volume a refill was last asked for
        self._latest_at = 0.0
        self._publish_failures = 0
        self._counted: dict[Counter, int] = {}  # what each cumulative count had reached at the last report
        self._outages = 0  # Level 1 stream outages the watchdog has taken into account
        self._mark: tuple[float, dict[str, int]] = (0.0, {})  # last live trade per symbol at healthy stats
        self._spell_since: dict[str, int] = {}  # last live trade per symbol before the sick spell
        self._fill_from: dict[str, int] = {}  # where the next summary's fill starts, past a spell
        self._stop = asyncio.Event()
        self._closing = False  # the history connection is closing: fills wait in the ledger

    def stop(self) -> None:
        """Ask ``run`` to finish: it flushes, checkpoints and closes before returning."""
        self._stop.set()

    async def run(self, duration: float | None = None) -> Counts:
        """Collect until ``stop()`` or ``duration`` seconds; return the counts."""
        if self.options.metrics_port is not None:
            self.metrics_port = self.metrics.serve(self.options.metrics_port)
        self.writer.start()
        await self._replay()
        for symbol, begin, end in self.ledger.outstanding():
            log.info("history fill resumed symbol=%s begin=%s end=%s", symbol, begin, end)
            self._start_fill(symbol, begin, end)
        gc.freeze()  # what start-up built lives as long as we do: full collections need not walk it
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(SWITCH_INTERVAL)
        self._announce("running", force=True)
        flusher = asyncio.create_task(self._flush_loop())
        consumer = asyncio.create_task(self._consume())
        stopped = asyncio.create_task(self._stop.wait())
        watchdogs = [asyncio.create_task(self._watch_symbols()), asyncio.create_task(self._watch_admin())]
        try:
            await asyncio.wait({consumer, stopped}, timeout=duration, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self._stop.set()
            await self.stream.close()  # ends ``batches`` even if a cancel is lost (wait_for in 3.11)
            await self.admin.close()
            consumer.cancel()
            for task in watchdogs:
                task.cancel()
            await asyncio.gather(consumer, stopped, *watchdogs, return_exceptions=True)
            await flusher
            await self._finish()
            sys.setswitchinterval(switch_interval)
        if not consumer.cancelled() and (failure := consumer.exception()) is not None:
            raise failure
        return self.counts

    async def _replay(self) -> None:
        """Store what the journal holds beyond its checkpoint (a previous run's unflushed ticks)."""
        records = self.journal.records(self.journal.last_seq)
        if not records:
            return
        self.counts.replayed, stored = await asyncio.wrap_future(self.writer.submit(Flush(records)))
        self.counts.stored += stored
        self.metrics.stored.inc(stored)
        self.journal.checkpoint(records[-1].seq)
        log.info("journal replayed entries=%d ticks=%d new=%d", len(records), self.counts.replayed, stored)

    async def _consume(self) -> None:
        try:
            await self.stream.connect()
        except (OSError, TimeoutError, IQFeedError) as err:
            log.warning(
                "iqfeed unreachable, retrying host=%s port=%d error=%s",
                self.endpoint.host,
                self.endpoint.level1_port,
                err,
            )
        await self.stream.watch(*self.symbols, trades_only=not self.options.quotes)
        async for batch in self.stream.batches():
            if self._stop.is_set():
                return
            self._ingest(batch)

    def _ingest(self, batch: Level1Batch) -> None:
        received_ns = batch.received_ns or time.time_ns()
        for message in batch.messages:
            if len(message) > 1 and message[1] in protocol.SERVER_STATES:
                self._judge(protocol.FeedState(protocol.SERVER_STATES[message[1]]), "level1")
        if batch.malformed:
            now = pd.Timestamp.now(tz=TZ)
            rows = [
                {"received": now, "line": m.line.decode("latin-1"), "reason": m.reason}
                for m in batch.malformed
            ]
            self._pending.malformed.extend(rows)
            self.counts.malformed += len(rows)
            self.metrics.malformed.inc(len(rows))
            for line in batch.malformed:
                self._mark_dirty(line.line)
        if batch.n_summaries:
            self._fill_from_summaries(batch.summaries)
        trades = batch.trade_arrays
        if len(trades):
            self.metrics.received.labels(source="live").inc(len(trades))
            self.counts.received += len(trades)
            rejected = self._accept(trades, self._tier1, received_ns=received_ns, live=True)
            self.metrics.batch_latency.observe((time.time_ns() - received_ns) / 1e9)
            self._refetch(rejected)
        if batch.n_updates:
            self.gaps.seen(pd.unique(batch.update_columns["symbol"]).tolist(), time.monotonic())
            self._updates.append(batch.update_columns)
            if time.monotonic() - self._latest_at >= LATEST_EVERY:
                self._cache_latest()

    def _cache_latest(self) -> None:
        """Write each symbol's last update since the previous write as the cache's latest."""
        self._latest_at = time.monotonic()
        if not self._updates:
            return
        starts = np.cumsum([0] + [len(columns["symbol"]) for columns in self._updates])
        symbols = np.concatenate([columns["symbol"] for columns in self._updates])
        for symbol, at in last_rows(symbols).items():
            part = int(np.searchsorted(starts, at, side="right")) - 1
            columns, row = self._updates[part], at - int(starts[part])
            latest = {name: values[row : row + 1].tolist()[0] for name, values in columns.items()}
            if latest["timestamp"] != NAT:
                self._reported[symbol] = max(latest["timestamp"], self._reported.get(symbol, NAT))
                day = (symbol, _stamp(latest["timestamp"]).date())
                volume = int(latest.get("total_volume", 0))
                self._reported_volume[day] = max(volume, self._reported_volume.get(day, 0))
            latest["timestamp"] = None if latest["timestamp"] == NAT else _stamp(latest["timestamp"])
            self.cache.set_latest(symbol, latest)
        self._updates.clear()

    def _accept(
        self, ticks: pd.DataFrame | TickArrays, state: Tier1State, received_ns: int = 0, live: bool = False
    ) -> pd.DataFrame:
        """Tier 1, journal (durable), publish, buffer for the next flush, live bars; return the rejects.

        ``received_ns`` (when the ticks were read, epoch ns) travels with their tick events.
        """
        result = check_ticks(ticks, state)
        if len(result.rejected):
            self._pending.rejected.append(result.rejected)
            self.counts.quarantined += len(result.rejected)
            self.metrics.count_reasons(result.reasons)
        if result.warnings:
            self.metrics.count_warnings(result.warnings)
        clean = result.clean
        if len(clean) == 0:
            return result.rejected
        self._pending.seq = self.journal.append(clean)
        self._pending.ticks += len(clean)
        groups = clean.by_symbol_day()
        grouped = clean.columns  # one symbol-day (the usual case): no copy
        if len(groups) > 1:
            order = np.concatenate([rows for _, _, rows in groups])
            grouped = {name: values[order] for name, values in grouped.items()}
        bounds = np.cumsum([0] + [len(rows) for _, _, rows in groups]).tolist()
        for (symbol, day, _), start, end in zip(groups, bounds, bounds[1:], strict=False):
            ticks_of = {name: values[start:end] for name, values in grouped.items()}
            self.bus.publish(TickEvent(symbol, ticks_of, received_ns=received_ns))
            last = int(ticks_of["timestamp"].max())
            if last > self._held.get((symbol, day), NAT):
                self._held[(symbol, day)] = last
            volume = int(ticks_of["total_volume"].max())
            if volume > self._held_volume.get((symbol, day), 0):
                self._held_volume[(symbol, day)] = volume
            if live and last > self._live_ns.get(symbol, NAT):
                self._live_ns[symbol] = last
        if live:  # after every tick event: bars completing never hold up the batch's ticks
            stamps, prices, sizes = grouped["timestamp"], grouped["price"], grouped["size"]
            qualified = (grouped["basis"] == "C") | (grouped["basis"] == "E")
            for (symbol, day, _), start, end in zip(groups, bounds, bounds[1:], strict=False):
                part = slice(start, end)
                self._live_bars(symbol, day, stamps[part], prices[part], sizes[part], qualified[part])
        return result.rejected

    def _live_bars(
        self,
        symbol: str,
        day: dt.date,
        times: np.ndarray,
        prices: np.ndarray,
        sizes: np.ndarray,
        qualified: np.ndarray,
    ) -> None:
        """Publish the bars these ticks completed, push them to the cache and queue them for storage."""
        for spec, bars in self.bars.feed(symbol, times, prices, sizes, qualified):
            self._pending.bars.append((symbol, day, spec, bars))
            for fields in bar_records(bars):
                self.bus.publish(BarEvent(symbol, spec.name, fields))
                self.cache.push_bar(symbol, spec.name, fields)

    def _refetch(self, rejected: pd.DataFrame) -> None:
        """Ask history for the true version of ticks the feed garbled (not for mere repeats)."""
        if rejected.empty:
            return
        garbled = rejected.loc[rejected["reason"].ne("duplicate") & rejected["timestamp"].notna()]
        for symbol, times in garbled.groupby("symbol", sort=False)["timestamp"]:
            self._spawn_fill(str(symbol), times.min(), times.max())

    def _mark_dirty(self, line: bytes) -> None:
        """A garbled line may have been a trade: refetch its symbol (or every symbol) once a tick follows."""
        parts = line.split(b",", 2)
        named = parts[1].decode("latin-1") if len(parts) > 1 and parts[0] in (b"Q", b"P") else ""
        for symbol in [named] if named in self.symbols else self.symbols:
            # the stream's own position: history fills may already hold later ticks than the garbled one
            since = _stamp(self._live_ns[symbol]) if symbol in self._live_ns else self._held_now(symbol)
            earlier = self._dirty.get(symbol, since)
            self._dirty[symbol] = None if since is None or earlier is None else min(earlier, since)

    def _held_now(self, symbol: str) -> pd.Timestamp | None:
        held = [t for (s, _), t in self._held.items() if s == symbol]
        return _stamp(max(held)) if held else None

    def _refill_dirty(self) -> None:
        """Fill each dirty symbol from before its garbled line (or the session start) to its latest tick.

        A symbol whose updates report more day volume than its trades held add up to is dirty too:
        its last trade was garbled (or rejected) and no trade followed it, so nothing else would bring
        it back. (Quote times alone say nothing: quotes move after the last trade all day.) Each
        unexplained volume is asked for once.
        """
        for (symbol, day), volume in self._reported_volume.items():
            if volume <= max(self._held_volume.get((symbol, day), 0), self._asked_volume.get(symbol, 0)):
                continue
            held = self._held_now(symbol)
            if held is not None and symbol not in self._dirty:
                self._dirty[symbol] = held
                self._asked_volume[symbol] = volume
        for symbol, since in list(self._dirty.items()):
            held = self._held_now(symbol)
            if held is None:
                continue
            until = max(held, _stamp(self._reported.get(symbol, held.value)))
            begin = since if since is not None else calendar.session(until.date()).pre_open
            if until > begin:
                del self._dirty[symbol]
                self._spawn_fill(symbol, begin, until)

    def _fill_from_summaries(self, summaries: pd.DataFrame) -> None:
        """Ask history for each symbol's ticks between the last one held and the feed's latest trade."""
        known = summaries.loc[summaries["timestamp"].notna()]
        for symbol, latest in zip(known["symbol"].tolist(), known["timestamp"].tolist(), strict=True):
            day = latest.date()
            if not calendar.is_session(day):
                continue
            since = self._last_held(symbol, day)
            spell = self._fill_from.pop(symbol, None)
            if spell is not None and (since is None or spell < since.value):
                since = _stamp(spell)
            if since is not None and since >= latest:
                continue
            begin = since if since is not None else calendar.session(day).pre_open
            self._spawn_fill(symbol, begin, latest)

    def _spawn_fill(self, symbol: str, begin: pd.Timestamp, end: pd.Timestamp) -> None:
        """Fetch [begin, end] in the background, widened to whole seconds (HTT's resolution).

        The window goes to the fill ledger first, so it is asked again after a kill even when live
        ticks later than the window are journaled (and stored) before its ticks arrive.
        """
        first, last = begin.floor("s"), end.floor("s") + pd.Timedelta(seconds=1)
        self.ledger.add(symbol, first, last)
        if self._closing:
            log.info("history fill left to the next start symbol=%s begin=%s end=%s", symbol, first, last)
            return
        self._start_fill(symbol, first, last)

    def _start_fill(self, symbol: str, begin: pd.Timestamp, end: pd.Timestamp) -> None:
        task = asyncio.get_running_loop().create_task(self._fill(symbol, begin, end))
        self._fills.add(task)
        task.add_done_callback(self._fills.discard)

    def _last_held(self, symbol: str, day: dt.date) -> pd.Timestamp | None:
        if (symbol, day) not in self._held:
            stored = self.store.last_tick(symbol, day)
            if stored is None:
                return None
            self._held[(symbol, day)] = stored.value
        return _stamp(self._held[(symbol, day)])

    async def _watch_admin(self) -> None:
        """Judge the feed by each state IQConnect's admin port reports."""
        async for state in self.admin.states():
            self._judge(state, "admin")

    def _judge(self, state: protocol.FeedState, source: str) -> None:
        """Feed one state to the watchdog and act: a sick spell marks where each symbol's fill will start;
        its end re-watches every symbol so that their summaries bring the fills."""
        now = time.monotonic()
        self._note_outages(now)
        change = self.health.observe(state)
        if change is Change.NONE:
            if state.reconnects is not None and not self.health.sick:
                self._mark = (now, dict(self._live_ns))
            return
        if change in (Change.SICK, Change.BLIP):
            self._spell_since = self._spell_start(now)
            self.counts.feed_sick += 1
            log.warning(
                "feed sick source=%s change=%s reconnects=%s", source, change.value, self.health.reconnects
            )
        if change in (Change.RECOVERED, Change.BLIP):
            for symbol, ns in self._spell_since.items():
                self._fill_from[symbol] = min(ns, self._fill_from.get(symbol, ns))
            self._spell_since = {}
            self.gaps.restart(now)
            self.stream.rewatch(*self.stream.watches)
            self.counts.feed_recovered += 1
            log.info("feed recovered source=%s rewatched=%d", source, len(self.stream.watches))

    def _spell_start(self, now: float) -> dict[str, int]:
        """Each symbol's last live trade before a spell began (epoch ns): as the last healthy stats found
        it when they are fresh, else as now; the latest tick held for a symbol with no live trade yet."""
        marked, mark = self._mark
        live = mark if now - marked <= MARK_FRESH else self._live_ns
        start = {}
        for symbol in self.symbols:
            if symbol in live:
                start[symbol] = live[symbol]
            elif (held := self._held_now(symbol)) is not None:
                start[symbol] = held.value
        return start

    def _note_outages(self, now: float) -> None:
        """Tell the watchdog about Level 1 outages the stream handled itself (they explain a reconnect
        count rising, and no gap across them is a symbol's usual one)."""
        if len(self.stream.outages) != self._outages:
            self._outages = len(self.stream.outages)
            self.health.noted()
            self.gaps.restart(now)

    async def _watch_symbols(self) -> None:
        """Re-watch each symbol silent far past its usual gap while the stream and the feed are well."""
        while not self._stop.is_set():
            await asyncio.sleep(SYMBOL_CHECK_EVERY)
            now = time.monotonic()
            self._note_outages(now)
            self.gaps.expect(self.stream.watches, now)
            alive = now - self.stream.last_read <= self.gaps.floor
            if self.health.sick or not self.stream.server_up or not alive:
                continue
            silent = [s for s in self.gaps.silent(now) if s in self.stream.watches]
            if silent:
                self.counts.symbol_stalls += len(silent)
                log.warning("symbols stalled, rewatching symbols=%s", ",".join(silent))
                self.stream.rewatch(*silent)

    async def _fill(self, symbol: str, begin: pd.Timestamp, end: pd.Timestamp) -> None:
        """Ask history for the window until it answers (backing off), journal its ticks, clear it."""
        delay = FILL_RETRY_FIRST
        while True:
            self.metrics.history_fills.inc()
            try:
                ticks = await self.history.ticks(symbol, begin, end)
                break
            except (IQFeedError, OSError, TimeoutError, EOFError) as err:
                log.warning(
                    "history fill failed symbol=%s begin=%s end=%s error=%s retry_in=%.0fs",
                    symbol,
                    begin,
                    end,
                    err,
                    delay,
                )
            await asyncio.sleep(delay)
            delay = min(delay * 2, FILL_RETRY_MAX)
        log.info("history fill symbol=%s begin=%s end=%s ticks=%d", symbol, begin, end, len(ticks))
        if len(ticks):
            self.metrics.received.labels(source="history").inc(len(ticks))
            self.counts.history += len(ticks)
            self._accept(ticks, Tier1State(), received_ns=time.time_ns())
            await asyncio.to_thread(self.journal.wait_synced, self.journal.last_seq)
        self.ledger.done(symbol, begin, end)

    async def _flush_loop(self) -> None:
        """Start a flush every ``flush_every`` seconds (at once when the last one took longer); a flush
        under way always completes before stopping."""
        started = time.monotonic()
        while not self._stop.is_set():
            wait = self.options.flush_every - (time.monotonic() - started)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), max(wait, 0.0))
            started = time.monotonic()
            self._refill_dirty()
            self._cache_latest()
            await self._flush()

    async def _flush(self) -> None:
        """Have the writer process merge the journaled ticks into ArcticDB, then checkpoint the journal."""
        pending, self._pending = self._pending, _Pending(seq=self._pending.seq)
        flush = Flush(
            self.journal.records(pending.seq),
            pending.rejected,
            pending.malformed,
            pending.bars,
            self.bars.extended_hours,
        )
        started = time.perf_counter()
        try:
            _, stored = await asyncio.wrap_future(self.writer.submit(flush))
        except Exception as err:  # storage unreachable or failing: the journal holds it all, retry next flush
            log.error("store failed, retrying next flush ticks=%d error=%r", pending.ticks, err)
            self._pending = pending.followed_by(self._pending)
            return
        if pending.seq > self.journal.checkpointed:
            await asyncio.to_thread(self.journal.checkpoint, pending.seq)  # its fsyncs off the event loop
        self.metrics.flush_seconds.observe(time.perf_counter() - started)
        self.metrics.stored.inc(stored)
        self.metrics.journal_pending.set(self.journal.last_seq - self.journal.checkpointed)
        self.counts.stored += stored
        self.counts.flushes += 1
        self._count_side_effects()
        self._announce("running")

    def _announce(self, status: str, force: bool = False) -> None:
        """Tell the catalog (task row), the bus (collection and system events) and the cache how it goes."""
        counts = self.counts.as_dict()
        self.reporter.report(status, self.counts, force=force)
        self.metrics.catalog_up.set(1 if self.reporter.up else 0)
        self.bus.publish(CollectionEvent(self.reporter.task_id, status, counts))
        self.bus.publish(SystemEvent("collector", status, f"watching {len(self.symbols)} symbols", counts))
        self.cache.set_collection(
            self.reporter.task_id, {"status": status, "symbols": self.symbols, **counts}
        )

    def _count_side_effects(self) -> None:
        failures = (
            self.bus.stats.failed
            + self.bus.stats.dropped
            + self.cache.stats.failed
            + self.cache.stats.dropped
        )
        self.metrics.publish_failures.inc(max(0, failures - self._publish_failures))
        self._publish_failures = failures
        totals = {
            self.metrics.reconnects: self.stream.stats.reconnects,
            self.metrics.server_disconnects: self.stream.stats.server_disconnects,
            self.metrics.rewatches: self.stream.stats.rewatches,
            self.metrics.feed_sick: self.counts.feed_sick,
            self.metrics.feed_recovered: self.counts.feed_recovered,
            self.metrics.symbol_stalls: self.counts.symbol_stalls,
        }
        for counter, total in totals.items():
            counter.inc(max(0, total - self._counted.get(counter, 0)))
            self._counted[counter] = total

    async def _finish(self) -> None:
        """Give history fills a little time, store everything held, checkpoint, close, report."""
        self._refill_dirty()
        if self._fills:
            _, unfinished = await asyncio.wait(set(self._fills), timeout=self.options.fill_grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            if unfinished:
                log.warning(
                    "history fills cut short at stop count=%d (the next start asks again)", len(unfinished)
                )
        self._closing = True
        await self.stream.close()
        await self.history.close()
        self._cache_latest()
        await self._flush()
        try:
            await asyncio.wrap_future(self.writer.compact())
        except Exception as err:  # the writer is gone: what is unchecked waits in the journal
            log.error("compaction at stop failed error=%r", err)
        self.writer.close()
        self.journal.close()
        self._announce("stopped", force=True)
        self.reporter.close()
        self.bus.flush(2.0)
        self.cache.flush(2.0)
        log.info("collector stopped %s", " ".join(f"{k}={v}" for k, v in self.counts.as_dict().items()))


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, tz=TZINFO)
