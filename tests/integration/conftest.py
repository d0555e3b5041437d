"""Fixtures the integration tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import postgres_schema


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A catalog URL nobody else uses, on both backends: a SQLite file in a directory yet to exist,
    or a fresh schema of the machine's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite://{tmp_path / 'not-yet' / 'catalog.sqlite'}"
    else:
        with postgres_schema() as schema_url:
            yield schema_url
