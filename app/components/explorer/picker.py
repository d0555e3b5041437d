"""What to explore: symbol, day or date range, bar spec and column filters, checked as they are typed.

Anything that does not parse (an unknown or malformed symbol, a date that is not one, a range that
ends before it starts, a bar spec like "banana" or "volume:-5", an inverted filter range) shows as
a message on the page, never a traceback; the rest of the page keeps what it showed.
"""

from __future__ import annotations

import panel as pn
import param

from app.components.explorer.state import ExplorerState
from oss20.bar_engine import BarSpec
from oss20.explore import Filters, Selection
from oss20.market import MARKET_CENTERS, TRADE_CONDITIONS

SPEC_EXAMPLES = "1min, 5min, 1h, tick:500, volume:10000, dollar:1e6, tick_imbalance"


class SelectionPicker(pn.viewable.Viewer):
    """The explorer's inputs; sets ``state.selection`` and ``state.spec`` when what is typed is valid."""

    message = param.String(default="", doc="What is wrong with the inputs (empty when all parse).")

    def __init__(self, state: ExplorerState, symbol: str, day: str, **params: object) -> None:
        super().__init__(**params)
        self._state = state
        self._symbol = pn.widgets.TextInput(name="Symbol", value=symbol, placeholder="e.g. AAPL")
        self._first = pn.widgets.TextInput(name="Day, or first day", value=day, placeholder="YYYY-MM-DD")
        self._last = pn.widgets.TextInput(name="Last day (optional)", placeholder="YYYY-MM-DD")
        self._spec = pn.widgets.TextInput(name="Bar spec", value=state.spec.name, placeholder=SPEC_EXAMPLES)
        self._centers = pn.widgets.MultiChoice(
            name="Market centers (any if empty)",
            options={f"{code} {name}": code for code, name in MARKET_CENTERS.items()},
        )
        self._price_min = pn.widgets.FloatInput(name="Price from", value=None, placeholder="price ≥")
        self._price_max = pn.widgets.FloatInput(name="Price to", value=None, placeholder="price ≤")
        self._size_min = pn.widgets.IntInput(name="Size from", value=None, placeholder="size ≥")
        self._size_max = pn.widgets.IntInput(name="Size to", value=None, placeholder="size ≤")
        self._condition = pn.widgets.Select(
            name="Trade condition",
            options={
                "any": "",
                **{f"{code} {name.lower()}": code for code, name in TRADE_CONDITIONS.items()},
            },
        )
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, name="explorer-message")
        inputs = (self._symbol, self._first, self._last, self._spec, self._centers, self._condition)
        for widget in (*inputs, self._price_min, self._price_max, self._size_min, self._size_max):
            widget.sizing_mode = "stretch_width"
            widget.param.watch(self._check, "value")
        state.param.watch(self._show, ["problem"])
        self._check()

    def _check(self, *_: object) -> None:
        """Parse every input; hand a valid selection and spec to the state, or say what is wrong."""
        problems = []
        try:
            filters = Filters(
                market_centers=tuple(self._centers.value),
                price_min=self._price_min.value,
                price_max=self._price_max.value,
                size_min=self._size_min.value,
                size_max=self._size_max.value,
                condition=self._condition.value,
            )
            selection = Selection.parse(
                self._symbol.value, self._first.value, self._last.value.strip() or None, filters
            )
        except ValueError as err:
            problems.append(str(err))
            selection = None
        try:
            spec = BarSpec.parse(self._spec.value)
        except ValueError as err:
            problems.append(f"bar spec: {err}; the chart keeps {self._state.spec.name} bars")
        else:
            if spec != self._state.spec:
                self._state.spec = spec
        self.message = "\n\n".join(problems)
        if selection is not None and selection != self._state.selection:
            self._state.selection = selection
        self._show()

    def _show(self, *_: object) -> None:
        text = self.message or self._state.problem
        self._alert.object = text
        self._alert.alert_type = "danger" if self.message else "warning"
        self._alert.visible = bool(text)

    @property
    def alert(self) -> pn.pane.Alert:
        """The message pane (the page puts it above the chart, where it is seen)."""
        return self._alert

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            self._symbol,
            self._first,
            self._last,
            self._spec,
            pn.pane.Markdown("**Filters**"),
            self._centers,
            self._price_min,
            self._price_max,
            self._size_min,
            self._size_max,
            self._condition,
            sizing_mode="stretch_width",
            name="explorer-picker",
        )
