"""Export of the current selection (filters applied) as CSV or Parquet, with `oss20 ticks`' columns.

The file is read and written in a thread when the button is clicked, so a large selection does
not hold up the server's event loop.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable

import panel as pn

from app.components.explorer.state import ExplorerState
from oss20.explore import EXPORT_FORMATS, Selection, TickPager, write_ticks


def filename(selection: Selection, format: str) -> str:
    """``AAPL_2025-01-02.csv``, or ``AAPL_2025-01-02_2025-01-03_filtered.parquet`` for a filtered range."""
    days = f"{selection.first}" + (f"_{selection.last}" if selection.last != selection.first else "")
    return f"{selection.symbol}_{days}{'_filtered' if selection.filters.active else ''}.{format}"


def encoded(pager: TickPager, format: str) -> io.BytesIO:
    """Every matching tick of the pager's selection as a file in memory."""
    text = io.StringIO() if format == "csv" else None
    raw = io.BytesIO()
    write_ticks(pager.frame(), format, text if text is not None else raw)
    if text is not None:
        raw.write(text.getvalue().encode())
    raw.seek(0)
    return raw


class TickExport(pn.viewable.Viewer):
    """One download button per format for the ticks the grid pages through."""

    def __init__(self, state: ExplorerState, **params: object) -> None:
        super().__init__(**params)
        self._state = state
        self._buttons = {
            format: pn.widgets.FileDownload(
                callback=self._file(format),
                filename=f"ticks.{format}",
                label=f"Download {format.upper()}",
                button_type="primary",
                disabled=True,
                name=f"export-{format}",
            )
            for format in EXPORT_FORMATS
        }
        state.param.watch(self._name, ["pager"])

    def _file(self, format: str) -> Callable[[], Awaitable[io.BytesIO]]:
        """The button's callback: a coroutine function, so FileDownload runs it off the event loop."""

        async def make() -> io.BytesIO:
            pager = self._state.pager
            if pager is None:
                return io.BytesIO()
            return await asyncio.to_thread(encoded, pager, format)

        return make

    def _name(self, *_: object) -> None:
        pager = self._state.pager
        for format, button in self._buttons.items():
            button.disabled = pager is None or not pager.total
            if pager is not None:
                button.filename = filename(pager.selection, format)

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(pn.pane.Markdown("**Export the selection**"), *self._buttons.values(), name="export")
