"""Active collection tasks: the catalog's running and recent tasks (collect, backfill, jobs)."""

from __future__ import annotations

import pandas as pd
import panel as pn
import param

from app.runtime import Runtime
from oss20.schema import TZINFO
from oss20.storage.catalog import TaskRecord

COLUMNS = ["task", "kind", "symbols", "status", "received", "stored", "attempts", "updated", "error"]


def task_rows(tasks: list[TaskRecord]) -> pd.DataFrame:
    """One row per task, newest first, with the counters a trader looks at."""
    rows = [
        {
            "task": task.task_id[:8],
            "kind": task.kind,
            "symbols": ",".join(task.symbols),
            "status": task.status,
            "received": int(task.counters.get("received", 0)),
            "stored": int(task.counters.get("stored", 0)),
            "attempts": task.attempts,
            "updated": task.updated_at.astimezone(TZINFO).strftime("%Y-%m-%d %H:%M:%S"),
            "error": task.error or "",
        }
        for task in tasks
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


class ActiveTasks(pn.viewable.Viewer):
    """The tasks table, replaced only when the catalog's answer changed (every few seconds at most)."""

    period = param.Integer(default=2000, bounds=(500, 60_000), doc="Milliseconds between refreshes.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._shown: list[TaskRecord] = []
        self._table = pn.widgets.Tabulator(
            task_rows([]), show_index=False, disabled=True, sizing_mode="stretch_width", name="tasks"
        )
        self._callback = pn.state.add_periodic_callback(self._refresh, period=self.period, start=True)

    def _refresh(self) -> None:
        tasks = self._runtime.tasks
        if tasks != self._shown:
            self._shown = tasks
            self._table.value = task_rows(tasks)

    def __panel__(self) -> pn.viewable.Viewable:
        return self._table
