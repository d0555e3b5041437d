"""The validation page follows the Redis bus live: ``oss20 serve`` runs with ``OSS20_REDIS_URL`` set
(the machine's Redis, a db of its own), Chromium has the page open over two validated days of two
symbols, and then this test process (not the server) stores a new day with off prices injected and
validates it with the same Redis URL. Without a reload, within a few seconds, the page draws the new
symbol-day: its row in the score table (with the score the run computed), a redrawn heatmap, its
failure among the open alerts (from the bus's validation events) and its live status (from the
shared cache).

Redis pub/sub channels are global across db numbers, so the assertions name only this test's
symbol-day; the keys the run leaves in the db are deleted afterwards, and only those."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import redis
from playwright.sync_api import Browser, Page

from oss20 import validate
from oss20.config import Settings
from oss20.iqfeed.faults import OFF_PRICE
from oss20.market import Market
from oss20.storage.arctic import TickStore
from tests.browser.conftest import rows, serving

pytestmark = pytest.mark.browser
REDIS_URL = "redis://127.0.0.1:6379/13"
"""The machine's Redis, in a db no other test uses (its keys are still deleted one by one)."""
SYMBOLS = ("JNJ", "PFE")
"""Symbols off the demo watchlist, so other runs on the same Redis are unlikely to speak of them."""
SEEDED_DAYS = (dt.date(2025, 1, 2), dt.date(2025, 1, 3))
LIVE = ("JNJ", dt.date(2025, 1, 6))
"""The symbol-day validated while the page is open, with off prices: it fails."""
OFF_AT = (100, 300, 500)
ARRIVAL = 5.0
"""Seconds the page may take to draw a validation run (the page folds events in once a second)."""


@dataclass(frozen=True)
class Live:
    base: str
    settings: Settings
    store: TickStore


def day_ticks(market: Market, symbol: str, day: dt.date, off: bool = False) -> pd.DataFrame:
    ticks = market.ticks(symbol, day).copy()
    if off:
        picks = np.flatnonzero(ticks["basis"].eq("C").to_numpy())[list(OFF_AT)]
        ticks.loc[picks, "price"] = (ticks.loc[picks, "price"] * OFF_PRICE).round(2)
    return ticks


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The seeded days validated, then ``oss20 serve`` following Redis over them; the Redis keys
    created meanwhile are deleted at the end."""
    client = redis.Redis.from_url(REDIS_URL)
    before = set(client.scan_iter(count=1000))
    root = tmp_path_factory.mktemp("live")
    settings = Settings(data_dir=str(root), redis_url=REDIS_URL)
    store = TickStore(settings.resolved_arctic_uri)
    market = Market(seed=11, activity=0.02)
    for symbol in SYMBOLS:
        for day in SEEDED_DAYS:
            store.merge(day_ticks(market, symbol, day))
    validate.run(SYMBOLS, SEEDED_DAYS[0], SEEDED_DAYS[-1], settings, feed=False)
    try:
        with serving(root, root / "panel.log", OSS20_REDIS_URL=REDIS_URL) as base:
            yield Live(base, settings, store)
    finally:
        created = set(client.scan_iter(count=1000)) - before
        if created:
            client.delete(*created)
        client.close()


def wait_for(page: Page, condition: Callable[[], bool], what: str, seconds: float) -> float:
    """Poll ``condition`` every 100 ms; the seconds it took (fails after ``seconds``)."""
    start = time.monotonic()
    while not condition():
        assert time.monotonic() - start < seconds, what
        page.wait_for_timeout(100)
    return time.monotonic() - start


def scores(page: Page) -> dict[tuple[str, str], tuple[str, str]]:
    return {
        (s, d): (score, status)
        for s, d, score, status in rows(page, "scores", ("symbol", "day", "score", "status"))
    }


def test_a_validation_run_elsewhere_reaches_the_open_page_without_a_reload(
    live: Live, browser: Browser, artifacts: Path
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 2000})
    page.goto(live.base + "/validation", timeout=90_000)
    seeded = {(s, d.isoformat()) for s in SYMBOLS for d in SEEDED_DAYS}
    wait_for(page, lambda: seeded <= set(scores(page)), "the seeded symbol-days are listed", 60)
    symbol, day = LIVE[0], LIVE[1].isoformat()
    assert (symbol, day) not in scores(page)
    heatmap = page.locator(".bk-Canvas").first  # the first plot on the page
    heatmap.wait_for(timeout=30_000)
    page.wait_for_timeout(1500)  # let the first render settle before taking the reference image
    drawn_before = heatmap.screenshot()
    page.evaluate("window.oss20NotReloaded = true")

    live.store.merge(day_ticks(Market(seed=11, activity=0.02), symbol, LIVE[1], off=True))
    (report,) = validate.run([symbol], LIVE[1], LIVE[1], live.settings, feed=False)
    assert report.status == "fail", "the injected off prices fail the day"

    expected = (str(report.score), "fail")
    took = wait_for(
        page, lambda: scores(page).get((symbol, day)) == expected, "the new day's score is drawn", ARRIVAL
    )
    failure = (symbol, day, "2", "bad_prints", "fail")
    alerts = ("symbol", "day", "tier", "check", "status")
    wait_for(page, lambda: failure in rows(page, "alerts", alerts), "its failure is an open alert", ARRIVAL)
    assert rows(page, "alerts", alerts)[0][4] == "fail", "failures lead the open alerts, new ones too"
    wait_for(
        page,
        lambda: (
            (symbol, day, str(report.score), "fail")
            in rows(page, "live", ("symbol", "day", "score", "status"))
        ),
        "the live status (from the Redis cache) names the new day",
        ARRIVAL,
    )
    wait_for(page, lambda: heatmap.screenshot() != drawn_before, "the heatmap is redrawn", ARRIVAL)
    assert page.evaluate("window.oss20NotReloaded === true"), "the page was not reloaded"
    page.screenshot(path=artifacts / "validation-live.png", full_page=True)
    page.close()
    print(f"new symbol-day drawn {took:.1f} s after the run returned")
