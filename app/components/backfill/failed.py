"""Failed backfill chunks with their error, and a Retry button per chunk for traders and admins (the
role is checked again on the server); a retry runs the chunk again under its own task."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pandas as pd
import panel as pn

from app.auth import allowed, current_user
from app.components.backfill.launch import REQUIRED, refused, retry
from app.components.backfill.tasks import BackfillTasks
from app.runtime import Runtime
from oss20.backfill.overview import CHUNK_COLUMNS, chunk_rows, task_chunk
from oss20.iqfeed.client import IQFeedError
from oss20.storage.catalog import CatalogUnavailable

log = logging.getLogger(__name__)

COLUMNS = [c for c in CHUNK_COLUMNS if c not in ("status", "received", "stored")]


class FailedChunks(pn.viewable.Viewer):
    """Every recent chunk whose last attempt failed, newest first."""

    def __init__(self, runtime: Runtime, tasks: BackfillTasks, **params: Any) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._tasks = tasks
        self._may = allowed(runtime, REQUIRED)
        self._message = pn.pane.Alert("", alert_type="light", visible=False, name="retry message")
        self._table = pn.widgets.Tabulator(
            pd.DataFrame(columns=COLUMNS),
            show_index=False,
            disabled=True,
            buttons={"retry": '<span class="oss20-retry">Retry</span>'} if self._may else {},
            sizing_mode="stretch_width",
            height=200,
            name="failed chunks",
            css_classes=["oss20-failed"],
        )
        self._table.on_click(self._clicked)
        self._empty = pn.pane.Markdown("No failed chunks.", name="failed status")
        tasks.param.watch(self._update, "tasks")

    def _update(self, *_: object) -> None:
        rows = chunk_rows(t for t in self._tasks.tasks if t.status == "failed")[COLUMNS]
        if not rows.equals(self._table.value):
            self._table.value = rows
        self._empty.visible = rows.empty

    async def _clicked(self, event: Any) -> None:
        if getattr(event, "column", None) != "retry":
            return
        task_id = str(self._table.value.iloc[event.row]["task"])
        await self.retry(task_id)

    async def retry(self, task_id: str) -> None:
        """Run the failed chunk ``task_id`` again (trader or admin only)."""
        if refused(self._runtime, self._message):
            return
        task = next((t for t in self._tasks.tasks if t.task_id == task_id), None)
        if task is None or task.status != "failed":
            self._message.param.update(
                object=f"Chunk {task_id} is no longer failed.", alert_type="info", visible=True
            )
            return
        chunk = task_chunk(task)
        where = f"{chunk.symbol} {chunk.session} {chunk.start:%H:%M}-{chunk.end:%H:%M}"
        self._message.param.update(object=f"Retrying {where}...", alert_type="info", visible=True)
        try:
            outcomes = await asyncio.to_thread(retry, self._runtime, [(task_id, chunk)])
        except (IQFeedError, CatalogUnavailable, OSError, TimeoutError, ValueError) as err:
            self._message.param.update(object=f"The retry could not run: {err}", alert_type="danger")
            return
        outcome = outcomes[0]
        log.info("backfill retry task=%s status=%s by=%s", task_id, outcome.status, current_user())
        if outcome.status == "done":
            text, kind = f"Retried {where}: done, {outcome.stored:,} ticks stored.", "success"
        else:
            text, kind = f"Retried {where}: failed again ({outcome.error}).", "danger"
        self._message.param.update(object=text, alert_type=kind)
        await self._tasks.read()

    def __panel__(self) -> pn.viewable.Viewable:
        return pn.Column(self._message, self._empty, self._table, sizing_mode="stretch_width")
