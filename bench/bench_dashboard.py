"""Served dashboards end to end: a tick leaving the simulator to its value drawn in the browser, and
the server's CPU per browser session.

Run from the repository root:  ``python bench/bench_dashboard.py [--seconds 40] [--no-write]``

The simulator runs in this process (a thread) with a small TCP proxy in front of its Level 1 port:
the proxy forwards every byte unchanged and notes, for each trade line of AAPL, the wall time
(``time.time()``) it passed and the line's total volume, reading the fields where the client's
``S,SELECT UPDATE FIELDS`` command (seen passing through) put them. ``oss20 serve`` runs in a child
process exactly as shipped (the browser tests' ``serving``), with ``OSS20_SIMULATE=false`` so its
embedded collector reads the proxy. Real headless Chromium (Playwright) opens 1, then 10, sessions
of /market; in each page a MutationObserver on the watchlist table records every change of AAPL's
volume cell with the browser's wall clock (``performance.timeOrigin + performance.now()``), and a
wrapped ``WebSocket`` records when each Bokeh message with the watchlist's rows arrived. A total
volume belongs to exactly one trade, so every drawn value is matched to the moment its trade left the
simulator:

- tick -> DOM: proxy passed the trade line -> the cell's text changed (the next frame is noted too);
- tick -> websocket: proxy -> the Bokeh message carrying that volume arrived in the page (the whole
  server: collector, bus, the board's fold, the push to the session, Bokeh's serialisation, send);
- websocket -> DOM: that message's arrival -> the cell changed (BokehJS and the table in the page);
- the server's own view, GET /health ``latency_ms``: collector read -> the live board holding it.

The server's CPU (its process and children: the collector's writer) is read over each window and
over windows with no session before and after (the latter once closed pages' sessions are gone), and
so is its event loop's thread alone (where every session's work runs; the collector and the board's
feeder have threads of their own); CPU per session is the difference over the sessions.

Writes bench/results/dashboard.json and the dashboard table in bench/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import numpy as np
import psutil
from _common import machine, now_utc, write_results
from playwright.sync_api import Browser, Page, sync_playwright

import app.components.watchlist
import app.runtime
from app.components.watchlist import Watchlist
from oss20.iqfeed import protocol
from oss20.iqfeed.simulator import Simulator, SimulatorConfig
from oss20.live_board import COLUMNS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the browser tests' server helper and Chromium settings, reused as they are
from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, serving  # noqa: E402

SYMBOL = "AAPL"
WATCHLIST = app.runtime.DEMO_WATCHLIST
TICK_TARGET_MS = 100.0  # the system design: tick latency under 100 ms
WEBSOCKET_TARGET_MS = 50.0  # and websocket latency under 50 ms
VOLUME_AT = COLUMNS.index("volume")  # a watchlist row's volume text
TRADE_LETTERS = (b"C", b"E", b"O")  # Message Contents letters of a trade update (last, extended, other)

# Every Bokeh message the page receives is noted when it sets a component's rows (the watchlist's texts).
CAPTURE_WEBSOCKET = """(() => {
    const Native = window.WebSocket;
    const frames = (window.__oss20Frames = []);
    window.WebSocket = class extends Native {
        constructor(...args) {
            super(...args);
            this.addEventListener('message', (event) => {
                if (typeof event.data === 'string' && event.data.includes('"rows"')) {
                    frames.push([performance.timeOrigin + performance.now(), event.data]);
                }
            });
        }
    };
})();"""

# The watchlist is the table (inside shadow roots) with a row for the symbol; the whole table is
# observed and the symbol's row is read again on each change.
WATCH_VOLUME = """(symbol) => {
    const tables = [];
    const walk = (root) => {
        root.querySelectorAll('table').forEach((t) => tables.push(t));
        root.querySelectorAll('*').forEach((el) => el.shadowRoot && walk(el.shadowRoot));
    };
    walk(document);
    const volumeOf = (table) => {
        for (const row of table.querySelectorAll('tr')) {
            const name = row.querySelector('[data-field="symbol"]');
            if (name && name.textContent.trim() === symbol) {
                const cell = row.querySelector('[data-field="volume"]');
                return cell ? cell.textContent.trim() : null;
            }
        }
        return null;
    };
    const table = tables.find((t) => volumeOf(t));
    if (!table) return false;
    const clock = () => performance.timeOrigin + performance.now();
    const renders = (window.__oss20Renders = []);
    let shown = volumeOf(table);
    new MutationObserver(() => {
        const text = volumeOf(table);
        if (!text || text === shown) return;
        shown = text;
        const render = {text, dom: clock(), frame: null};
        renders.push(render);
        requestAnimationFrame(() => { render.frame = clock(); });
    }).observe(table, {subtree: true, childList: true, characterData: true});
    return true;
}"""


class Level1Tap:
    """A TCP proxy in front of the simulator's Level 1 port, on a thread of its own.

    Forwards every byte unchanged both ways; notes when each trade line of ``symbol`` was passed to
    the client (``passed``: total volume -> ``time.time()`` right after the write), reading the
    fields in the order the client selected (``S,SELECT UPDATE FIELDS``; the feed's default before).
    """

    def __init__(self, upstream_port: int, symbol: str) -> None:
        self.upstream_port = upstream_port
        self.prefix = f"Q,{symbol},".encode()
        self.fields: tuple[str, ...] = protocol.DEFAULT_UPDATE_FIELDS
        self.passed: dict[int, float] = {}
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="level1-tap", daemon=True)
        self._server: asyncio.Server | None = None

    def start(self) -> Level1Tap:
        self._thread.start()
        listen = asyncio.start_server(self._connect, "127.0.0.1", 0)
        self._server = asyncio.run_coroutine_threadsafe(listen, self._loop).result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    async def _connect(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        feed_in, feed_out = await asyncio.open_connection("127.0.0.1", self.upstream_port, limit=1 << 20)
        await asyncio.gather(
            self._commands(client_in, feed_out, client_out), self._updates(feed_in, client_out)
        )
        feed_out.close()
        client_out.close()

    async def _commands(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, client: asyncio.StreamWriter
    ) -> None:
        """Client -> feed, line by line; the field selection is learnt from the client's command."""
        try:
            while line := await reader.readline():
                writer.write(line)
                with contextlib.suppress(protocol.ProtocolError):
                    command = protocol.parse_command(line)
                    if command.verb == "S,SELECT UPDATE FIELDS":
                        self.fields = ("Symbol", *(name for name in command.args if name != "Symbol"))
        except ConnectionError:
            pass
        finally:
            writer.close()  # the client left: so does the feed connection, which ends the other pump

    async def _updates(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Feed -> client, chunk by chunk as read; each chunk's trade lines of the symbol are noted."""
        rest = b""
        try:
            while data := await reader.read(1 << 16):
                writer.write(data)
                passed = time.time()
                lines = (rest + data).split(b"\n")
                rest = lines.pop()
                for line in lines:
                    if line.startswith(self.prefix):
                        self._note(line.rstrip(b"\r"), passed)
                await writer.drain()
        except ConnectionError:
            pass
        finally:
            writer.close()

    def _note(self, line: bytes, passed: float) -> None:
        values = dict(zip(self.fields, line.split(b",")[1:], strict=False))  # "Q", then the selection
        contents = values.get("Message Contents", b"")
        if any(letter in contents for letter in TRADE_LETTERS) and values.get("Total Volume"):
            self.passed.setdefault(int(values["Total Volume"]), passed)


def process_tree(pid: int) -> list[psutil.Process]:
    """The process and its descendants (empty once it is gone)."""
    with contextlib.suppress(psutil.Error):
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    return []


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU seconds of the processes still alive."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def thread_seconds(pid: int, tid: int) -> float:
    """User + system CPU seconds of thread ``tid`` of process ``pid`` (0 once it is gone)."""
    with contextlib.suppress(psutil.Error):
        for thread in psutil.Process(pid).threads():
            if thread.id == tid:
                return thread.user_time + thread.system_time
    return 0.0


def server_pid(port: int) -> int:
    """This process's child serving on ``port`` (``oss20 serve`` execs ``python -m app.server PORT``)."""
    for child in psutil.Process().children():
        with contextlib.suppress(psutil.Error):
            if "app.server" in child.cmdline() and str(port) in child.cmdline():
                return child.pid
    raise RuntimeError(f"no child process serves port {port}")


def health(base: str) -> dict[str, Any]:
    """GET /health (its body also when it answers 503: no Redis or catalog in this run)."""
    try:
        with urllib.request.urlopen(base + "/health", timeout=10) as answer:
            return dict(json.load(answer))
    except urllib.error.HTTPError as err:
        return dict(json.load(err))


def clock_offset(page: Page) -> tuple[float, float]:
    """The page's ``performance.timeOrigin + performance.now()`` minus the system clock (``Date.now()``,
    the clock ``time.time()`` reads), in s, and the spread of the samples (Date.now() counts whole
    ms, so the smallest difference over 20 ms of samples is the offset)."""
    low, high = page.evaluate(
        """() => {
            const seen = [];
            const end = Date.now() + 20;
            while (Date.now() < end) seen.push(performance.timeOrigin + performance.now() - Date.now());
            return [Math.min(...seen), Math.max(...seen)];
        }"""
    )
    return low / 1e3, (high - low) / 1e3


def open_session(browser: Browser, base: str) -> Page:
    """A new browser context on /market, its websocket and AAPL's volume cell watched."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.add_init_script(CAPTURE_WEBSOCKET)
    page.goto(base + "/market")
    page.locator('.oss20-watchlist td[data-field="volume"]').first.wait_for(timeout=60_000)
    deadline = time.monotonic() + 60
    while not page.evaluate(WATCH_VOLUME, SYMBOL):
        if time.monotonic() > deadline:
            raise RuntimeError(f"no watchlist row for {SYMBOL} on {base}/market")
        page.wait_for_timeout(200)
    while not page.evaluate("window.__oss20Renders.length"):  # streaming into this page
        if time.monotonic() > deadline:
            raise RuntimeError(f"{SYMBOL}'s volume never changed on {base}/market")
        page.wait_for_timeout(200)
    return page


def sent_volume(message: str, row: int) -> int | None:
    """The volume a Bokeh message sets in the watchlist's row ``row`` (None if it sets no rows)."""
    found: list[int] = []

    def visit(node: Any) -> None:
        if isinstance(node, dict):
            rows = node.get("new")
            if node.get("attr") == "rows" and isinstance(rows, list) and len(rows) > row:
                with contextlib.suppress(TypeError, ValueError, IndexError):
                    found.append(int(str(rows[row][VOLUME_AT]).replace(",", "")))
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    with contextlib.suppress(ValueError):
        visit(json.loads(message))
    return found[-1] if found else None


def quantiles(values_ms: list[float]) -> dict[str, float]:
    """Count, p50, p95, p99 and max of latencies in ms (count 0 alone when there are none)."""
    a = np.asarray(values_ms, dtype=np.float64)
    if a.size == 0:
        return {"count": 0}
    p50, p95, p99 = np.percentile(a, [50, 95, 99])
    return {"count": int(a.size), "p50_ms": p50, "p95_ms": p95, "p99_ms": p99, "max_ms": float(a.max())}


class Meter:
    """CPU of the server tree and of its event loop (the main thread, where sessions' callbacks,
    serialisation and sends run), of the browser (Playwright's driver and Chromium), of this process
    (simulator, proxy) and of the whole machine over one window."""

    def __init__(self, server: int) -> None:
        self.server = server
        self.me = psutil.Process()

    def read(self) -> dict[str, float]:
        server_tree = process_tree(self.server)
        others = [p for p in self.me.children(recursive=True) if p.pid not in {s.pid for s in server_tree}]
        busy = psutil.cpu_times()
        return {
            "wall": time.monotonic(),
            "server": cpu_seconds(server_tree),
            "server_loop": thread_seconds(self.server, self.server),
            "browser": cpu_seconds(others),
            "bench": cpu_seconds([self.me]),
            "machine": busy.user + busy.system + busy.nice + busy.irq + busy.softirq,
        }

    def window(self, seconds: float) -> dict[str, Any]:
        """Sleep ``seconds`` and return each part's CPU as % of one core, with the load average."""
        start = self.read()
        time.sleep(seconds)
        end = self.read()
        wall = end["wall"] - start["wall"]
        share = {
            f"{k}_cpu_pct": 100 * (end[k] - start[k]) / wall
            for k in ("server", "server_loop", "browser", "bench")
        }
        share["machine_cpu_pct"] = 100 * (end["machine"] - start["machine"]) / wall
        share["others_cpu_pct"] = share["machine_cpu_pct"] - sum(
            share[f"{k}_cpu_pct"] for k in ("server", "browser", "bench")
        )
        return {"seconds": wall, **share, "load_average": os.getloadavg()}


def measure(pages: list[Page], tap: Level1Tap, meter: Meter, base: str, seconds: float) -> dict[str, Any]:
    """One window with ``pages`` open: every drawn AAPL volume matched to its trade, and the CPU."""
    offsets = [clock_offset(page) for page in pages]
    for page in pages:
        page.evaluate("window.__oss20Renders.length = 0; window.__oss20Frames.length = 0")
    cpu = meter.window(seconds)
    served = health(base)
    row = WATCHLIST.index(SYMBOL)
    to_dom, to_frame, to_socket, socket_to_dom = [], [], [], []
    unmatched = renders = 0
    for page, (offset, _) in zip(pages, offsets, strict=True):
        arrived: dict[int, float] = {}
        for at, message in page.evaluate("window.__oss20Frames"):
            volume = sent_volume(message, row)
            if volume is not None:
                arrived.setdefault(volume, at / 1e3 - offset)
        for render in page.evaluate("window.__oss20Renders"):
            renders += 1
            volume = int(render["text"].replace(",", ""))
            if volume not in tap.passed:
                unmatched += 1
                continue
            left = tap.passed[volume]
            to_dom.append(1e3 * (render["dom"] / 1e3 - offset - left))
            if render["frame"] is not None:
                to_frame.append(1e3 * (render["frame"] / 1e3 - offset - left))
            if volume in arrived:
                to_socket.append(1e3 * (arrived[volume] - left))
                socket_to_dom.append(1e3 * (render["dom"] / 1e3 - offset - arrived[volume]))
    return {
        "sessions": len(pages),
        "renders": renders,
        "unmatched": unmatched,
        "tick_to_dom": quantiles(to_dom),
        "tick_to_frame": quantiles(to_frame),
        "tick_to_websocket": quantiles(to_socket),
        "websocket_to_dom": quantiles(socket_to_dom),
        "server_health_latency_ms": served.get("latency_ms"),
        "clock_offsets_ms": [{"offset": 1e3 * o, "spread": 1e3 * e} for o, e in offsets],
        "cpu": cpu,
    }


def wait_for_quiet(max_load: float, max_wait_s: float) -> list[float]:
    """Sleep until the 1-minute load average is below ``max_load`` (or ``max_wait_s`` passed): the
    machine is shared and everything measured here competes for its cores. Returns the load average."""
    deadline = time.monotonic() + max_wait_s
    while os.getloadavg()[0] > max_load and time.monotonic() < deadline:
        print(f"load average {os.getloadavg()[0]:.2f} > {max_load}: waiting", flush=True)
        time.sleep(30)
    return [round(x, 2) for x in os.getloadavg()]


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Simulator, proxy and server up; a window with no session, one per session count, one with none
    again; every window's latencies and CPU (CPU per session against the mean of the idle windows)."""
    simulator = Simulator(
        SimulatorConfig(level1_port=0, lookup_port=0, admin_port=0, speed=args.speed, symbols=WATCHLIST)
    ).start()
    tap = Level1Tap(simulator.ports["level1"], SYMBOL).start()
    env = {
        "OSS20_SIMULATE": "false",
        "OSS20_LEVEL1_PORT": str(tap.port),
        "OSS20_LOOKUP_PORT": str(simulator.ports["lookup"]),
        "OSS20_ADMIN_PORT": str(simulator.ports["admin"]),
        "OSS20_WATCHLIST": ",".join(WATCHLIST),
    }
    chromium = ""
    windows: list[dict[str, Any]] = []
    baselines: list[dict[str, Any]] = []
    try:
        with (
            tempfile.TemporaryDirectory(prefix="oss20-bench-dashboard-") as tmp,
            serving(Path(tmp) / "data", Path(tmp) / "serve.log", **env) as base,
            sync_playwright() as playwright,
        ):
            meter = Meter(server_pid(int(base.rsplit(":", 1)[1])))
            while not tap.passed:  # the collector is reading the feed
                time.sleep(0.5)
            time.sleep(args.warmup)  # past the start: the collector's history fill, first compilations
            print(f"served at {base}; baseline, no session, {args.baseline_seconds:.0f} s ...", flush=True)
            baselines.append(meter.window(args.baseline_seconds))
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            chromium = browser.version
            pages: list[Page] = []
            for sessions in args.sessions:
                while len(pages) < sessions:
                    pages.append(open_session(browser, base))
                time.sleep(args.settle)
                print(f"{sessions} session(s), {args.seconds:.0f} s ...", flush=True)
                windows.append(measure(pages, tap, meter, base, args.seconds))
                print_window(windows[-1], baselines[0])
            for page in pages:
                page.context.close()
            browser.close()
            time.sleep(args.drain)
            print(f"baseline again, no session, {args.baseline_seconds:.0f} s ...", flush=True)
            baselines.append(meter.window(args.baseline_seconds))
    finally:
        tap.stop()
        simulator.stop()
    idle = float(np.mean([b["server_cpu_pct"] for b in baselines]))
    idle_loop = float(np.mean([b["server_loop_cpu_pct"] for b in baselines]))
    for window in windows:
        cpu, n = window["cpu"], window["sessions"]
        cpu["server_pct_per_session"] = (cpu["server_cpu_pct"] - idle) / n
        cpu["server_loop_pct_per_session"] = (cpu["server_loop_cpu_pct"] - idle_loop) / n
        cpu["browser_pct_per_session"] = cpu["browser_cpu_pct"] / n
    return {
        "windows": windows,
        "baselines": baselines,
        "server_idle_cpu_pct": idle,
        "server_loop_idle_cpu_pct": idle_loop,
        "trades_seen": len(tap.passed),
        "chromium": chromium,
        "fields": list(tap.fields),
    }


def print_window(w: dict[str, Any], baseline: dict[str, Any]) -> None:
    """One window's figures on a line, as they are measured."""
    d, s, c = w["tick_to_dom"], w["tick_to_websocket"], w["cpu"]
    print(
        f"  {w['sessions']:>2} session(s): {w['renders']:,} drawn values ({w['unmatched']} unmatched); "
        f"tick -> DOM p50 {_ms(d, 'p50_ms')} p99 {_ms(d, 'p99_ms')} max {_ms(d, 'max_ms')} ms; "
        f"tick -> websocket p50 {_ms(s, 'p50_ms')} p99 {_ms(s, 'p99_ms')} ms; "
        f"/health {w['server_health_latency_ms']}; server CPU {c['server_cpu_pct']:.0f}% "
        f"(no session {baseline['server_cpu_pct']:.0f}%), its event loop {c['server_loop_cpu_pct']:.1f}% "
        f"(no session {baseline['server_loop_cpu_pct']:.1f}%), browser {c['browser_cpu_pct']:.0f}%, "
        f"others {c['others_cpu_pct']:.0f}%, load {c['load_average'][0]:.2f}",
        flush=True,
    )


def _ms(q: dict[str, Any], key: str) -> str:
    """A quantile in whole ms, empty when there was nothing to measure."""
    return f"{q[key]:.0f}" if key in q else ""


def readme_table(results: dict[str, Any]) -> list[str]:
    """The README tables of a run: latencies and server CPU per session count, then what shared the cores."""
    m, t = results["machine"], results["timers"]
    lines = [
        f"{SYMBOL} in the {len(WATCHLIST)}-symbol demo watchlist, simulator at speed {results['speed']:g} "
        f"(from 09:30), {results['seconds']:.0f} s per window; server timers: board fold as ticks come "
        f"(at most every {t['fold_gap_s'] * 1e3:.0f} ms), quotes fold every "
        f"{t['quotes_every_s'] * 1e3:.0f} ms, each fold pushed to the watchlist of every session (the first "
        f"after a quiet spell at once, then the first fold {t['watchlist_period_ms']} ms or more after the "
        f"last send, or {t['watchlist_grace_s'] * 1e3:.0f} ms later without one); "
        f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, "
        f"Chromium {results['chromium']}; load average {results['load_average_before'][0]:.2f} before the "
        f"run; {results['date']}.",
        "",
        "| sessions | drawn values (unmatched) | tick -> DOM p50 / p95 / p99 / max ms | of the 100 ms target "
        "(p99) | tick -> websocket p50 / p99 ms | websocket -> DOM p50 / p99 ms | server /health p50 / p99 "
        "ms | server CPU % of a core | per session | event loop CPU % | per session |",
        "|---:|---:|---|---:|---|---|---|---:|---:|---:|---:|",
    ]
    for w in results["windows"]:
        d, s, b, h, c = (
            w["tick_to_dom"],
            w["tick_to_websocket"],
            w["websocket_to_dom"],
            w["server_health_latency_ms"] or {},
            w["cpu"],
        )
        served = f"{h['p50']:.0f} / {h['p99']:.0f}" if h.get("p50") is not None else ""
        lines.append(
            f"| {w['sessions']} | {w['renders']:,} ({w['unmatched']}) | "
            f"{' / '.join(_ms(d, k) for k in ('p50_ms', 'p95_ms', 'p99_ms', 'max_ms'))} | "
            f"{d.get('p99_ms', np.nan) / TICK_TARGET_MS:.1f}x | "
            f"{_ms(s, 'p50_ms')} / {_ms(s, 'p99_ms')} | {_ms(b, 'p50_ms')} / {_ms(b, 'p99_ms')} | {served} | "
            f"{c['server_cpu_pct']:.0f} | {c['server_pct_per_session']:.1f} | "
            f"{c['server_loop_cpu_pct']:.1f} | {c['server_loop_pct_per_session']:.1f} |"
        )
    idle = ", ".join(f"{b['server_cpu_pct']:.0f}%" for b in results["baselines"])
    idle_loop = ", ".join(f"{b['server_loop_cpu_pct']:.1f}%" for b in results["baselines"])
    lines += [
        "",
        f"Server CPU with no session open: {idle} of a core, its event loop {idle_loop} (before, after; "
        f"the embedded collector at speed {results['speed']:g}); per session = (with n sessions - mean "
        "of those) / n. The event loop's figure leaves out the collector's threads, whose CPU follows "
        "the market and the machine's load rather than the sessions.",
        "",
        "| sessions | tick -> next frame p50 / p99 ms | browser CPU % of a core (Chromium, Playwright) | "
        "other processes' CPU % | load average (1, 5, 15 min) |",
        "|---:|---|---:|---:|---|",
    ]
    for w in results["windows"]:
        f, c = w["tick_to_frame"], w["cpu"]
        lines.append(
            f"| {w['sessions']} | {_ms(f, 'p50_ms')} / {_ms(f, 'p99_ms')} | {c['browser_cpu_pct']:.0f} | "
            f"{c['others_cpu_pct']:.0f} | {', '.join(f'{x:.2f}' for x in c['load_average'])} |"
        )
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40.0, help="measured wall seconds per session count")
    ap.add_argument("--baseline-seconds", type=float, default=20.0, help="each no-session window")
    ap.add_argument("--warmup", type=float, default=30.0, help="seconds of streaming before the first window")
    ap.add_argument("--settle", type=float, default=10.0, help="seconds after opening pages before measuring")
    ap.add_argument(
        "--drain",
        type=float,
        default=40.0,
        help="seconds after closing the pages before the last no-session window (Bokeh drops a closed "
        "page's session 15-32 s after its websocket closed)",
    )
    ap.add_argument("--speed", type=float, default=5.0, help="simulated seconds per wall second")
    ap.add_argument("--sessions", type=lambda s: [int(n) for n in s.split(",")], default=[1, 10])
    ap.add_argument("--max-load", type=float, default=1.5, help="wait for a load average below this")
    ap.add_argument("--max-wait", type=float, default=900.0, help="seconds to wait for it at most")
    ap.add_argument("--no-write", action="store_true", help="print only; leave results and README alone")
    args = ap.parse_args()

    load_before = wait_for_quiet(args.max_load, args.max_wait)
    began = time.perf_counter()
    results = {
        "benchmark": "dashboard",
        "date": now_utc(),
        "symbol": SYMBOL,
        "watchlist": list(WATCHLIST),
        "speed": args.speed,
        "seconds": args.seconds,
        "baseline_seconds": args.baseline_seconds,
        "load_average_before": load_before,
        "targets": {"tick_ms": TICK_TARGET_MS, "websocket_ms": WEBSOCKET_TARGET_MS},
        "timers": {
            "fold_gap_s": app.runtime.FOLD_GAP,
            "quotes_every_s": app.runtime.QUOTES_EVERY,
            "watchlist_period_ms": Watchlist.param.period.default,
            "watchlist_grace_s": app.components.watchlist.GRACE,
        },
        **run(args),
    }
    results["total_seconds"] = time.perf_counter() - began
    results["machine"] = machine(psutil=psutil.__version__)
    results["notes"] = (
        "simulator and Level 1 proxy in the benchmark process, oss20 serve (OSS20_SIMULATE=false) in a "
        "child process, headless Chromium through Playwright, all on this machine; times are wall clocks "
        "(the browser's measured against ours per page, clock_offsets_ms); a drawn value is the AAPL "
        "volume cell's text, matched to the one trade with that total volume."
    )
    if not args.no_write:
        write_results("dashboard", results, readme_table(results))
    print(f"total {time.perf_counter() - began:.0f} s", flush=True)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
