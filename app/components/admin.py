"""Admin actions: change the catalog's configuration and start the validation job of the live day.

Only an admin sees the controls, and every action checks the role again on the server before it
runs (a hidden button is not a permission). Jobs run on a worker thread, never the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging

import pandas as pd
import panel as pn
import param

from app.auth import allowed, current_role, current_user
from app.runtime import Runtime
from oss20 import validate
from oss20.storage.catalog import CatalogUnavailable

log = logging.getLogger(__name__)

REQUIRED = "admin"


class AdminActions(pn.viewable.Viewer):
    """Configuration (key -> JSON value) and the day's validation job, for admins only."""

    key = param.String(default="", doc="Configuration key to set.")
    value = param.String(default="", doc="Its new value, as JSON.")
    running = param.Boolean(default=False, doc="A job started here is under way.")

    def __init__(self, runtime: Runtime, **params: object) -> None:
        super().__init__(**params)
        self._runtime = runtime
        self._message = pn.pane.Alert("", alert_type="light", visible=False, name="admin message")
        self._config = pn.widgets.Tabulator(
            pd.DataFrame(columns=["key", "value"]), show_index=False, disabled=True, name="configuration"
        )

    def _say(self, text: str, kind: str = "success") -> None:
        self._message.object, self._message.alert_type, self._message.visible = text, kind, True

    def _refuse(self) -> bool:
        """True (and a message) when this session's user is not an admin."""
        if allowed(self._runtime, REQUIRED):
            return False
        self._say(f"Only an admin may do this; you are a {current_role(self._runtime)}.", "danger")
        return True

    async def _show_config(self) -> None:
        try:
            config = await asyncio.to_thread(lambda: self._runtime.catalog().config())
        except CatalogUnavailable as exc:
            self._say(f"The catalog is unavailable: {exc}", "danger")
            return
        self._config.value = pd.DataFrame(
            [{"key": k, "value": json.dumps(v)} for k, v in config.items()], columns=["key", "value"]
        )

    async def save(self, _: object = None) -> None:
        """Store ``value`` (JSON) under ``key`` in the catalog's configuration."""
        if self._refuse():
            return
        key = self.key.strip()
        try:
            value = json.loads(self.value)
        except ValueError as exc:
            self._say(f'The value is not JSON ({exc}); e.g. 50, "AAPL" or ["AAPL", "MSFT"].', "danger")
            return
        if not key:
            self._say("Give the configuration key to set.", "danger")
            return
        try:
            await asyncio.to_thread(lambda: self._runtime.catalog().set_config(key, value))
        except (CatalogUnavailable, ValueError, TypeError) as exc:
            self._say(f"Not saved: {exc}", "danger")
            return
        log.info("config set key=%s by=%s", key, current_user())
        self._say(f"Saved {key} = {json.dumps(value)}.")
        await self._show_config()

    async def validate_day(self, _: object = None) -> None:
        """Validate the live day's stored ticks of the watchlist and record the results."""
        if self._refuse() or self.running:
            return
        runtime = self._runtime
        day = runtime.live_day()
        self.running = True
        self._say(f"Validating {len(runtime.symbols)} symbols on {day}...", "info")
        try:
            reports = await asyncio.to_thread(
                validate.run,
                runtime.symbols,
                day,
                day,
                runtime.feed_settings(),
                bus=runtime.bus,
                cache=runtime.cache,
            )
        except (ValueError, CatalogUnavailable, OSError) as exc:
            self._say(f"The validation job failed: {exc}", "danger")
            return
        finally:
            self.running = False
        log.info("validation job day=%s reports=%d by=%s", day, len(reports), current_user())
        self._say(f"Validated {len(reports)} symbol-days of {day}.")

    def __panel__(self) -> pn.viewable.Viewable:
        if not allowed(self._runtime, REQUIRED):
            role = current_role(self._runtime)
            return pn.pane.Markdown(
                f"Administration needs the admin role; you are a **{role}**.", name="admin"
            )
        pn.state.execute(self._show_config)
        key = pn.widgets.TextInput.from_param(self.param.key, name="Key", placeholder="history_per_second")
        value = pn.widgets.TextInput.from_param(self.param.value, name="Value (JSON)", placeholder="50")
        save = pn.widgets.Button(name="Save setting", button_type="primary")
        save.on_click(self.save)
        job = pn.widgets.Button(
            name="Validate the live day", button_type="warning", disabled=self.param.running
        )
        job.on_click(self.validate_day)
        return pn.Column(
            pn.Row(key, value, save),
            self._config,
            job,
            self._message,
            name="admin",
            sizing_mode="stretch_width",
        )
