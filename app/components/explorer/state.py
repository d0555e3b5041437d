"""What the explorer shows, shared by its parts: the selection, its pager, and what the live day adds.

The picker sets ``selection`` and ``spec``; the state builds the selection's ``TickPager`` off the
server's event loop and, when the selection ends on the embedded collector's live day, looks about
once a second for ticks stored since: the pager takes in those that pass the filters and
``stored`` moves on to the last day's stored rows, so the grid and the chart read what they lack.
Parts watch these parameters and never each other's widgets.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

import panel as pn
import param

from app.runtime import Runtime
from oss20 import calendar
from oss20.bar_engine import BarSpec
from oss20.explore import Selection, TickPager, why_empty
from oss20.storage.arctic import TickStore

log = logging.getLogger(__name__)


def live_day(runtime: Runtime) -> dt.date:
    """The day the collector is collecting: the embedded simulator's, else the latest session."""
    simulator = runtime.simulator
    return simulator.day if simulator is not None else calendar.latest_session()


class ExplorerState(param.Parameterized):
    """The current selection of the explorer and what reading it gave (see the module docstring)."""

    selection = param.ClassSelector(class_=Selection, default=None, allow_None=True)
    spec = param.ClassSelector(class_=BarSpec, default=BarSpec.parse("5min"))
    pager = param.ClassSelector(class_=TickPager, default=None, allow_None=True, doc="Set once read.")
    problem = param.String(default="", doc="Why the selection shows nothing, for a person to read.")
    loading = param.Boolean(default=False)
    stored = param.Integer(default=0, doc="Rows stored on the selection's last day, as of the last look.")
    period = param.Integer(default=1000, bounds=(200, 10_000), doc="Milliseconds between looks.")

    def __init__(self, store: TickStore, live: dt.date, **params: object) -> None:
        super().__init__(**params)
        self.store = store
        self.live = live
        self._callback = pn.state.add_periodic_callback(self._look, period=self.period, start=True)

    @classmethod
    def of(cls, runtime: Runtime) -> ExplorerState:
        """The state of one browser session, reading the runtime's store and following its live day."""
        return cls(TickStore(runtime.settings.resolved_arctic_uri), live_day(runtime))

    @property
    def following(self) -> bool:
        """True when the selection ends on the live day, so new ticks keep arriving."""
        return self.pager is not None and self.pager.selection.last == self.live

    @param.depends("selection", watch=True)
    async def _read(self) -> None:
        selection = self.selection
        self.pager = None
        if selection is None:
            return
        self.loading = True
        try:
            pager = await asyncio.to_thread(TickPager, self.store, selection)
        finally:
            self.loading = False
        if selection is not self.selection:
            return  # a newer selection is being read
        problem = await asyncio.to_thread(why_empty, pager)
        if problem and selection.last == self.live and not pager.stored_days():
            problem = (
                f"no ticks of {selection.symbol} stored yet on {self.live}: "
                "they show as the collector stores them"
            )
        self.problem = problem
        with param.parameterized.batch_call_watchers(self):
            self.stored = pager.last_rows
            self.pager = pager

    async def _look(self) -> None:
        """Take in what the live day stored since the last look (nothing unless following)."""
        pager = self.pager
        if pager is None or not self.following or self.loading:
            return
        await asyncio.to_thread(pager.grow)
        if pager is self.pager and pager.last_rows > self.stored:
            self.stored = pager.last_rows
