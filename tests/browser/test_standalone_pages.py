"""Each dashboard notebook also serves on its own with plain `panel serve`, and its page renders."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import ROOT, free_port

pytestmark = pytest.mark.browser
PAGES = sorted((ROOT / "dashboards").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", PAGES, ids=[p.stem for p in PAGES])
def test_panel_serve_alone_renders_the_page(notebook: Path, browser: Browser, tmp_path: Path) -> None:
    port = free_port()
    env = {
        **os.environ,
        "OSS20_DATA_DIR": str(tmp_path),
        **{f"OSS20_{name}_PORT": "0" for name in ("LEVEL1", "LOOKUP", "ADMIN")},
    }
    command = [str(Path(sys.executable).with_name("panel")), "serve", str(notebook), "--port", str(port)]
    log = tmp_path / "panel.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=sink, stderr=sink)
    try:
        page = browser.new_page()
        deadline = time.monotonic() + 60
        while True:
            try:
                page.goto(f"http://localhost:{port}/{notebook.stem}", timeout=30_000)
                break
            except Exception:
                assert time.monotonic() < deadline and server.poll() is None, log.read_text()[-3000:]
                time.sleep(0.5)
        heading = page.locator(".title, #header .title").first
        heading.wait_for(timeout=60_000)
        assert heading.inner_text().startswith("oss20 · ")
        assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
        page.close()
    finally:
        server.terminate()
        server.wait(30)
