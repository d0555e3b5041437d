"""The watchdog's judgement, kept pure: is the feed sick, and which symbol has gone quiet for far longer
than it usually does.

``FeedHealth`` reads what IQConnect says about its link to DTN (admin ``S,STATS`` and the
``S,SERVER ...`` messages); ``GapWatch`` learns each symbol's usual gap between updates. The collector
feeds them what it reads and acts on their answers: re-watch, then fill the missed window from history.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from oss20.iqfeed.protocol import FeedState


class Change(enum.Enum):
    """What one look at the feed's state changed."""

    NONE = "none"
    SICK = "sick"  # the feed has just been seen sick
    RECOVERED = "recovered"  # the feed is well again after a sick spell
    BLIP = "blip"  # IQConnect reconnected to DTN between two stats: sick and well again at once


@dataclass
class FeedHealth:
    """IQConnect's link to DTN: sick while it reports Not Connected, and for a moment when its reconnect
    count rises with no spell seen since the previous stats."""

    sick: bool = False
    spells: int = 0  # sick spells seen, blips included
    reconnects: int | None = None  # the reconnect count of the latest stats
    _explained: bool = field(default=False, repr=False)  # a change or noted interruption since the last stats

    def observe(self, state: FeedState) -> Change:
        """Take one state (a stats line or a server message) and say what it changed."""
        rose = False
        if state.reconnects is not None:
            rose = self.reconnects is not None and state.reconnects > self.reconnects
            self.reconnects = state.reconnects
        change = Change.NONE
        if not state.connected and not self.sick:
            self.sick, change = True, Change.SICK
        elif state.connected and self.sick:
            self.sick, change = False, Change.RECOVERED
        elif state.connected and rose and not self._explained:
            change = Change.BLIP
        if change in (Change.SICK, Change.BLIP):
            self.spells += 1
        if change is not Change.NONE:
            self._explained = True  # the reconnect count may rise with the next stats
        elif state.reconnects is not None:
            self._explained = False
        return change

    def noted(self) -> None:
        """An interruption handled elsewhere (the Level 1 stream reconnected): the reconnect count rising
        with it is no new spell."""
        self._explained = True


class GapWatch:
    """Each symbol's usual gap between updates, learned online, and the symbols silent far past it.

    A symbol's limit is ``factor`` times the ``quantile`` of its last ``keep`` gaps (seconds), never below
    ``floor``; until it has ``warmup`` gaps, ``factor`` times the longer of ``floor`` and its longest gap
    so far. Each time a symbol is named silent its limit
    doubles until it speaks again, so a merely quiet symbol is not re-watched over and over. Gaps that
    span an outage or a re-watch are not learned.
    """

    def __init__(
        self,
        floor: float = 5.0,
        factor: float = 4.0,
        quantile: float = 0.95,
        keep: int = 256,
        warmup: int = 16,
    ) -> None:
        if floor <= 0 or factor < 1 or not 0 < quantile <= 1 or keep < 1 or warmup < 1:
            raise ValueError(
                f"GapWatch(floor={floor}, factor={factor}, quantile={quantile}, keep={keep}, "
                f"warmup={warmup}): expected floor > 0, factor >= 1, 0 < quantile <= 1, keep and warmup >= 1"
            )
        self.floor, self.factor, self.quantile = floor, factor, quantile
        self.keep, self.warmup = keep, warmup
        self._last: dict[str, float] = {}
        self._gaps: dict[str, deque[float]] = {}
        self._strikes: dict[str, int] = {}
        self._skip: set[str] = set()  # symbols whose next gap is not learned

    def seen(self, symbols: Iterable[str], now: float) -> None:
        """``symbols`` had updates that arrived at ``now`` (seconds)."""
        for symbol in symbols:
            last = self._last.get(symbol)
            if last is not None and symbol not in self._skip:
                gaps = self._gaps.get(symbol)
                if gaps is None:
                    gaps = self._gaps[symbol] = deque(maxlen=self.keep)
                gaps.append(now - last)
            self._skip.discard(symbol)
            self._strikes.pop(symbol, None)
            self._last[symbol] = now

    def expect(self, symbols: Iterable[str], now: float) -> None:
        """Count the silence of the ``symbols`` never seen from ``now`` (one silent from its watch on)."""
        for symbol in symbols:
            if symbol not in self._last:
                self._last[symbol] = now
                self._skip.add(symbol)

    def restart(self, now: float) -> None:
        """Count every symbol's silence from ``now`` and learn no gap across it (after an outage)."""
        for symbol in self._last:
            self._last[symbol] = now
        self._skip.update(self._last)
        self._strikes.clear()

    def limit(self, symbol: str) -> float:
        """Seconds of silence past which ``symbol`` is stalled (before doubling)."""
        gaps = self._gaps.get(symbol, ())
        if len(gaps) < self.warmup:
            return self.factor * max(self.floor, max(gaps, default=0.0))
        usual = float(np.quantile(np.fromiter(gaps, float, len(gaps)), self.quantile))
        return max(self.floor, self.factor * usual)

    def silent(self, now: float) -> list[str]:
        """The symbols silent at ``now`` past their limit (doubled per earlier naming in this silence)."""
        named = []
        for symbol, last in self._last.items():
            backoff = 2 ** self._strikes.get(symbol, 0)
            silence = now - last
            if silence <= self.floor * backoff:
                continue
            if silence > self.limit(symbol) * backoff:
                self._strikes[symbol] = self._strikes.get(symbol, 0) + 1
                self._skip.add(symbol)
                named.append(symbol)
        return named
