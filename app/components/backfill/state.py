"""What one browser session of the backfill page looks at: the range asked for, the gaps and coverage
found in it (read off the event loop), and the symbol-days selected for a backfill."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

import pandas as pd
import param

from app.runtime import Runtime
from oss20 import calendar
from oss20.backfill.coverage import find
from oss20.backfill.gaps import Gap
from oss20.backfill.overview import GAP_COLUMNS, GRID_COLUMNS, coverage_grid, gap_rows, stored_days
from oss20.iqfeed.client import Endpoint, IQFeedError, feed_time
from oss20.storage.catalog import CatalogUnavailable
from oss20.symbols import validate_symbol

log = logging.getLogger(__name__)

DEFAULT_SESSIONS = 5
"""Sessions before the live day the page looks at until told otherwise."""
MAX_SESSIONS = 250
"""Most sessions one look may span (one heatmap column each, one feed request per symbol-session)."""


@dataclass(frozen=True)
class Request:
    """A checked range: symbols, first and last session, extended hours or not."""

    symbols: list[str]
    first: dt.date
    last: dt.date
    extended_hours: bool


class Coverage(param.Parameterized):
    """The range as typed, and the gaps and coverage found in it.

    ``refresh`` checks the input (a bad symbol or date, or a range that ends before it starts, sets
    ``error`` and finds nothing), asks the feed for its clock (what "now" means for tick history's
    reach: the simulator's day need not be today), and finds the gaps in a thread.
    """

    symbols = param.String(default="", doc="Comma-separated tickers, e.g. AAPL,MSFT.")
    first = param.String(default="", doc="First session, YYYY-MM-DD.")
    last = param.String(default="", doc="Last session, YYYY-MM-DD.")
    extended_hours = param.Boolean(
        default=False, doc="Look for gaps from 04:00 to 20:00, not only 09:30-16:00."
    )
    grid = param.DataFrame(default=pd.DataFrame(columns=GRID_COLUMNS), doc="Coverage per symbol-session.")
    gaps = param.DataFrame(default=pd.DataFrame(columns=GAP_COLUMNS), doc="The gap list.")
    selected = param.List(default=[], doc="(symbol, ISO session) pairs chosen for a backfill.")
    now = param.String(default="", doc="The feed's clock when the gaps were found.")
    error = param.String(default="", doc="Why nothing could be found, if so.")
    busy = param.Boolean(default=False, doc="Gaps are being looked for.")
    loaded = param.Boolean(default=False, doc="Gaps have been looked for at least once.")

    def __init__(self, runtime: Runtime, **params: Any) -> None:
        last = calendar.sessions(runtime.live_day() - dt.timedelta(days=14), runtime.live_day())[:-1]
        days = last[-DEFAULT_SESSIONS:] or [runtime.live_day()]
        defaults = {"symbols": ",".join(runtime.symbols), "first": str(days[0]), "last": str(days[-1])}
        super().__init__(**{**defaults, **params})
        self.runtime = runtime
        self.found: list[Gap] = []

    def request(self) -> Request:
        """The range as typed, checked; raises ValueError saying what is wrong and what would be right."""
        symbols = [validate_symbol(s) for s in self.symbols.split(",") if s.strip()]
        if not symbols:
            raise ValueError("Give at least one symbol, e.g. AAPL,MSFT.")
        first, last = (
            self._date(text, label) for text, label in ((self.first, "First"), (self.last, "Last"))
        )
        if first > last:
            raise ValueError(f"The range ends ({last}) before it starts ({first}); swap the two dates.")
        if len(calendar.sessions(first, last)) > MAX_SESSIONS:
            raise ValueError(f"{first} to {last} spans more than {MAX_SESSIONS} sessions; ask for fewer.")
        return Request(sorted(set(symbols), key=symbols.index), first, last, self.extended_hours)

    @staticmethod
    def _date(text: str, label: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text.strip())
        except ValueError:
            raise ValueError(
                f"{label} day {text!r} is not a date; expected YYYY-MM-DD, e.g. 2025-01-02."
            ) from None

    def choose(self, symbol: str, session: str) -> None:
        """Select the gaps of one symbol-session (a heatmap click)."""
        self.selected = [(symbol, session)]

    async def refresh(self, _: object = None) -> None:
        """Find the gaps of the range as typed, off the event loop."""
        if self.busy:
            return
        try:
            asked = self.request()
        except ValueError as err:
            self.param.update(error=str(err), loaded=True)
            return
        self.busy = True
        try:
            now, gaps, grid = await asyncio.to_thread(self._find, asked)
        except (IQFeedError, CatalogUnavailable, OSError, TimeoutError, ValueError) as err:
            log.warning("gaps not found error=%s", err)
            self.param.update(error=f"Gaps could not be found: {err}", loaded=True)
            return
        finally:
            self.busy = False
        self.found = gaps
        self.param.update(
            grid=grid,
            gaps=gap_rows(gaps),
            selected=[],
            now=now.strftime("%Y-%m-%d %H:%M:%S"),
            error="",
            loaded=True,
        )

    def _find(self, asked: Request) -> tuple[pd.Timestamp, list[Gap], pd.DataFrame]:
        settings = self.runtime.feed_settings()
        now = asyncio.run(feed_time(Endpoint.from_settings(settings)))
        gaps = find(asked.symbols, asked.first, asked.last, settings, now, asked.extended_hours)
        ticks, bars = stored_days(settings.resolved_arctic_uri, asked.symbols, asked.first, asked.last)
        grid = coverage_grid(asked.symbols, calendar.sessions(asked.first, asked.last), gaps, ticks, bars)
        return now, gaps, grid
