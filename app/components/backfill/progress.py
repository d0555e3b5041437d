"""Live progress of the latest backfill run: its chunks, pending, running and ended, patched in place
about once a second as the catalog and the bus's collection events report them."""

from __future__ import annotations

from typing import Any

import pandas as pd
import panel as pn

from app.components.backfill.tasks import BackfillTasks
from app.components.validation.tables import sync
from oss20.backfill.overview import CHUNK_COLUMNS, chunk_rows, runs


class ChunkProgress(pn.viewable.Viewer):
    """The chunks of the latest run and how far it got; a new run replaces the rows, a chunk that
    moves on gets its cells patched."""

    def __init__(self, tasks: BackfillTasks, **params: Any) -> None:
        super().__init__(**params)
        self._tasks = tasks
        self._run = ""
        self._bar = pn.indicators.Progress(value=0, max=1, sizing_mode="stretch_width", name="run progress")
        self._summary = pn.pane.Markdown("No backfill has run yet.", name="run summary")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=CHUNK_COLUMNS),
            show_index=False,
            disabled=True,
            sizing_mode="stretch_width",
            height=240,
            name="chunks",
            css_classes=["oss20-chunks"],
        )
        tasks.param.watch(self._update, ["tasks", "outcomes"])

    def _rows(self) -> tuple[str, pd.DataFrame]:
        """The latest run's first task id and its rows, the bus's word on chunks the catalog has not
        caught up with folded in."""
        grouped = runs(self._tasks.tasks)
        if not grouped:
            return "", pd.DataFrame(columns=CHUNK_COLUMNS)
        latest = grouped[-1]
        rows = chunk_rows(latest)
        outcomes = self._tasks.outcomes
        for i, task in enumerate(latest):
            event = outcomes.get(task.task_id)
            if event is not None and task.status in ("pending", "running"):
                rows.loc[i, ["status", "received", "stored", "error"]] = [
                    event.status,
                    int(event.counters.get("received", 0)),
                    int(event.counters.get("stored", 0)),
                    event.message,
                ]
        return latest[0].task_id, rows

    def _update(self, *_: object) -> None:
        run, rows = self._rows()
        if not run:
            return
        if run != self._run:
            self._run = run
            self._table.value = rows
        else:
            sync(self._table, rows, ["task"])
        ended = int(rows["status"].isin(["done", "failed"]).sum())
        failed = int((rows["status"] == "failed").sum())
        total = max(len(rows), 1)
        if total >= self._bar.value:  # the bar checks its value against its max as each is set
            self._bar.param.update(max=total)
            self._bar.value = ended
        else:
            self._bar.value = ended
            self._bar.param.update(max=total)
        self._summary.object = (
            f"Latest run: {ended} of {len(rows)} chunks ended ({failed} failed), "
            f"{int(rows['stored'].sum()):,} ticks stored."
        )

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._summary, self._bar, self._table, sizing_mode="stretch_width")
