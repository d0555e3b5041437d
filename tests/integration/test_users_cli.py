"""`oss20 users` adds, lists and removes dashboard users; passwords never on the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from oss20.config import Settings
from oss20.storage.catalog import open_catalog

OSS20 = Path(sys.executable).with_name("oss20")


def oss20(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([OSS20, "users", *args], env=env, capture_output=True, text=True, timeout=60)


def test_users_are_added_listed_checked_and_removed(tmp_path: Path) -> None:
    env = {**os.environ, "OSS20_DATA_DIR": str(tmp_path), "OSS20_NEW_PASSWORD": "s3cret pass"}
    added = oss20("add", "ada", "--role", "admin", env=env)
    assert added.returncode == 0 and "user ada is admin" in added.stdout, added.stderr
    assert oss20("add", "val", env=env).returncode == 0
    listed = oss20("list", env=env).stdout.splitlines()
    assert [line.split("\t")[:2] for line in listed] == [["ada", "admin"], ["val", "viewer"]]
    with open_catalog(Settings(data_dir=str(tmp_path)).resolved_catalog_url) as catalog:
        assert catalog.authenticate("ada", "s3cret pass") == "admin"
    bad_role = oss20("add", "eve", "--role", "root", env=env)
    assert bad_role.returncode == 2 and "unknown role 'root'" in bad_role.stderr
    bad_name = oss20("add", "../eve", env=env)
    assert bad_name.returncode == 2 and "username '../eve' is not valid" in bad_name.stderr
    assert oss20("remove", "val", env=env).returncode == 0
    gone = oss20("remove", "val", env=env)
    assert gone.returncode == 2 and "no user 'val'" in gone.stderr
    assert "s3cret" not in added.stdout + added.stderr
