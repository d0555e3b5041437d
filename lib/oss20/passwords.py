"""Password hashing for the dashboards' users (scrypt, salted), and the roles a user can hold.

Only hashes are stored (in the catalog's ``users`` table); a password never is, nor is it logged.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

ROLES = ("viewer", "trader", "admin")
"""From least to most allowed: viewers look, traders also schedule backfills, admins also change
configuration and start or stop jobs."""

_N, _R, _P = 2**14, 8, 1
_SCHEME = "scrypt"


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash`` for ``password`` with a fresh random salt."""
    if not password:
        raise ValueError("a password must not be empty")
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"{_SCHEME}${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (from ``hash_password``); False for any malformed hash."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != _SCHEME:
            return False
        candidate = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, bytes.fromhex(digest))


def at_least(role: str, required: str) -> bool:
    """Whether ``role`` may do what ``required`` may (roles are ordered viewer < trader < admin)."""
    for name in (role, required):
        if name not in ROLES:
            raise ValueError(f"unknown role {name!r}: expected one of {', '.join(ROLES)}")
    return ROLES.index(role) >= ROLES.index(required)
