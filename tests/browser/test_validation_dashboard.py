"""The validation dashboard in real headless Chromium, served over a data dir seeded with three
days of two symbols, off prices injected into one day and tier-1 rejects quarantined for it, all
validated into the catalog: the heatmap shows every symbol-day, the faulted day's tier view blames
exactly the injected ticks, open alerts list the failure, and bad input gets a clear message."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page

from oss20 import validate
from oss20.config import Settings
from oss20.iqfeed.faults import OFF_PRICE
from oss20.market import Market
from oss20.storage.arctic import TickStore
from tests.browser.conftest import column, rows, serving

pytestmark = pytest.mark.browser
SYMBOLS = ("AAPL", "KO")
DAYS = (dt.date(2025, 1, 2), dt.date(2025, 1, 3), dt.date(2025, 1, 6))
FAULTED = ("AAPL", DAYS[1])
OFF_AT = (200, 1000, 2000)
"""Positions among the faulted day's regular trades whose price is moved off: far apart, so each is
an isolated bad print."""
REJECTED_AT = (50, 60)


@dataclass(frozen=True)
class Seeded:
    """The served page's base URL and what was injected (market center, TickID pairs)."""

    base: str
    off_prices: set[tuple[int, int]]
    quarantined: set[tuple[int, int]]


def seed(root: Path) -> tuple[set[tuple[int, int]], set[tuple[int, int]]]:
    """Store the days (off prices in the faulted one, its rejects quarantined) and validate them."""
    settings = Settings(data_dir=str(root))
    store = TickStore(settings.resolved_arctic_uri)
    market = Market(seed=7, activity=0.02)
    off: set[tuple[int, int]] = set()
    rejected: set[tuple[int, int]] = set()
    for symbol in SYMBOLS:
        for day in DAYS:
            ticks = market.ticks(symbol, day).copy()
            if (symbol, day) == FAULTED:
                picks = np.flatnonzero(ticks["basis"].eq("C").to_numpy())[list(OFF_AT)]
                ticks.loc[picks, "price"] = (ticks.loc[picks, "price"] * OFF_PRICE).round(2)
                off = set(zip(ticks.loc[picks, "market_center"], ticks.loc[picks, "tick_id"], strict=True))
                rejects = ticks.iloc[list(REJECTED_AT)]
                store.put_quarantine(rejects.assign(price=-rejects["price"], reason="price_range"))
                rejected = set(zip(rejects["market_center"], rejects["tick_id"], strict=True))
            store.merge(ticks)
    validate.run(SYMBOLS, DAYS[0], DAYS[-1], settings, feed=False)
    return off, rejected


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    """``oss20 serve`` on a free port over the seeded data dir, once it answers."""
    root = tmp_path_factory.mktemp("validated")
    off, rejected = seed(root)
    with serving(root, root / "panel.log") as base:
        yield Seeded(base, off, rejected)


def choose(page: Page, symbol: str, day: str) -> None:
    """Type a symbol-day into the sidebar's inputs (Enter commits a TextInput)."""
    for label, value in (("Symbol", symbol), ("Day", day)):
        box = page.get_by_label(label)
        box.fill(value)
        box.press("Enter")


def ticks_shown(page: Page) -> set[tuple[int, int]]:
    """The offending ticks the page lists, as (market center, TickID)."""
    return {(int(mc), int(tick)) for mc, tick in rows(page, "offenders", ("market_center", "tick_id"))}


def wait_for(page: Page, condition: Callable[[], bool], what: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(200)


def test_scores_alerts_and_the_faulted_days_offending_ticks(
    seeded: Seeded, browser: Browser, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 2600})
    page.goto(seeded.base + "/validation", timeout=90_000)  # the first page starts the embedded collector
    page.locator('.oss20-scores .tabulator-cell[tabulator-field="score"]').first.wait_for(timeout=30_000)
    symbol, day = FAULTED[0], FAULTED[1].isoformat()

    scores = {(s, d): status for s, d, status in rows(page, "scores", ("symbol", "day", "status"))}
    assert set(scores) == {(s, d.isoformat()) for s in SYMBOLS for d in DAYS}, "every seeded symbol-day"
    assert scores[(symbol, day)] == "fail" and list(scores.values()).count("fail") == 1
    assert page.locator(".bk-Canvas, canvas").count() > 0, "the heatmap is drawn"

    alerts = rows(page, "alerts", ("symbol", "day", "tier", "check", "status"))
    assert alerts[0] == (symbol, day, "2", "bad_prints", "fail"), "the failure leads the open alerts"
    assert (symbol, day, "1", "quarantine", "warn") in alerts

    page.locator('.oss20-alerts .tabulator-cell[tabulator-field="check"]').first.click()
    wait_for(page, lambda: bool(ticks_shown(page)), "clicking the alert shows the day's offending ticks")
    assert page.get_by_text(f"{symbol} {day}: score").first.is_visible()
    assert ticks_shown(page) == seeded.off_prices, "exactly the injected off prices are blamed"
    checks = {(t, c): st for t, c, st in rows(page, "checks", ("tier", "check", "status"))}
    assert checks[("2", "bad_prints")] == "fail" and checks[("1", "quarantine")] == "warn"
    assert {t for t, _ in checks} == {"1", "2", "3", "4"}

    page.get_by_label("Offending ticks of").select_option(label="tier 1 quarantine (warn)")
    wait_for(page, lambda: ticks_shown(page) == seeded.quarantined, "the quarantined ticks are listed")
    assert set(column(page, "offenders", "reason")) == {"price_range"}
    page.get_by_label("Offending ticks of").select_option(label="tier 2 bad_prints (fail)")
    wait_for(page, lambda: ticks_shown(page) == seeded.off_prices, "back to the bad prints")
    page.screenshot(path=artifacts / "validation.png", full_page=True)

    for typed, message in (
        (("NOT A SYMBOL", day), "not a valid ticker"),
        (("ZZZZ", day), "no validation results for ZZZZ"),
        ((symbol, "2025-13-45"), "not a date"),
    ):
        choose(page, *typed)
        page.get_by_text(message).first.wait_for(timeout=10_000)
    page.close()
