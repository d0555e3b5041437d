"""The symbol-day the tier view shows: one value every part may set (a heatmap cell, a table row,
the sidebar's inputs) and the tier view follows."""

from __future__ import annotations

import panel as pn
import param


class DaySelection(param.Parameterized):
    """A symbol and a day as typed or clicked (validated by whoever reads them)."""

    symbol = param.String(default="", doc="Ticker, e.g. AAPL.")
    day = param.String(default="", doc="Day, YYYY-MM-DD.")

    def choose(self, symbol: str, day: str) -> None:
        """Select ``symbol`` on ``day`` at once (one reaction, not two)."""
        self.param.update(symbol=symbol, day=day)


class DayPicker(pn.viewable.Viewer):
    """Inputs for the selection's symbol and day (they follow clicks elsewhere, too)."""

    def __init__(self, selection: DaySelection, **params: object) -> None:
        super().__init__(**params)
        self._inputs = pn.Column(
            pn.widgets.TextInput.from_param(selection.param.symbol, name="Symbol", placeholder="AAPL"),
            pn.widgets.TextInput.from_param(selection.param.day, name="Day", placeholder="YYYY-MM-DD"),
            name="day picker",
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return self._inputs
