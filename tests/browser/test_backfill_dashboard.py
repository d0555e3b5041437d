"""The backfill dashboard in real headless Chromium, served over a data dir holding three sessions of
two symbols with gaps cut on purpose (a missing day, two holes, a cut-off close) and a failed chunk
another backfill left, with the embedded simulator playing the session after them
(``OSS20_DEMO_DAY``) so tick history reaches them: the gap list shows exactly the cuts, a viewer
gets no backfill or retry buttons, bad input gets a clear message, a trader retries the failed
chunk and backfills the selection until no gap is left, the run history shows both runs, and the
stored ticks equal the ground truth afterwards."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from oss20.config import Settings
from oss20.market import Market
from oss20.storage.arctic import TickStore
from oss20.storage.catalog import open_catalog
from tests.browser.conftest import column, rows, serving
from tests.frames import canonical

pytestmark = pytest.mark.browser
SYMBOLS = ("KO", "XOM")
SESSIONS = (dt.date(2025, 1, 13), dt.date(2025, 1, 14), dt.date(2025, 1, 15))
DEMO_DAY = dt.date(2025, 1, 16)
"""The simulator's session: the day after the seeded ones, within the 8 days tick history reaches
while the market is open."""
CUTS = [
    ("KO", SESSIONS[0], "11:00", "11:20", "hole"),
    ("KO", SESSIONS[1], "04:00", "20:00", "missing session"),
    ("XOM", SESSIONS[0], "10:00", "10:30", "hole"),
    ("XOM", SESSIONS[2], "15:00", "20:00", "partial session"),
]
"""(symbol, session, from, to, reason): ticks in [from, to) are not stored."""
FAILED = CUTS[2]
"""The cut a backfill elsewhere failed to fill: recorded as a failed chunk, for the Retry button."""
USERS = {"tess": ("trader-secret", "trader"), "val": ("viewer-secret", "viewer")}
MARKET = Market(seed=7)
"""The simulator's own market (``SimulatorConfig``'s seed and activity): its ticks are the truth."""


def at(day: dt.date, hhmm: str) -> pd.Timestamp:
    return pd.Timestamp(f"{day} {hhmm}", tz="America/New_York")


def cut(symbol: str, day: dt.date) -> pd.Series:
    """Which of the day's true ticks the cuts take away."""
    stamps = MARKET.ticks(symbol, day)["timestamp"]
    drop = pd.Series(False, index=stamps.index)
    for s, d, lo, hi, _ in CUTS:
        if (s, d) == (symbol, day):
            drop |= (stamps >= at(day, lo)) & (stamps < at(day, hi))
    return drop


def seed(root: Path) -> None:
    """Store the sessions minus the cuts; record the failed chunk and the users in the catalog."""
    settings = Settings(data_dir=str(root))
    store = TickStore(settings.resolved_arctic_uri)
    for symbol in SYMBOLS:
        for day in SESSIONS:
            ticks = MARKET.ticks(symbol, day)
            kept = ticks[~cut(symbol, day).to_numpy()]
            if len(kept):
                store.merge(kept)
    symbol, day, lo, hi, reason = FAILED
    with open_catalog(settings.resolved_catalog_url) as catalog:
        for name, (password, role) in USERS.items():
            catalog.set_user(name, password, role)
        task = catalog.create_task(
            "backfill",
            [symbol],
            params={
                "session": day.isoformat(),
                "deadline": (day + dt.timedelta(days=180)).isoformat(),
                "expected_trades": None,
                "reason": reason,
                "owner": "elsewhere:1",
            },
            window=(at(day, lo), at(day, hi) - pd.Timedelta(microseconds=1)),
        )
        catalog.update_task(
            task, status="failed", attempts_increment=True, error="IQFeedError: E,!SYNTAX_ERROR!"
        )


def expected_gaps() -> set[tuple[str, ...]]:
    """The gap list the cuts make, as shown: a missing session spans 04:00-20:00 (extended hours);
    the others run from the first to the end of the last minute the truth traded in within the cut."""
    rows = set()
    for symbol, day, lo, hi, reason in CUTS:
        stamps = MARKET.ticks(symbol, day)["timestamp"]
        inside = stamps[(stamps >= at(day, lo)) & (stamps < at(day, hi))]
        start, end = at(day, lo), at(day, hi)
        if reason != "missing session":
            start, end = inside.min().floor("min"), inside.max().floor("min") + pd.Timedelta(minutes=1)
        rows.add((symbol, str(day), f"{start:%H:%M}", f"{end:%H:%M}", str(len(inside)), reason))
    return rows


def truth() -> pd.DataFrame:
    frames = [MARKET.ticks(s, d) for s in SYMBOLS for d in SESSIONS]
    return canonical(pd.concat(frames, ignore_index=True))


def wait_for(page: Page, condition: Callable[[], bool], what: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, what
        page.wait_for_timeout(250)


def login(browser: Browser, base: str, user: str) -> Page:
    page = browser.new_page(viewport={"width": 1400, "height": 2400})
    page.goto(base + "/backfill", timeout=90_000)
    page.wait_for_url("**/login**")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", USERS[user][0])
    page.click("button[type=submit], input[type=submit]")
    return page


def look_at(page: Page, symbols: str, first: str, last: str) -> None:
    """Type a range into the sidebar (Enter commits a TextInput) and find its gaps."""
    for label, value in (("Symbols", symbols), ("First session", first), ("Last session", last)):
        box = page.get_by_label(label)
        box.fill(value)
        box.press("Enter")
    page.get_by_role("button", name="Find gaps").click()


GAP_FIELDS = ("symbol", "session", "start", "end", "expected_trades", "reason")


def test_a_trader_fills_the_cut_gaps_and_a_viewer_only_looks(
    tmp_path: Path, browser: Browser, artifacts: Path
) -> None:
    seed(tmp_path)
    env = {"OSS20_DEMO_DAY": DEMO_DAY.isoformat(), "OSS20_WATCHLIST": ",".join(SYMBOLS)}
    with serving(tmp_path, tmp_path / "panel.log", **env) as base:
        viewer = login(browser, base, "val")
        viewer.get_by_text("Backfills are started by traders and admins; you are a viewer").wait_for(
            timeout=90_000
        )
        viewer.get_by_text("E,!SYNTAX_ERROR!").first.wait_for(timeout=30_000)
        assert viewer.get_by_role("button", name="Backfill selection").count() == 0
        assert viewer.locator(".oss20-failed .oss20-retry").count() == 0
        viewer.close()

        page = login(browser, base, "tess")
        page.get_by_role("button", name="Backfill selection").wait_for(timeout=90_000)
        page.locator("#sidebar input[type=checkbox]").first.check()  # Extended hours (04:00-20:00)
        for typed, message in (
            (("KO,NOT A SYMBOL", "2025-01-13", "2025-01-15"), "not a valid ticker"),
            (("KO,XOM", "2025-01-15", "2025-01-13"), "The range ends (2025-01-13) before it starts"),
            (("KO,XOM", "2025-01-13", "2025-13-45"), "is not a date"),
        ):
            look_at(page, *typed)
            page.get_by_text(message).first.wait_for(timeout=20_000)

        look_at(page, ",".join(SYMBOLS), str(SESSIONS[0]), str(SESSIONS[-1]))
        page.get_by_text("4 gaps as of 2025-01-16").wait_for(timeout=90_000)
        assert set(rows(page, "gaps", GAP_FIELDS)) == expected_gaps()
        assert set(column(page, "gaps", "reachable")) != set(), "the reachable column is drawn"
        assert page.get_by_text("full 2, partial 3, missing 1").is_visible()
        assert page.locator(".oss20-coverage canvas, canvas").count() > 0, "the heatmap is drawn"

        symbol, day, lo, _, _ = FAILED
        page.locator(".oss20-failed .oss20-retry").first.click()
        page.get_by_text(f"Retried {symbol} {day} {lo}-").wait_for(timeout=90_000)
        assert "done" in page.get_by_text(f"Retried {symbol} {day}").inner_text()
        page.get_by_text("No failed chunks.").wait_for(timeout=20_000)

        page.locator('.oss20-gaps .tabulator-header input[type="checkbox"]').first.click()
        page.get_by_role("button", name="Backfill selection").click()
        page.get_by_text("Backfilled ").wait_for(timeout=180_000)
        page.get_by_text("0 gaps as of").wait_for(timeout=90_000)
        assert page.get_by_text("full 6.").is_visible()
        wait_for(page, lambda: column(page, "gaps", "symbol") == [], "the gap list empties")
        wait_for(page, lambda: len(column(page, "runs", "owner")) == 2, "the run history shows both runs")
        runs = rows(page, "runs", ("owner", "chunks", "done", "failed", "active"))
        assert ("elsewhere:1", "1", "1", "0", "0") in runs, runs
        ours = [r for r in runs if r[0] != "elsewhere:1"]
        assert len(ours) == 1 and ours[0][1] == ours[0][2] and ours[0][3:] == ("0", "0"), runs
        chunks = ours[0][1]
        page.get_by_text(f"Latest run: {chunks} of {chunks} chunks ended (0 failed)").wait_for(timeout=20_000)
        assert len(column(page, "chunks", "task")) == int(chunks)
        assert set(column(page, "chunks", "status")) == {"done"}
        page.screenshot(path=artifacts / "backfill.png", full_page=True)
        page.close()
    stored = TickStore(Settings(data_dir=str(tmp_path)).resolved_arctic_uri).read_range(
        list(SYMBOLS), SESSIONS[0], SESSIONS[-1]
    )
    pd.testing.assert_frame_equal(canonical(stored), truth())
