"""A live terminal table of the watchlist (rich): last, bid, ask, size, volume and ticks/s per symbol."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass, field

import pandas as pd
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from oss20.iqfeed.client import Level1Stream

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
    """Folds Level 1 batches into per-symbol state and renders it as a rich table."""

    def __init__(self, symbols: list[str]) -> None:
        self.quotes = {symbol: Quote() for symbol in symbols}
        self.malformed = 0

    def update(self, updates: pd.DataFrame, trades: pd.DataFrame, now: float) -> None:
        if len(updates):
            latest = updates.groupby("symbol", sort=False).last()
            for symbol, row in latest.iterrows():
                quote = self.quotes.setdefault(str(symbol), Quote())
                quote.last, quote.bid, quote.ask = row["price"], row["bid"], row["ask"]
                quote.size, quote.volume, quote.time = (
                    int(row["size"]),
                    int(row["total_volume"]),
                    row["timestamp"],
                )
        if len(trades):
            for symbol, count in trades["symbol"].value_counts().items():
                self.quotes.setdefault(str(symbol), Quote()).arrivals.append((now, int(count)))

    def render(self, stream: Level1Stream, now: float) -> Group:
        table = Table(title="oss20 · live Level 1 from IQFeed (simulator)", expand=False)
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
        s = stream.stats
        footer = Text(
            f"trades {s.trades:,} · updates {s.updates:,} · malformed {s.malformed:,} · "
            f"reconnects {s.reconnects} · unknown {sorted(stream.unknown) or '-'}",
            style="dim",
        )
        return Group(table, footer)


def _price(value: float) -> str:
    """Cents always, sub-penny digits only when the print has them (off-exchange prints do)."""
    if value != value:
        return "-"
    text = f"{value:,.4f}".rstrip("0")
    return text if len(text.rsplit(".", 1)[1]) >= 2 else f"{value:,.2f}"


async def watch_live(stream: Level1Stream, symbols: list[str], duration: float | None = None) -> Watchboard:
    """Watch ``symbols`` and redraw the table about four times a second until ``duration`` elapses."""
    board = Watchboard(symbols)
    await stream.watch(*symbols)
    started = time.monotonic()
    with Live(board.render(stream, started), refresh_per_second=4, transient=False) as live:
        async for batch in stream.batches():
            now = time.monotonic()
            board.update(batch.updates, batch.trades(), now)
            live.update(board.render(stream, now))
            if duration is not None and now - started >= duration:
                break
            await asyncio.sleep(0)
    return board
