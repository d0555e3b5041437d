"""Password hashes verify only their own password, and roles are ordered viewer < trader < admin."""

from __future__ import annotations

import pytest

from oss20.passwords import at_least, hash_password, verify_password


def test_a_hash_verifies_its_password_only() -> None:
    stored = hash_password("s3cret!")
    assert stored.startswith("scrypt$") and "s3cret!" not in stored
    assert verify_password("s3cret!", stored)
    assert not verify_password("s3cret", stored)
    assert hash_password("s3cret!") != stored


@pytest.mark.parametrize(
    "stored", ["", "plain", "md5$1$2$3$00$00", "scrypt$x$8$1$00$00", "scrypt$16384$8$1$zz$00"]
)
def test_a_malformed_hash_never_verifies(stored: str) -> None:
    assert not verify_password("anything", stored)


def test_roles_are_ordered() -> None:
    assert at_least("admin", "trader") and at_least("trader", "trader") and not at_least("viewer", "trader")
    with pytest.raises(ValueError, match="unknown role 'root'"):
        at_least("root", "viewer")
