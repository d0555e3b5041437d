"""The "Backfill selection" button: fills every gap of the selected symbol-sessions, for traders and
admins only (checked again on the server when clicked), off the event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import panel as pn
import param

from app.auth import allowed, current_role, current_user
from app.components.backfill.launch import REQUIRED, backfill, refused
from app.components.backfill.state import Coverage
from app.runtime import Runtime
from oss20.iqfeed.client import IQFeedError
from oss20.storage.catalog import CatalogUnavailable

log = logging.getLogger(__name__)


class BackfillActions(pn.viewable.Viewer):
    """Start a backfill of the selection and say how it went; viewers see why they cannot."""

    running = param.Boolean(default=False, doc="A backfill started here is under way.")

    def __init__(self, runtime: Runtime, coverage: Coverage, **params: Any) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._coverage = coverage
        self._message = pn.pane.Alert("", alert_type="light", visible=False, name="backfill message")

    def _say(self, text: str, kind: str = "success") -> None:
        self._message.param.update(object=text, alert_type=kind, visible=True)

    async def start(self, _: object = None) -> None:
        """Fill the gaps of the selected symbol-sessions, then look at the range again."""
        if refused(self._runtime, self._message) or self.running:
            return
        cells = list(self._coverage.selected)
        if not cells:
            self._say("Select gaps first: tick rows of the gap list or click a heatmap cell.", "warning")
            return
        self.running = True
        self._say(f"Backfilling {len(cells)} symbol-sessions...", "info")
        try:
            outcomes = await asyncio.to_thread(backfill, self._runtime, cells, self._coverage.extended_hours)
        except (IQFeedError, CatalogUnavailable, OSError, TimeoutError, ValueError) as err:
            self._say(f"The backfill could not run: {err}", "danger")
            return
        finally:
            self.running = False
        failed = [o for o in outcomes if o.status == "failed"]
        stored = sum(o.stored for o in outcomes)
        log.info(
            "backfill from dashboard cells=%d chunks=%d failed=%d by=%s",
            len(cells),
            len(outcomes),
            len(failed),
            current_user(),
        )
        if not outcomes:
            self._say(
                "Nothing to fill: the selection's gaps are stored, out of reach, or being filled already.",
                "info",
            )
        elif failed:
            self._say(
                f"{len(outcomes) - len(failed)} chunks done, {len(failed)} failed (see below; retry "
                f"them); {stored:,} ticks stored.",
                "warning",
            )
        else:
            self._say(
                f"Backfilled {len(outcomes)} chunks of {len(cells)} symbol-sessions: {stored:,} ticks stored."
            )
        await self._coverage.refresh()

    def __panel__(self) -> pn.viewable.Viewable:
        if not allowed(self._runtime, REQUIRED):
            role = current_role(self._runtime)
            return pn.pane.Markdown(
                f"Backfills are started by traders and admins; you are a **{role}**.", name="backfill"
            )
        button = pn.widgets.Button(
            name="Backfill selection", button_type="primary", disabled=self.param.running
        )
        button.on_click(self.start)
        return pn.Column(button, self._message, name="backfill", sizing_mode="stretch_width")
