"""A live terminal table of what the collector sees (rich): last, bid, ask, ticks/s, and what it stored."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from oss20.bus import TickEvent
from oss20.collection import Collector

RATE_WINDOW = 5.0  # seconds over which ticks/s is averaged


@dataclass
class Quote:
    """The latest Level 1 state of one symbol, plus recent trade arrivals for its rate."""

    last: float = float("nan")
    bid: float = float("nan")
    ask: float = float("nan")
    size: int = 0
    volume: int = 0
    time: pd.Timestamp | None = None
    arrivals: deque[tuple[float, int]] = field(default_factory=deque)

    def rate(self, now: float) -> float:
        while self.arrivals and now - self.arrivals[0][0] > RATE_WINDOW:
            self.arrivals.popleft()
        return sum(n for _, n in self.arrivals) / RATE_WINDOW


class Watchboard:
    """Folds the latest Level 1 state and trade arrivals into per-symbol rows and renders a rich table."""

    def __init__(self, symbols: list[str]) -> None:
        self.quotes = {symbol: Quote() for symbol in symbols}

    def update(self, latest: Mapping[str, Mapping[str, Any]], trades: pd.DataFrame, now: float) -> None:
        for name, row in latest.items():
            quote = self.quotes.setdefault(name, Quote())
            quote.last, quote.bid, quote.ask = float(row["price"]), float(row["bid"]), float(row["ask"])
            quote.size, quote.volume = int(row["size"]), int(row["total_volume"])
            quote.time = pd.Timestamp(row["timestamp"]) if row.get("timestamp") else None
        if len(trades):
            for symbol, count in trades["symbol"].value_counts().items():
                self.quotes.setdefault(str(symbol), Quote()).arrivals.append((now, int(count)))

    def render(self, footer: str, now: float) -> Group:
        table = Table(title="oss20 · live from IQFeed (simulator) into ArcticDB", expand=False)
        for name in ("symbol", "last", "bid", "ask", "size", "volume", "ticks/s", "time ET"):
            table.add_column(name, justify="left" if name == "symbol" else "right")
        for symbol, q in sorted(self.quotes.items()):
            table.add_row(
                symbol,
                _price(q.last),
                _price(q.bid),
                _price(q.ask),
                f"{q.size:,}",
                f"{q.volume:,}",
                f"{q.rate(now):,.1f}",
                q.time.strftime("%H:%M:%S") if q.time is not None else "-",
            )
        return Group(table, Text(footer, style="dim"))


def _price(value: float) -> str:
    """Cents always, sub-penny digits only when the print has them (off-exchange prints do)."""
    if value != value:
        return "-"
    text = f"{value:,.4f}".rstrip("0")
    return text if len(text.rsplit(".", 1)[1]) >= 2 else f"{value:,.2f}"


def _footer(collector: Collector) -> str:
    c, s = collector.counts, collector.stream.stats
    return (
        f"trades {c.received:,} · stored {c.stored:,} · from history {c.history:,} · "
        f"quarantined {c.quarantined:,} · malformed {c.malformed:,} · reconnects {s.reconnects} · "
        f"unknown {sorted(collector.stream.unknown) or '-'}"
    )


async def watch_collector(collector: Collector, duration: float | None = None) -> Watchboard:
    """Run ``collector`` and redraw its table four times a second from the bus and the cache."""
    board = Watchboard(collector.symbols)
    ticks = collector.bus.subscribe(kinds=["tick"])
    run = asyncio.create_task(collector.run(duration))
    with Live(board.render(_footer(collector), time.monotonic()), refresh_per_second=4) as live:
        while not run.done():
            await asyncio.wait({run}, timeout=0.25)
            frames = [event.frame() for event in ticks.drain() if isinstance(event, TickEvent)]
            trades = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"symbol": []})
            now = time.monotonic()
            board.update(collector.cache.latest_many(collector.symbols), trades, now)
            live.update(board.render(_footer(collector), now))
    ticks.close()
    await run
    return board
