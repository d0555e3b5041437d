"""The gap list: every gap of the range with filters on symbol, reason and reachability; the rows
ticked (or the gaps of a clicked heatmap cell) are the selection a backfill fills."""

from __future__ import annotations

from typing import Any

import panel as pn

from app.components.backfill.state import Coverage
from oss20.backfill.gaps import REASONS

FILTERS = {
    "symbol": {"type": "input", "func": "like", "placeholder": "symbol"},
    "reason": {"type": "list", "valuesLookup": True, "clearable": True, "placeholder": "any reason"},
    "reachable": {"type": "tickCross", "tristate": True, "indeterminateValue": None},
}
"""Tabulator header filters: the symbol as typed, one reason (of ``gaps.REASONS``), reachable or not."""
REASON_NAMES = ", ".join(REASONS)


class GapList(pn.viewable.Viewer):
    """The gaps found, one row each (start and end in New York time); filters in the header."""

    def __init__(self, coverage: Coverage, **params: Any) -> None:
        super().__init__(**params)
        self._coverage = coverage
        self._table = pn.widgets.Tabulator(
            coverage.gaps,
            show_index=False,
            disabled=True,
            selectable="checkbox",
            header_filters=FILTERS,
            sizing_mode="stretch_width",
            height=300,
            name="gaps",
            css_classes=["oss20-gaps"],
        )
        self._empty = pn.pane.Markdown("", name="gaps status")
        coverage.param.watch(self._show, "gaps")
        coverage.param.watch(self._follow, "selected")
        self._table.param.watch(self._ticked, "selection")

    def _show(self, *_: object) -> None:
        gaps = self._coverage.gaps
        self._table.param.update(value=gaps, selection=[])
        self._empty.object = "" if len(gaps) else "**No gaps**: everything expected in the range is stored."

    def _follow(self, *_: object) -> None:
        """Tick the rows of the selected symbol-sessions (after a heatmap click)."""
        chosen = set(self._coverage.selected)
        gaps = self._table.value
        rows = [i for i, key in enumerate(zip(gaps["symbol"], gaps["session"], strict=True)) if key in chosen]
        if rows != self._table.selection:
            self._table.selection = rows

    def _ticked(self, *_: object) -> None:
        gaps = self._table.value.iloc[self._table.selection]
        pairs = sorted(set(zip(gaps["symbol"], gaps["session"], strict=True)))
        if pairs != sorted(self._coverage.selected):
            self._coverage.selected = pairs

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(
            pn.pane.Markdown(f"Reasons: {REASON_NAMES}. Tick rows (or click a heatmap cell) to select them."),
            self._empty,
            self._table,
            sizing_mode="stretch_width",
        )
