"""Settings: one object, read from OSS20_* environment variables.

Secrets (an IQFeed login, a database password in a URL) come from the environment or from
files outside the repository, and are never logged: ``Settings.__repr__`` masks them.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import param

ENV_PREFIX = "OSS20_"


BOOLEANS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}


class Settings(param.Parameterized):
    """Where data lives and where the feed and services are. Build with ``Settings.from_env()``."""

    data_dir = param.String(default="./data", doc="Root of embedded storage (LMDB, SQLite, journal).")
    arctic_uri = param.String(default="", doc="ArcticDB URI; empty means lmdb://<data_dir>/arctic.")
    catalog_url = param.String(
        default="", doc="postgresql://... or sqlite:///path; empty means SQLite in data_dir."
    )
    redis_url = param.String(
        default="", doc="redis://host:port/db; empty means the in-process bus and cache."
    )
    iqfeed_host = param.String(default="127.0.0.1", doc="IQConnect (or simulator) host.")
    level1_port = param.Integer(default=5009, bounds=(0, 65535), doc="Level 1 streaming port.")
    lookup_port = param.Integer(default=9100, bounds=(0, 65535), doc="Lookup and history port.")
    admin_port = param.Integer(default=9300, bounds=(0, 65535), doc="Admin port.")
    watchlist = param.String(default="", doc="Comma-separated symbols `oss20 collect` watches by default.")
    metrics_port = param.Integer(
        default=9464, bounds=(0, 65535), doc="Prometheus /metrics port of the collector (0 picks one)."
    )
    history_rate = param.Number(
        default=50.0,
        bounds=(0, None),
        inclusive_bounds=(False, True),
        doc="History requests per second shared by every worker and process (DTN allows about 50).",
    )
    dask_scheduler = param.String(
        default="",
        doc="Dask scheduler address (tcp://host:8786) that runs backfills; empty means a local pool.",
    )
    simulate = param.Boolean(
        default=True,
        doc="oss20 serve without Redis: run the simulator on the IQFeed ports (false: use IQConnect).",
    )
    protocol: param.Selector = param.Selector(
        default="6.2", objects=["6.0", "6.1", "6.2"], doc="IQFeed protocol version."
    )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read ``OSS20_<NAME>`` for every setting; unset ones keep their defaults."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name, parameter in cls.param.objects("existing").items():
            raw = environ.get(ENV_PREFIX + name.upper())
            if name == "name" or raw is None:
                continue
            if isinstance(parameter, param.Boolean):
                if raw.lower() not in BOOLEANS:
                    raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a boolean (true/false, 1/0)")
                values[name] = BOOLEANS[raw.lower()]
            elif isinstance(parameter, param.Integer):
                try:
                    values[name] = int(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not an integer") from None
            elif isinstance(parameter, param.Number):
                try:
                    values[name] = float(raw)
                except ValueError:
                    raise ValueError(f"{ENV_PREFIX}{name.upper()}={raw!r} is not a number") from None
            else:
                values[name] = raw
        return cls(**values)

    def as_dict(self) -> dict[str, Any]:
        """Every setting by name (what ``Settings(**...)`` takes back, e.g. on a Dask worker)."""
        return {name: value for name, value in self.param.values().items() if name != "name"}

    def replaced(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied; a name that is no setting raises ValueError."""
        values = self.as_dict()
        unknown = sorted(set(changes) - set(values))
        if unknown:
            raise ValueError(f"unknown settings {unknown}; expected some of {sorted(values)}")
        return Settings(**{**values, **changes})

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)

    @property
    def resolved_arctic_uri(self) -> str:
        return self.arctic_uri or f"lmdb://{(self.data_path / 'arctic').resolve()}"

    @property
    def resolved_catalog_url(self) -> str:
        return self.catalog_url or f"sqlite:///{(self.data_path / 'catalog.sqlite').resolve()}"

    def __repr__(self) -> str:
        shown = {
            name: _mask(str(getattr(self, name))) for name in self.param.objects("existing") if name != "name"
        }
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"

    __str__ = __repr__


def _mask(value: str) -> str:
    """Hide the password part of a URL (``scheme://user:secret@host``) and secret query options
    (``?secret=...``, as ArcticDB's S3 URIs carry them)."""
    hidden = re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", value)
    return re.sub(r"((?:secret|password|token)=)[^&;]+", r"\1***", hidden, flags=re.IGNORECASE)
