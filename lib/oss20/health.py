"""Are the services the platform stands on answering? One probe each for Redis, the catalog and ArcticDB.

Probes are quick (short timeouts) and never raise: a service that does not answer is reported down,
with what went wrong, so a dashboard or a /health route can show it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import redis

from oss20.config import Settings
from oss20.storage.arctic import open_arctic
from oss20.storage.catalog import Catalog, CatalogUnavailable
from oss20.storage.redis_writer import connect, where

PROBE_TIMEOUT = 2.0


@dataclass(frozen=True)
class ServiceStatus:
    """One service: whether it answered, how fast, and what it is (or what went wrong)."""

    name: str
    up: bool
    detail: str
    latency_ms: float

    def as_dict(self) -> dict[str, object]:
        return {"up": self.up, "detail": self.detail, "latency_ms": round(self.latency_ms, 2)}


def probe_services(settings: Settings, catalog: Callable[[], Catalog]) -> dict[str, ServiceStatus]:
    """Redis (or the in-process bus), the catalog (as ``catalog()`` gives it) and ArcticDB, probed once."""
    return {
        "redis": _timed("redis", lambda: _redis(settings.redis_url)),
        "catalog": _timed("catalog", lambda: _catalog(catalog())),
        "arcticdb": _timed("arcticdb", lambda: _arctic(settings.resolved_arctic_uri)),
    }


def _timed(name: str, probe: Callable[[], str]) -> ServiceStatus:
    started = time.perf_counter()
    try:
        detail, up = probe(), True
    except (OSError, redis.RedisError, CatalogUnavailable, RuntimeError, ValueError) as exc:
        detail, up = f"{type(exc).__name__}: {exc}", False
    return ServiceStatus(name, up, detail, (time.perf_counter() - started) * 1000)


def _redis(url: str) -> str:
    if not url:
        return "in-process bus and cache"
    client = connect(url, timeout=PROBE_TIMEOUT)
    try:
        client.ping()
    finally:
        client.close()
    return where(url)


def _catalog(catalog: Catalog) -> str:
    return f"{catalog.dialect} schema {catalog.schema_version()}"


def _arctic(uri: str) -> str:
    libraries = open_arctic(uri).list_libraries()
    return f"{len(libraries)} libraries"
