"""The market dashboard in real headless Chromium: it loads, its live values change, and the
collector's health shows it running and storing."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from app.runtime import DEMO_WATCHLIST

pytestmark = pytest.mark.browser


def cells(page: Page, column: str) -> list[str]:
    """The text of one column of the watchlist, row by row (Tabulator draws inside shadow DOM)."""
    return page.locator(f'.tabulator-cell[tabulator-field="{column}"]').all_inner_texts()


def test_the_watchlist_loads_and_its_prices_move(served: str, browser: Browser, artifacts: Path) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(served + "/")  # the index is the market page
    page.locator('.tabulator-cell[tabulator-field="symbol"]').first.wait_for(timeout=30_000)
    assert cells(page, "symbol") == list(DEMO_WATCHLIST)
    deadline = time.monotonic() + 30
    while not all(cells(page, "last")) or "NaN" in " ".join(cells(page, "last")):
        assert time.monotonic() < deadline, f"no prices arrived: {cells(page, 'last')}"
        page.wait_for_timeout(250)
    first = cells(page, "last") + cells(page, "volume")
    deadline = time.monotonic() + 20
    while cells(page, "last") + cells(page, "volume") == first:
        assert time.monotonic() < deadline, "the live values did not change"
        page.wait_for_timeout(250)
    assert page.get_by_text("collector:").first.inner_text().startswith("collector: running")
    stored = page.get_by_text("stored", exact=True).first.evaluate("e => e.parentElement.innerText")
    assert stored.splitlines()[0] == "stored" and int(stored.splitlines()[1].replace(",", "")) > 0
    page.screenshot(path=artifacts / "market.png", full_page=True)
    page.close()
