"""The tick grid: one page of the selection at a time, read from ArcticDB by row range.

The table never holds more than a page; the pager knows how many ticks match (millions are fine)
and reads a page in a thread, off the server's event loop. On the live day, new ticks that pass
the filters are streamed into the table while its last page is shown and not yet full.
"""

from __future__ import annotations

import asyncio

import pandas as pd
import panel as pn
import param
from bokeh.models.widgets.tables import NumberFormatter

from app.components.explorer.state import ExplorerState
from oss20.explore import TickPager
from oss20.schema import TICK_COLUMNS, empty_frame

FORMATTERS = {
    "price": NumberFormatter(format="0,0.00[00]"),
    "bid": NumberFormatter(format="0,0.00[00]"),
    "ask": NumberFormatter(format="0,0.00[00]"),
    "size": NumberFormatter(format="0,0"),
    "total_volume": NumberFormatter(format="0,0"),
}


def shown(ticks: pd.DataFrame) -> pd.DataFrame:
    """Ticks as the grid shows them: times to the microsecond in New York, as text."""
    return ticks.assign(timestamp=ticks["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f"))


class TickGrid(pn.viewable.Viewer):
    """Page through the selection's ticks: first, previous, next, last, or a page number."""

    page_size = param.Integer(default=100, bounds=(10, 1000), doc="Rows per page.")
    page = param.Integer(default=1, bounds=(1, None), doc="The page shown, from 1.")

    def __init__(self, state: ExplorerState, **params: object) -> None:
        super().__init__(**params)
        self._state = state
        self._table = pn.widgets.Tabulator(
            shown(empty_frame(TICK_COLUMNS)),
            show_index=False,
            disabled=True,
            formatters=FORMATTERS,
            pagination=None,
            sizing_mode="stretch_width",
            height=420,
            name="explorer-grid",
        )
        self._number = pn.widgets.IntInput(name="Page", value=1, start=1, width=110, placeholder="page")
        self._status = pn.pane.Markdown("", name="explorer-grid-status")
        buttons = {
            "« first": lambda: 1,
            "‹ previous": lambda: self.page - 1,
            "next ›": lambda: self.page + 1,
            "last »": lambda: self.pages,
        }
        self._buttons = []
        for label, target in buttons.items():
            button = pn.widgets.Button(name=label, width=90)
            button.on_click(lambda _, target=target: self._go(target()))
            self._buttons.append(button)
        self._number.param.watch(lambda event: self._go(event.new), "value")
        state.param.watch(self._reset, ["pager"])
        state.param.watch(self._grew, ["stored"])

    @property
    def pages(self) -> int:
        """Pages of the current selection (at least one)."""
        pager = self._state.pager
        return max(1, -(-pager.total // self.page_size)) if pager is not None else 1

    def _go(self, page: int | None) -> None:
        page = min(max(page or 1, 1), self.pages)
        if page != self.page:
            self.page = page
        elif self._number.value != page:
            self._number.value = page

    def _reset(self, *_: object) -> None:
        if self.page != 1:
            self.page = 1
        else:
            self.param.trigger("page")

    @param.depends("page", watch=True)
    async def _show(self) -> None:
        """Read the page shown (in a thread) and put it in the table."""
        pager, page = self._state.pager, self.page
        if self._number.value != page:
            self._number.value = page
        if pager is None:
            self._table.value = shown(empty_frame(TICK_COLUMNS))
            self._status.object = ""
            return
        start = (page - 1) * self.page_size
        rows = await asyncio.to_thread(pager.page, start, start + self.page_size)
        if pager is not self._state.pager or page != self.page:
            return  # the selection or the page changed while reading
        self._table.value = shown(rows)
        self._describe(pager)

    def _describe(self, pager: TickPager) -> None:
        start = (self.page - 1) * self.page_size
        shown_rows = len(self._table.value)
        span = f"rows {start + 1:,}–{start + shown_rows:,}" if shown_rows else "no rows"
        self._status.object = f"{span} of **{pager.total:,}** · page {self.page:,} of {self.pages:,}"

    async def _grew(self, *_: object) -> None:
        """New ticks on the live day: stream those that match into the page shown while it has room,
        and count them."""
        pager, page = self._state.pager, self.page
        if pager is None:
            return
        start = (page - 1) * self.page_size
        held = len(self._table.value)
        if start + held < pager.total and held < self.page_size:
            rows = await asyncio.to_thread(pager.page, start + held, start + self.page_size)
            if pager is not self._state.pager or page != self.page or len(self._table.value) != held:
                return
            self._table.stream(shown(rows), follow=False)
        self._describe(pager)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.Row(*self._buttons, self._number), self._status, self._table, name="grid")
