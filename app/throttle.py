"""A rate limit for pushing changes to a page that sends each update right after a change arrives:
the first change after a quiet spell goes at once, and later ones go with the first change that comes
once ``every`` seconds have passed since the last send (so the values sent are as fresh as they can
be), or ``grace`` seconds after that if no further change comes.

Pure and thread-safe: the feeder thread reports changes, the page's event loop takes sends; the
caller's clock (``time.monotonic()``) is passed in, so tests need no sleeping.
"""

from __future__ import annotations

import threading

EARLY = 0.002
"""A timer may fire this much (s) before the time it was set for and still find its send due."""


class Throttle:
    """When to send: at a change ``every`` s or more after the last send, else ``every + grace`` after it."""

    def __init__(self, every: float, grace: float) -> None:
        if every < 0 or grace < 0:
            raise ValueError(f"every={every!r}, grace={grace!r}: both must be >= 0 s")
        self.every, self.grace = every, grace
        self._lock = threading.Lock()
        self._last_sent = float("-inf")
        self._due: float | None = None

    def change(self, now: float) -> float | None:
        """A change happened at ``now``: when to send (``now``: at once), or None when a send already
        due will carry it."""
        with self._lock:
            if now >= self._last_sent + self.every:
                if self._due is not None and self._due <= now:
                    return None
                self._due = now
            elif self._due is None:
                self._due = self._last_sent + self.every + self.grace
            else:
                return None
            return self._due

    def take(self, now: float) -> bool:
        """Whether a send is due at ``now``; if it is, it is taken (the caller sends every change so
        far) and later changes wait ``every`` s from ``now``. A timer set for a send that was taken
        sooner finds none."""
        with self._lock:
            if self._due is None or self._due > now + EARLY:
                return False
            self._due = None
            self._last_sent = now
            return True
