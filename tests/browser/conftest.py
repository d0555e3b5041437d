"""The served dashboards (``oss20 serve`` in a child process, embedded simulator and collector) and
a real headless Chromium to look at them; screenshots go to tests/artifacts/."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def column(page: Page, table: str, field: str) -> list[str]:
    """One column of a named Tabulator, row by row (Tabulator draws inside shadow DOM)."""
    return page.locator(f'.oss20-{table} .tabulator-cell[tabulator-field="{field}"]').all_inner_texts()


def rows(page: Page, table: str, fields: tuple[str, ...]) -> list[tuple[str, ...]]:
    """Rows of a named Tabulator as tuples of ``fields`` (read again while it is being redrawn)."""
    for _ in range(50):
        columns = [column(page, table, f) for f in fields]
        if len({len(c) for c in columns}) == 1:
            return list(zip(*columns, strict=True))
        page.wait_for_timeout(100)
    raise AssertionError(f"table {table} kept changing while read")


def answers(url: str) -> bool:
    """Whether an HTTP server answers ``url`` at all (any status: 503 is an answer too)."""
    try:
        urllib.request.urlopen(url, timeout=5).close()
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@contextlib.contextmanager
def serving(data_dir: Path, log: Path, port: int | None = None, **env: str) -> Iterator[str]:
    """``oss20 serve`` on ``port`` (default a free one) over ``data_dir`` (embedded simulator and
    collector on free ports, at 30 simulated seconds a second; ``env`` adds or overrides variables)
    until the block ends; yields the base URL once the server answers."""
    port = port or free_port()
    environ = {
        **os.environ,
        "OSS20_DATA_DIR": str(data_dir),
        "OSS20_DEMO_SPEED": "30",
        **{f"OSS20_{name}_PORT": "0" for name in ("LEVEL1", "LOOKUP", "ADMIN")},
        **env,
    }
    command = [
        str(Path(sys.executable).with_name("oss20")),
        "serve",
        "--address",
        "127.0.0.1",
        "--port",
        str(port),
        "--origin",
        f"127.0.0.1:{port}",
    ]
    with log.open("wb") as sink:
        server = subprocess.Popen(command, env=environ, cwd=ROOT, stdout=sink, stderr=sink)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not answers(base + "/health"):  # a route with no page session behind it
            if time.monotonic() > deadline or server.poll() is not None:
                raise AssertionError(f"oss20 serve did not come up: {log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield base
    finally:
        server.terminate()
        server.wait(30)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboards on a free port, with a fresh data dir and a fast embedded market; yields the
    base URL."""
    log = tmp_path_factory.mktemp("log") / "panel.log"
    with serving(tmp_path_factory.mktemp("served"), log) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
