"""``oss20 serve``: every dashboard under one server, with login, /health and /metrics.

The dashboards are the notebooks in dashboards/; the market page is also the index. Logins are
required as soon as the catalog holds a user (``oss20 users add``); an OAuth provider can be used
instead through Panel's own settings (``OSS20_OAUTH_PROVIDER``, ``OSS20_OAUTH_KEY``,
``OSS20_OAUTH_SECRET``). Websocket connections are accepted only from the given origins.
"""

from __future__ import annotations

import logging
import os
import secrets
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import panel as pn

from app.auth import CatalogAuthProvider
from app.routes import HealthHandler, MetricsHandler
from app.runtime import Runtime

log = logging.getLogger(__name__)

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"
INDEX = "market"


def pages(directory: Path = DASHBOARDS) -> dict[str, str]:
    """URL slug -> notebook path for every dashboard, plus the index page at '/'."""
    found = {path.stem: str(path) for path in sorted(directory.glob("*.ipynb"))}
    if INDEX not in found:
        raise FileNotFoundError(f"no {INDEX}.ipynb in {directory}: the dashboards are missing")
    return {"/": found[INDEX], **found}


def _login(runtime: Runtime) -> dict[str, Any]:
    """Panel server options for logging in: OAuth when configured, the catalog's users when there are any."""
    provider = os.environ.get("OSS20_OAUTH_PROVIDER", "")
    if provider:
        return {
            "oauth_provider": provider,
            "oauth_key": os.environ.get("OSS20_OAUTH_KEY", ""),
            "oauth_secret": os.environ.get("OSS20_OAUTH_SECRET", ""),
            "oauth_encryption_key": os.environ.get("OSS20_OAUTH_ENCRYPTION_KEY") or None,
        }
    if runtime.catalog().users():
        return {"auth_provider": CatalogAuthProvider()}
    log.warning("no users in the catalog: every page is open, read-only (add one with `oss20 users add`)")
    return {}


def serve(port: int, address: str, origins: Sequence[str]) -> None:
    """Start the simulator and collector (or follow Redis), then serve until interrupted."""
    runtime = Runtime.shared()
    cookie_secret = os.environ.get("OSS20_COOKIE_SECRET") or secrets.token_hex(32)
    routes = [
        (r"/health", HealthHandler, {"runtime": runtime}),
        (r"/metrics", MetricsHandler, {"runtime": runtime}),
    ]
    try:
        pn.serve(
            pages(),
            port=port,
            address=address,
            websocket_origin=list(origins),
            show=False,
            title="oss20",
            cookie_secret=cookie_secret,
            extra_patterns=routes,
            **_login(runtime),
        )
    finally:
        runtime.close()


def main(argv: Sequence[str]) -> None:
    """``python -m app.server PORT ADDRESS [ORIGIN...]``: what ``oss20 serve`` runs (its options checked)."""
    port, address, *origins = argv
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    serve(int(port), address, origins)


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
