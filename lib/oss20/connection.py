"""``oss20.connect``: the one place a notebook opens the store, and the settings every verb then uses.

Without a call, the verbs use ``Settings.from_env()`` (embedded storage under ./data by default).
``connect`` opens the store at once, so a wrong path or URI is reported where it was given.
"""

from __future__ import annotations

import threading
from typing import Any

from oss20.config import Settings
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import open_catalog

_lock = threading.Lock()


class Connection:
    """An opened store: its settings and what it holds. The module's verbs use the latest one."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def symbols(self) -> list[str]:
        """Symbols with stored ticks."""
        return TickStore(self.settings.resolved_arctic_uri).symbols()

    def __repr__(self) -> str:
        symbols = self.symbols()
        shown = ", ".join(symbols[:10]) + (", ..." if len(symbols) > 10 else "")
        return (
            f"oss20 store {self.settings.resolved_arctic_uri}\n"
            f"  catalog on {self.settings.resolved_catalog_url.split(':', 1)[0]}\n"
            f"  bus and cache {'Redis' if self.settings.redis_url else 'in-process'}\n"
            f"  IQFeed {self.settings.iqfeed_host}:{self.settings.level1_port}/"
            f"{self.settings.lookup_port}/{self.settings.admin_port}\n"
            f"  {len(symbols)} symbols with ticks{': ' + shown if symbols else ''}"
        )


_current: Connection | None = None


def connect(data_dir: str | None = None, **settings: Any) -> Connection:
    """Open the store and make it the one ``oss20.ticks``, ``bars``, ``sql`` and the others use.

    ``data_dir`` (embedded storage root) and any other ``Settings`` name (``arctic_uri``,
    ``catalog_url``, ``redis_url``, ``iqfeed_host``, ``lookup_port``...) override ``OSS20_*``
    from the environment; with nothing at all it opens ./data. Raises ValueError on an unknown
    setting and OSError (or ArcticDB's error) when the store cannot be opened.

    >>> import tempfile
    >>> oss20.connect(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    oss20 store lmdb:///.../arctic
      catalog on sqlite
      bus and cache in-process
      IQFeed 127.0.0.1:5009/9100/9300
      0 symbols with ticks
    """
    if data_dir is not None:
        settings["data_dir"] = str(data_dir)
    opened = Settings.from_env().replaced(**settings)
    TickStore(opened.resolved_arctic_uri)
    with open_catalog(opened.resolved_catalog_url):
        pass
    global _current
    with _lock:
        _current = Connection(opened)
    return _current


def use(settings: Settings) -> Connection:
    """Make ``settings`` the ones the verbs (and the latest ``Connection``) use from now on."""
    global _current
    with _lock:
        if _current is None:
            _current = Connection(settings)
        _current.settings = settings
        return _current


def current() -> Settings:
    """The settings of the latest ``connect``, else those of the environment."""
    with _lock:
        return _current.settings if _current is not None else Settings.from_env()
