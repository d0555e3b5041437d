"""Mark the notebook cells nbval collects (`-m notebooks` runs them alone, `-m "not notebooks"` skips
them), and give the verbs' docstring examples a store to run on."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from _pytest.doctest import DoctestItem, DoctestModule

from oss20.config import Settings
from oss20.connection import current, use

LIBRARY = Path(__file__).parent / "lib" / "oss20"


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    """The library's docstring examples are doctests (only the library's: a conftest or a test
    module is never imported twice under another name)."""
    if file_path.suffix == ".py" and LIBRARY in file_path.parents:
        return DoctestModule.from_parent(parent, path=file_path)
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.notebooks)


@pytest.fixture(scope="session")
def doctest_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Settings]:
    """The store the verbs' docstring examples run on: AAPL and MSFT on 2025-01-02 and 2025-01-03,
    backfilled from a simulator (2% of a real market's activity) that stays up for them."""
    import oss20

    oss20.connect(tmp_path_factory.mktemp("doctest"))
    simulator = oss20.simulate("2025-01-03", activity=0.02)
    oss20.fill_gaps(["AAPL", "MSFT"], "2025-01-02", "2025-01-03", extended_hours=True)
    yield current()
    simulator.stop()


@pytest.fixture(autouse=True)
def _doctest_namespace(request: pytest.FixtureRequest, doctest_namespace: dict[str, object]) -> None:
    """The examples of the verbs and of the explorer's pager start each on the doctest store."""
    if isinstance(request.node, DoctestItem) and request.node.name.startswith(
        ("oss20.api.", "oss20.connection.", "oss20.explore", "oss20.validate.")
    ):
        import oss20

        use(request.getfixturevalue("doctest_store"))
        doctest_namespace["oss20"] = oss20
