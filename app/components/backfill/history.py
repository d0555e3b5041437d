"""The history of backfill runs: one row per run (its owner, chunks done and failed, attempts, ticks
stored, seconds), newest first; the runs' figures are patched in place as they progress."""

from __future__ import annotations

from typing import Any

import panel as pn

from app.components.backfill.tasks import BackfillTasks
from app.components.validation.tables import sync
from oss20.backfill.overview import run_history


class RunHistory(pn.viewable.Viewer):
    """Backfill runs from the catalog's recent tasks (from this page, the CLI, jobs or elsewhere)."""

    def __init__(self, tasks: BackfillTasks, **params: Any) -> None:
        super().__init__(**params)
        self._tasks = tasks
        self._table = pn.widgets.Tabulator(
            run_history([]),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            height=220,
            name="runs",
            css_classes=["oss20-runs"],
        )
        tasks.param.watch(self._update, "tasks")

    def _update(self, *_: object) -> None:
        history = run_history(self._tasks.tasks)
        shown = self._table.value
        if list(zip(history["started"], history["owner"], strict=True)) != list(
            zip(shown["started"], shown["owner"], strict=True)
        ):
            self._table.value = history  # a run began (it goes on top) or fell out of the read
        else:
            sync(self._table, history, ["started", "owner"])

    def __panel__(self) -> pn.viewable.Viewable:
        return self._table
