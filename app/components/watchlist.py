"""The live watchlist: one row per symbol, its changed cells rewritten in place about ten times a second."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from typing import ClassVar

import pandas as pd
import panel as pn
import param
from bokeh.document import Document
from panel.custom import JSComponent

from app.runtime import Runtime
from app.throttle import Throttle
from oss20.live_board import COLUMNS

GRACE = 0.03
"""Seconds past the period a held change waits for a later fold to go with (the freshest values)."""


def _price(value: float) -> str:
    """Thousands separated, 2 to 4 decimals (the trailing zeros of the last two dropped)."""
    text = f"{value:,.4f}"
    return text[:-2] + text[-2:].rstrip("0")


FORMATS: dict[str, Callable[[float], str]] = {
    "last": _price,
    "change": lambda value: f"{value:+,.2f}",
    "bid": _price,
    "ask": _price,
    "spread": _price,
    "volume": lambda value: f"{value:,.0f}",
    "ticks_per_s": lambda value: f"{value:,.1f}",
}
"""How each numeric column is shown (NaN shows empty)."""


def texts(frame: pd.DataFrame) -> list[list[str]]:
    """The board's rows as the page shows them: numbers formatted, the latest trade's time as
    HH:MM:SS, missing values empty; one list per row in ``COLUMNS`` order."""
    columns: list[list[str]] = []
    for name in COLUMNS:
        values = frame[name].tolist()
        if name in FORMATS:
            form = FORMATS[name]
            columns.append(["" if math.isnan(v) else form(v) for v in values])
        elif name == "time":
            columns.append(["" if pd.isna(v) else v.strftime("%H:%M:%S") for v in values])
        else:
            columns.append([str(v) for v in values])
    return [list(row) for row in zip(*columns, strict=True)]


class LiveTable(JSComponent):
    """A plain HTML table whose cells are rewritten only where their text changed.

    Lighter in the browser than a data grid that rebuilds and measures its rows on every update:
    fixed column widths, so a changed number never lays out more than its own cell.
    """

    fields = param.List(default=[], doc="Each column's field name, in order (the header and data-field).")
    numeric = param.List(default=[], doc="The fields aligned right.")
    rows = param.List(default=[], doc="The text of each cell, a list of strings per row.")

    _esm = """
    export function render({ model }) {
      const table = document.createElement("table")
      const head = table.createTHead().insertRow()
      for (const field of model.fields) {
        const th = document.createElement("th")
        th.textContent = field
        th.dataset.field = field
        if (model.numeric.includes(field)) th.className = "number"
        head.appendChild(th)
      }
      const body = table.createTBody()
      const draw = () => {
        const rows = model.rows
        while (body.rows.length > rows.length) body.deleteRow(-1)
        rows.forEach((texts, r) => {
          const row = body.rows[r] || body.insertRow()
          texts.forEach((text, c) => {
            let cell = row.cells[c]
            if (cell === undefined) {
              cell = row.insertCell()
              cell.dataset.field = model.fields[c]
              if (model.numeric.includes(model.fields[c])) cell.className = "number"
              cell.appendChild(document.createTextNode(""))
            }
            if (cell.firstChild.data !== text) cell.firstChild.data = text
          })
        })
      }
      draw()
      model.on("rows", draw)
      return table
    }
    """

    _stylesheets: ClassVar[list[str]] = [
        """
        table { width: 100%; table-layout: fixed; border-collapse: collapse; font-size: 14px;
                font-variant-numeric: tabular-nums; }
        th, td { padding: 6px 8px; border-bottom: 1px solid #e4e4e4; white-space: nowrap; overflow: hidden;
                 text-overflow: ellipsis; text-align: left; }
        th { font-weight: 600; border-bottom: 2px solid #c8c8c8; }
        .number { text-align: right; }
        """
    ]


class Watchlist(pn.viewable.Viewer):
    """Last, change, bid, ask, spread, volume, ticks/s and quality per symbol, from the live board.

    Served, the runtime's feeder tells this session of every fold and the session's event loop
    sends the new texts right after a fold: the first change after a quiet spell at once, later ones
    with the first fold at least ``period`` ms after the last send (``GRACE`` s later without one).
    In a notebook (no server session to push to) it refreshes every ``period`` ms. The page
    rewrites only the cells whose text changed.
    """

    period = param.Integer(default=100, bounds=(50, 5000), doc="Shortest time between two refreshes, ms.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._shown = runtime.frame()
        self._table = LiveTable(
            fields=COLUMNS,
            numeric=list(FORMATS),
            rows=texts(self._shown),
            sizing_mode="stretch_width",
            name="watchlist",
            css_classes=["oss20-watchlist"],
        )
        self._throttle = Throttle(self.period / 1e3, GRACE)
        doc = pn.state.curdoc
        if doc is not None and doc.session_context is not None:
            self._doc: Document = doc
            self._loop = asyncio.get_running_loop()
            self._live = True
            stop = runtime.watch(self._changed)
            doc.on_session_destroyed(lambda _: self._end(stop))
        else:
            pn.state.add_periodic_callback(self._refresh, period=self.period, start=True)

    def _end(self, stop: Callable[[], None]) -> None:
        """The session is gone: no more folds, and timers still set send nothing."""
        stop()
        self._live = False

    def _changed(self) -> None:
        """On the feeder thread, after a fold: have the server's loop send, now or when the throttle
        says (nothing when a send already due will carry this fold)."""
        due = self._throttle.change(time.monotonic())
        if due is not None:
            self._loop.call_soon_threadsafe(self._send_at, due)

    def _send_at(self, due: float) -> None:
        """On the loop: send now if ``due`` (monotonic s) has come, else set a plain timer for it (no
        document lock taken until a send is really due)."""
        wait = due - time.monotonic()
        if wait > 0:
            self._loop.call_later(wait, self._send)
        else:
            self._send()

    def _send(self) -> None:
        """Refresh the session if a send is still due (a timer's may have gone sooner, with a later
        fold), through its document so that the document is locked."""
        if self._live and self._throttle.take(time.monotonic()):
            self._doc.add_next_tick_callback(self._refresh)

    def _refresh(self) -> None:
        """Send the rows' texts if the board changed since the last refresh and they differ."""
        frame = self._runtime.frame()
        if frame is self._shown:
            return
        self._shown = frame
        rows = texts(frame)
        if rows != self._table.rows:
            self._table.rows = rows

    def __panel__(self) -> pn.viewable.Viewable:
        return self._table
