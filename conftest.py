"""Mark the notebook cells nbval collects: `-m notebooks` runs them alone, `-m "not notebooks"` skips them."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)
