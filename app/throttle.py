"""A leading-edge rate limit for pushing changes to a page: the first change after a quiet spell goes
at once, later ones are batched so that sends are at least ``every`` seconds apart.

Pure and thread-safe: the feeder thread reports changes, the page's event loop reports sends; the
caller's clock (``time.monotonic()``) is passed in, so tests need no sleeping.
"""

from __future__ import annotations

import threading


class Throttle:
    """When to send the next update: at once after a quiet spell, else ``every`` s after the last send."""

    def __init__(self, every: float) -> None:
        if every < 0:
            raise ValueError(f"every={every!r}: the shortest time between two sends must be >= 0 s")
        self.every = every
        self._lock = threading.Lock()
        self._last_sent = float("-inf")
        self._pending = False

    def change(self, now: float) -> float | None:
        """A change happened at ``now``: when to send it (at or before ``now``: at once), or None when a
        send is already due, which will carry this change too."""
        with self._lock:
            if self._pending:
                return None
            self._pending = True
            return max(now, self._last_sent + self.every)

    def sent(self, now: float) -> None:
        """A send started at ``now``: it carries every change reported before, and later ones wait for it."""
        with self._lock:
            self._pending = False
            self._last_sent = now
