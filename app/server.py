"""``oss20 serve``: every dashboard under one server, with login, /health and /metrics.

The dashboards are the notebooks in dashboards/; the market page is also the index. Logins are
required as soon as the catalog holds a user (``oss20 users add``); an OAuth provider can be used
instead through Panel's own settings (``OSS20_OAUTH_PROVIDER``, ``OSS20_OAUTH_KEY``,
``OSS20_OAUTH_SECRET``, ``OSS20_OAUTH_ENCRYPTION_KEY`` and those of ``OAUTH_OPTIONS``), the user's
role still coming from the catalog. Websocket connections are accepted only from the given origins.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import panel as pn

from app.auth import CatalogAuthProvider
from app.routes import HealthHandler, MetricsHandler
from app.runtime import Runtime

log = logging.getLogger(__name__)

DASHBOARDS = Path(__file__).resolve().parents[1] / "dashboards"
INDEX = "market"
OAUTH_OPTIONS = {
    "OSS20_OAUTH_REDIRECT_URI": "oauth_redirect_uri",
    "OSS20_OAUTH_JWT_USER": "oauth_jwt_user",
    "OSS20_OAUTH_EXTRA_PARAMS": "oauth_extra_params",
}
"""Optional OAuth settings -> Panel's server options: the URL the provider sends the browser back to
(this server's ``/login``; default its root), the field of the user's info that names them (default
``email``), and the provider's extra parameters as a JSON object (the generic provider's
``AUTHORIZE_URL``, ``TOKEN_URL``, ``USER_URL``, ``USER_KEY``; Azure's ``tenant``, GitLab's or Okta's
``url``, ``scope``...)."""


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
        _encrypt_tokens(os.environ.get("OSS20_OAUTH_ENCRYPTION_KEY", ""))
        return {
            "oauth_provider": provider,
            "oauth_key": os.environ.get("OSS20_OAUTH_KEY", ""),
            "oauth_secret": os.environ.get("OSS20_OAUTH_SECRET", ""),
            **oauth_options(os.environ),
        }
    if runtime.catalog().users():
        return {"auth_provider": CatalogAuthProvider()}
    log.warning("no users in the catalog: every page is open, read-only (add one with `oss20 users add`)")
    return {}


def oauth_options(environ: Mapping[str, str]) -> dict[str, Any]:
    """The ``OAUTH_OPTIONS`` set in ``environ``, as Panel's server options; ValueError naming the
    variable when ``OSS20_OAUTH_EXTRA_PARAMS`` is not a JSON object of strings.

    >>> oauth_options({"OSS20_OAUTH_REDIRECT_URI": "https://oss20.example/login"})
    {'oauth_redirect_uri': 'https://oss20.example/login'}
    >>> oauth_options({"OSS20_OAUTH_EXTRA_PARAMS": '{"TOKEN_URL": "https://idp.example/token"}'})
    {'oauth_extra_params': {'TOKEN_URL': 'https://idp.example/token'}}
    """
    options: dict[str, Any] = {}
    for name, option in OAUTH_OPTIONS.items():
        value = environ.get(name, "")
        if value and option == "oauth_extra_params":
            options[option] = _extra_params(name, value)
        elif value:
            options[option] = value
    return options


def _encrypt_tokens(key: str) -> None:
    """Encrypt the OAuth tokens Panel keeps in cookies with the Fernet ``key``
    (``OSS20_OAUTH_ENCRYPTION_KEY``; make one with ``panel oauth-secret``). ``pn.serve`` takes an
    ``oauth_encryption_key`` but never applies it (Panel 1.9), so this does what ``panel serve`` does."""
    if not key:
        log.warning("OAuth without OSS20_OAUTH_ENCRYPTION_KEY: tokens are kept in cookies unencrypted")
        return
    from cryptography.fernet import Fernet

    try:
        encryption = Fernet(key.encode("ascii"))
    except ValueError as err:
        raise ValueError(
            f"OSS20_OAUTH_ENCRYPTION_KEY is not a Fernet key ({err}); make one with `panel oauth-secret`"
        ) from None
    pn.config.oauth_encryption_key = key.encode("ascii")
    pn.state.encryption = encryption


def _extra_params(name: str, text: str) -> dict[str, Any]:
    try:
        params = json.loads(text)
    except ValueError as err:
        raise ValueError(
            f"{name} is not JSON ({err}): {text!r}; expected an object such as "
            '{"AUTHORIZE_URL": "https://idp.example/authorize"}'
        ) from None
    if not isinstance(params, dict) or not all(isinstance(v, str | list) for v in params.values()):
        raise ValueError(f"{name} must be a JSON object of strings (or lists for scope), got {text!r}")
    return params


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
