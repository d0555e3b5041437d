"""The history fills a collector has asked for and not yet journaled, kept on disk.

A fill is recorded before any live tick that follows its window is journaled, and cleared only once
its ticks are in the journal (fsync'd). A collector killed in between finds the window here at its
next start and asks again: the ticks it would otherwise miss sit before the latest tick it holds,
where a fill "from the last tick held" can never reach.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pandas as pd

from oss20.schema import TZINFO
from oss20.symbols import validate_symbol

LEDGER = "fills.json"

Window = tuple[str, pd.Timestamp, pd.Timestamp]


class FillLedger:
    """Outstanding fill windows (symbol, begin, end), replaced atomically on disk at every change."""

    def __init__(self, directory: str | Path, *, fsync: bool = True) -> None:
        self.path = Path(directory) / LEDGER
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fsync = fsync
        self._windows: set[tuple[str, int, int]] = set()
        if self.path.exists():
            try:
                rows = json.loads(self.path.read_bytes())
                self._windows = {(validate_symbol(s), int(b), int(e)) for s, b, e in rows}
            except (ValueError, TypeError) as exc:
                raise ValueError(f"{self.path} is not a fill ledger ({exc}); move it aside to start") from exc

    def outstanding(self) -> list[Window]:
        """Every recorded window, oldest first."""
        return [(s, _stamp(b), _stamp(e)) for s, b, e in sorted(self._windows, key=lambda w: (w[1], w[0]))]

    def add(self, symbol: str, begin: pd.Timestamp, end: pd.Timestamp) -> None:
        """Record a window (durable when this returns); a window already recorded is left as it is."""
        window = (symbol, begin.value, end.value)
        if window not in self._windows:
            self._windows.add(window)
            self._save()

    def done(self, symbol: str, begin: pd.Timestamp, end: pd.Timestamp) -> None:
        """Clear a window whose ticks are journaled."""
        window = (symbol, begin.value, end.value)
        if window in self._windows:
            self._windows.discard(window)
            self._save()

    def _save(self) -> None:
        """Temp file, fsync, rename over the ledger, fsync the directory."""
        tmp = self.path.with_name(LEDGER + ".tmp")
        with tmp.open("wb") as sink:
            sink.write(json.dumps(sorted(self._windows)).encode())
            if self._fsync:
                sink.flush()
                os.fsync(sink.fileno())
        os.replace(tmp, self.path)
        if self._fsync:
            fd = os.open(self.path.parent, os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)


def _stamp(ns: int) -> pd.Timestamp:
    return pd.Timestamp(ns, tz=TZINFO)
