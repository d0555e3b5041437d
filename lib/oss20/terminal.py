"""A live terminal table of what the collector sees (rich): last, bid, ask, ticks/s, and what it stored.

The rows come from the same ``LiveBoard`` the dashboards read; this module only renders them.
"""

from __future__ import annotations

import asyncio
import time

from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from oss20.collection import Collector
from oss20.live_board import LiveBoard


def render(board: LiveBoard, footer: str, now: float) -> Group:
    """The board as a rich table, with ``footer`` below it."""
    table = Table(title="oss20 · live from IQFeed (simulator) into ArcticDB", expand=False)
    for name in ("symbol", "last", "bid", "ask", "volume", "ticks/s", "time ET"):
        table.add_column(name, justify="left" if name == "symbol" else "right")
    frame = board.frame(now).sort_values("symbol")
    times = frame["time"].dt.strftime("%H:%M:%S").fillna("-").tolist()
    for row, at in zip(frame.to_dict("records"), times, strict=True):
        table.add_row(
            str(row["symbol"]),
            _price(float(row["last"])),
            _price(float(row["bid"])),
            _price(float(row["ask"])),
            f"{int(row['volume']):,}",
            f"{float(row['ticks_per_s']):,.1f}",
            at,
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


async def watch_collector(collector: Collector, duration: float | None = None) -> LiveBoard:
    """Run ``collector`` and redraw its table four times a second from the bus and the cache."""
    board = LiveBoard(collector.symbols)
    ticks = collector.bus.subscribe(kinds=["tick"])
    run = asyncio.create_task(collector.run(duration))
    with Live(render(board, _footer(collector), time.monotonic()), refresh_per_second=4) as live:
        while not run.done():
            await asyncio.wait({run}, timeout=0.25)
            now = time.monotonic()
            board.add(ticks.drain(), now)
            board.quote(collector.cache.latest_many(collector.symbols))
            live.update(render(board, _footer(collector), now))
    ticks.close()
    await run
    return board
