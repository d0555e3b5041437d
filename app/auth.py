"""Who is looking: login against the catalog's users (salted password hashes) and their roles.

Served with users in the catalog, every page needs a login (Panel's basic-auth pages, checked against
the catalog rather than a plain-text file); the role comes from the catalog on each session. With an
OAuth provider (``OSS20_OAUTH_PROVIDER``) the provider says who is looking and the catalog still says
their role: a user it does not know is a viewer. Served with no users, and inside Jupyter, nobody
logs in and everybody is a viewer: read-only.
"""

from __future__ import annotations

import logging

import panel as pn
from panel.auth import BasicAuthProvider, BasicLoginHandler

from app.runtime import Runtime
from oss20.passwords import at_least
from oss20.storage.catalog import CatalogUnavailable

log = logging.getLogger(__name__)

OPEN_ROLE = "viewer"
"""The role of a page nobody logged in to (no users configured, or a notebook)."""


class CatalogLoginHandler(BasicLoginHandler):
    """Panel's login page, with the password checked against the catalog's hash."""

    def _validate(self, username: str, password: str) -> bool:
        try:
            role = Runtime.shared().catalog().authenticate(username, password)
        except CatalogUnavailable as exc:
            log.warning("login refused: catalog unavailable error=%s", exc)
            return False
        if role is None:
            log.info("login failed user=%s", username)
            return False
        log.info("login user=%s role=%s", username, role)
        return True


class CatalogAuthProvider(BasicAuthProvider):
    """Basic auth whose users and passwords live in the catalog."""

    @property
    def login_handler(self) -> type[BasicLoginHandler]:
        CatalogLoginHandler._login_endpoint = self._login_endpoint
        CatalogLoginHandler._login_template = self._login_template
        return CatalogLoginHandler


def current_user() -> str | None:
    """The logged-in user of this session, or None when nobody logs in."""
    user = pn.state.user
    return None if user in (None, "guest") else str(user)


def current_role(runtime: Runtime) -> str:
    """The role of this session's user, read from the catalog (a user removed meanwhile is a viewer)."""
    user = current_user()
    if user is None:
        return OPEN_ROLE
    try:
        return runtime.catalog().role(user) or OPEN_ROLE
    except CatalogUnavailable:
        return OPEN_ROLE


def allowed(runtime: Runtime, required: str) -> bool:
    """Whether this session's user may do what ``required`` (a role) may."""
    return at_least(current_role(runtime), required)
