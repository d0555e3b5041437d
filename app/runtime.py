"""What every dashboard served by one process shares: the bus, the cache and one live board.

Embedded (no ``OSS20_REDIS_URL``): the process runs the collector itself, in a thread of its own,
with the IQFeed simulator on the IQFeed ports (or, with ``OSS20_SIMULATE=false``, the IQConnect
there), and the dashboards read the collector's in-process bus and cache.
With Redis: a collector runs elsewhere and the dashboards subscribe to Redis. Either way one
background thread folds the bus into the ``LiveBoard`` as ticks arrive and tells every page that
watches it (``watch``), so any number of browser sessions read one board, pages are pushed changes as
they are folded instead of polling, and nothing waits on the server's event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence

import pandas as pd

from oss20.bus import Bus, CollectionEvent, open_bus
from oss20.collection import Collector, CollectorOptions
from oss20.config import Settings
from oss20.health import ServiceStatus, probe_services
from oss20.iqfeed.client import Endpoint
from oss20.iqfeed.simulator import Simulator, SimulatorConfig
from oss20.live_board import LiveBoard
from oss20.live_series import LiveSeries
from oss20.schema import TZINFO
from oss20.storage.cache import Cache, open_cache
from oss20.storage.catalog import Catalog, CatalogUnavailable, TaskRecord, open_catalog
from oss20.symbols import validate_symbol

log = logging.getLogger(__name__)

DEMO_WATCHLIST = ("AAPL", "MSFT", "NVDA", "AMZN", "TSLA", "SPY", "QQQ", "JPM", "XOM", "KO")
FEED_EVERY = 0.1
"""Longest wait for a tick before the feeder folds what else came (progress reports, quotes)."""
FOLD_GAP = 0.01
"""Shortest time between two folds: a tick waits at most this long for the board (the pages it is then
pushed to batch their updates to about ten a second)."""
QUOTES_EVERY = 0.5
STATUS_EVERY = 5.0
"""Seconds between two probes of the services, reads of the running tasks and of validation statuses."""
CHART_INTERVAL = "1min"


class Runtime:
    """The shared state of the served dashboards; ``Runtime.shared()`` gives the process's one."""

    def __init__(
        self, settings: Settings, symbols: Sequence[str], speed: float = 1.0, day: dt.date | None = None
    ) -> None:
        self.settings = settings
        self.symbols = [validate_symbol(s) for s in symbols]
        self.board = LiveBoard(self.symbols)
        self.series = LiveSeries(self.symbols, CHART_INTERVAL)
        self.simulator: Simulator | None = None
        self.collector: Collector | None = None
        self.services: dict[str, ServiceStatus] = {}
        self.tasks: list[TaskRecord] = []  # running and recent collection tasks, newest first
        self._catalog: Catalog | None = None
        self._catalog_lock = threading.Lock()
        self._stop = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._collecting = threading.Thread()
        self._listeners: tuple[Callable[[], None], ...] = ()
        self._listeners_lock = threading.Lock()
        self._folds = 0  # folds so far: the version of the board that frame() caches
        self._frame: tuple[int, pd.DataFrame] | None = None
        self._frame_lock = threading.Lock()
        if settings.redis_url:
            self.bus: Bus = open_bus(settings.redis_url)
            self.cache: Cache = open_cache(settings.redis_url)
        else:
            self.collector = self._embed(speed, day)
            self.bus, self.cache = self.collector.bus, self.collector.cache
        for symbol in self.symbols:
            self.series.seed(symbol, self.cache.bars(symbol, CHART_INTERVAL))
        self._ticks = self.bus.subscribe(kinds=["tick", "bar"], symbols=self.symbols)
        self._progress = self.bus.subscribe(kinds=["collection"])
        self.collection: CollectionEvent | None = None  # the collector's latest progress report
        for name, target in (("oss20-live-board", self._feed), ("oss20-status", self._watch)):
            threading.Thread(target=target, name=name, daemon=True).start()

    @classmethod
    @functools.cache
    def shared(cls) -> Runtime:
        """The process's runtime, from the environment (``OSS20_WATCHLIST``, ``OSS20_DEMO_SPEED``, and
        ``OSS20_DEMO_DAY``: the embedded simulator's session, YYYY-MM-DD, the latest one when unset)."""
        settings = Settings.from_env()
        symbols = [s for s in settings.watchlist.split(",") if s.strip()] or list(DEMO_WATCHLIST)
        day = os.environ.get("OSS20_DEMO_DAY", "").strip()
        try:
            demo_day = dt.date.fromisoformat(day) if day else None
        except ValueError as err:
            raise ValueError(
                f"OSS20_DEMO_DAY={day!r} is not a date; expected YYYY-MM-DD, e.g. 2025-01-16"
            ) from err
        return cls(settings, symbols, float(os.environ.get("OSS20_DEMO_SPEED", "1")), demo_day)

    def _embed(self, speed: float, day: dt.date | None) -> Collector:
        """Start the collector in a thread with its own event loop, and first the simulator on the
        settings' IQFeed ports (0 picks free ones) playing ``day`` (None: the latest session) unless
        ``simulate`` is off (then IQConnect is there)."""
        s = self.settings
        endpoint = Endpoint.from_settings(s)
        if s.simulate:
            config = SimulatorConfig(
                host=s.iqfeed_host,
                level1_port=s.level1_port,
                lookup_port=s.lookup_port,
                admin_port=s.admin_port,
                day=day,
                speed=speed,
            )
            self.simulator = Simulator(config).start()
            ports = self.simulator.ports
            endpoint = Endpoint(s.iqfeed_host, ports["level1"], ports["lookup"], ports["admin"])
        collector = Collector(self.symbols, s, CollectorOptions(metrics_port=None), endpoint)
        started = threading.Event()

        async def run() -> None:
            self._loop = asyncio.get_running_loop()
            started.set()
            await collector.run()

        self._collecting = threading.Thread(
            target=asyncio.run, args=(run(),), name="oss20-collector", daemon=True
        )
        self._collecting.start()
        started.wait(10)
        log.info(
            "embedded collector started symbols=%s feed=%s:%d simulated=%s",
            ",".join(self.symbols),
            endpoint.host,
            endpoint.level1_port,
            s.simulate,
        )
        return collector

    def close(self, timeout: float = 30.0) -> None:
        """Stop the feeders; an embedded collector flushes, checkpoints and stops, then the simulator."""
        self._stop.set()
        if self.collector is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self.collector.stop)
            self._collecting.join(timeout)
        if self.simulator is not None:
            self.simulator.stop()

    def live_day(self) -> dt.date:
        """The trading day being collected: the embedded simulator's, else today in New York."""
        if self.simulator is not None:
            return self.simulator.clock.now.date()
        return pd.Timestamp.now(tz=TZINFO).date()

    def feed_settings(self) -> Settings:
        """The settings with the IQFeed ports really in use (the embedded simulator may have picked them)."""
        if self.simulator is None:
            return self.settings
        ports = self.simulator.ports
        return self.settings.replaced(
            level1_port=ports["level1"], lookup_port=ports["lookup"], admin_port=ports["admin"]
        )

    def catalog(self) -> Catalog:
        """The catalog (opened on first use, so a catalog that is down at start is tried again later).

        Raises ``CatalogUnavailable`` while it cannot be reached."""
        with self._catalog_lock:
            if self._catalog is None:
                self._catalog = open_catalog(self.settings.resolved_catalog_url, connect_timeout=2.0)
            return self._catalog

    def watch(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` on the feeder thread after every fold into the board (ticks, or quotes at
        least every QUOTES_EVERY s); returns the function that stops it. The listener must return at
        once (schedule work, never do it); one that raises is logged and dropped."""
        with self._listeners_lock:
            self._listeners = (*self._listeners, listener)
        return functools.partial(self._forget, listener)

    def _forget(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener`` (no error if it was not called any more)."""
        with self._listeners_lock:
            self._listeners = tuple(other for other in self._listeners if other is not listener)

    def frame(self) -> pd.DataFrame:
        """The board's rows as of its latest fold, built once for all the sessions that ask (shared: read
        it, never change it)."""
        with self._frame_lock:
            folds = self._folds
            if self._frame is None or self._frame[0] != folds:
                self._frame = (folds, self.board.frame())
            return self._frame[1]

    def _feed(self) -> None:
        """Fold ticks into the board as they come (woken by the first, at most one fold per FOLD_GAP),
        then tell the listeners."""
        quotes_at = 0.0
        while not self._stop.wait(FOLD_GAP):
            first = self._ticks.get(timeout=FEED_EVERY)
            now = time.monotonic()
            events = ([first] if first is not None else []) + self._ticks.drain()
            folded = self.board.add(events, now) > 0
            self.series.add(events)
            reports = [e for e in self._progress.drain() if isinstance(e, CollectionEvent)]
            if reports:
                self.collection = reports[-1]
            if now - quotes_at >= QUOTES_EVERY:
                quotes_at = now
                self.board.quote(self.cache.latest_many(self.symbols))
                folded = True
            if folded:
                self._notify()

    def _notify(self) -> None:
        """A new version of the board: every listener is called (one that raises is dropped)."""
        self._folds += 1  # written by this thread alone
        for listener in self._listeners:
            try:
                listener()
            except Exception:
                log.exception("board listener failed and is dropped listener=%r", listener)
                self._forget(listener)

    def _watch(self) -> None:
        """Slow reads, on a thread of their own so a service that is down never delays the live board."""
        while True:
            self.services = probe_services(self.settings, self.catalog)
            statuses = {s: self.cache.validation_status(s) for s in self.symbols}
            self.board.grade({s: str(v.get("status", "")) for s, v in statuses.items() if v})
            try:
                self.tasks = self.catalog().tasks(limit=20)
            except CatalogUnavailable as exc:
                log.warning("catalog unavailable for the task list: %s", exc)
            if self._stop.wait(STATUS_EVERY):
                return
