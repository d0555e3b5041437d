"""Fault injection for the simulator: what a sick feed does to the lines it sends.

Rates are per line; the random stream is seeded so a faulty run can be replayed.
Dropped connections, stalls, server disconnects and silenced symbols act on sockets and live in the
simulator; this module only rewrites outgoing Level 1 lines, purely.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np


@dataclass
class FaultPlan:
    """What to break and how often. All zero means a healthy feed."""

    duplicate_rate: float = 0.0  # repeat a line right after itself
    reorder_rate: float = 0.0  # swap a line with the one after it
    bad_price_rate: float = 0.0  # replace the trade price with a negative one
    malformed_rate: float = 0.0  # cut a line short and add junk
    drop_every: float = 0.0  # seconds between dropped Level 1 connections (0 = never)
    stall_every: float = 0.0  # seconds between stalls of the Level 1 stream (0 = never)
    stall_seconds: float = 3.0  # how long a stall lasts
    off_price_rate: float = 0.0  # move the trade price 5% away: a bad print that passes tier 1
    history_delay: float = 0.0  # seconds the lookup port waits before answering a history request
    disconnect_every: float = 0.0  # seconds between losses of IQConnect's link to DTN (0 = never)
    disconnect_seconds: float = 3.0  # how long IQConnect stays Not Connected (its Level 1 data is lost)
    silence_every: float = 0.0  # seconds between silences of one watched symbol (0 = never)
    silence_seconds: float = 5.0  # how long a symbol stays silent unless re-watched (its updates are lost)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value < 0 or (f.name.endswith("_rate") and value > 1):
                raise ValueError(f"fault {f.name}={value} is out of range (rates 0..1, times >= 0)")

    @property
    def rewrites_lines(self) -> bool:
        return any(
            (
                self.duplicate_rate,
                self.reorder_rate,
                self.bad_price_rate,
                self.malformed_rate,
                self.off_price_rate,
            )
        )


def inject(data: bytes, plan: FaultPlan, rng: np.random.Generator, price_field: int | None) -> bytes:
    """Apply the plan's line faults to a block of LF-terminated Level 1 lines.

    ``price_field`` is the index of "Most Recent Trade" in a split Q line (None when the
    connection did not select it; bad prices are then not injected).
    """
    if not plan.rewrites_lines or not data:
        return data
    lines = data.split(b"\n")[:-1]
    n = len(lines)
    draws = rng.random((4, n))
    off = rng.random(n) if plan.off_price_rate and price_field is not None else None
    out: list[bytes] = []
    i = 0
    while i < n:
        line = lines[i]
        if draws[0, i] < plan.bad_price_rate and price_field is not None:
            line = _bad_price(line, price_field)
        if off is not None and off[i] < plan.off_price_rate and price_field is not None:
            line = _off_price(line, price_field)
        if draws[1, i] < plan.malformed_rate:
            line = line[: max(1, len(line) // 2)] + b"\x07#junk"
        if draws[2, i] < plan.reorder_rate and i + 1 < n:
            out.extend((lines[i + 1], line))
            i += 2
            continue
        out.append(line)
        if draws[3, i] < plan.duplicate_rate:
            out.append(line)
        i += 1
    return b"\n".join(out) + b"\n"


def _bad_price(line: bytes, price_field: int) -> bytes:
    parts = line.split(b",")
    if price_field < len(parts) and parts[price_field]:
        parts[price_field] = b"-" + parts[price_field]
    return b",".join(parts)


OFF_PRICE = 1.05


def _off_price(line: bytes, price_field: int) -> bytes:
    parts = line.split(b",")
    if price_field < len(parts) and parts[price_field]:
        text = parts[price_field].decode()
        decimals = len(text.partition(".")[2])
        parts[price_field] = f"{float(text) * OFF_PRICE:.{decimals}f}".encode()
    return b",".join(parts)
