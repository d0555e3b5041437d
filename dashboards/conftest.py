"""Run the dashboard notebooks as Jupyter would, but on a throwaway data dir and free ports: the kernel
nbval starts inherits these variables, and they are put back once a notebook's last cell ran."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_saved: dict[str, str | None] = {}


def _embedded_market(data_dir: str) -> dict[str, str]:
    return {
        "OSS20_DATA_DIR": data_dir,
        "OSS20_DEMO_SPEED": "60",
        **{f"OSS20_{name}_PORT": "0" for name in ("LEVEL1", "LOOKUP", "ADMIN")},
    }


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.path.suffix != ".ipynb" or _saved:
        return
    for name, value in _embedded_market(tempfile.mkdtemp(prefix="oss20-dashboard-")).items():
        _saved[name] = os.environ.get(name)
        os.environ[name] = value


@pytest.hookimpl(trylast=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    if not _saved or (nextitem is not None and nextitem.parent is item.parent):
        return
    shutil.rmtree(os.environ["OSS20_DATA_DIR"], ignore_errors=True)
    for name, value in _saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    _saved.clear()
