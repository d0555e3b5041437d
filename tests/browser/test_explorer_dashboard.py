"""The data explorer in real headless Chromium, over a data dir seeded with a million-tick day:
the grid pages through ticks equal to the ground truth, a filter narrows them, the export
downloads exactly the selection, bad input gets a message, and the live day's ticks stream in."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from playwright.sync_api import Browser, Page

from oss20.market import Market
from oss20.schema import TICK_COLUMNS
from oss20.storage.arctic import TickStore
from tests.browser.conftest import serving

pytestmark = pytest.mark.browser

BIG = ("AAPL", dt.date(2025, 1, 2))
SMALL = ("KO", (dt.date(2025, 1, 2), dt.date(2025, 1, 3)))
LIVE = "KO"
ACTIVITY = 5.0  # AAPL: about a million trades a day


@pytest.fixture(scope="module")
def market() -> Market:
    return Market(seed=7, activity=ACTIVITY, cache_rows=3_000_000)


@pytest.fixture(scope="module")
def explored(tmp_path_factory: pytest.TempPathFactory, market: Market) -> Iterator[str]:
    """``oss20 serve`` over stored AAPL (one day, ~1M ticks) and KO (two days), collecting KO live."""
    data = tmp_path_factory.mktemp("explored")
    store = TickStore(f"lmdb://{(data / 'arctic').resolve()}")
    store.merge(market.ticks(*BIG))
    for day in SMALL[1]:
        store.merge(market.ticks(SMALL[0], day))
    assert store.count(*BIG) > 1_000_000
    log = tmp_path_factory.mktemp("log") / "panel.log"
    with serving(data, log, OSS20_WATCHLIST=LIVE) as base:
        yield base


def field(page: Page, placeholder: str, value: str, nth: int = 0) -> None:
    """Type ``value`` into the input with ``placeholder`` and commit it (Enter)."""
    box = page.get_by_placeholder(placeholder).nth(nth)
    box.fill(value)
    box.press("Enter")


STATUS = re.compile(r"(rows [\d,]+–[\d,]+|no rows) of [\d,]+")


def status(page: Page, text: str | None = None, timeout: float = 30_000) -> str:
    """Wait until the grid's status line holds ``text`` (or shows at all); return the line."""
    line = page.get_by_text(STATUS if text is None else text).first
    line.wait_for(timeout=timeout)
    return line.inner_text()


def column(page: Page, name: str) -> list[str]:
    """The rendered cells of one grid column, top down (Tabulator draws the visible rows)."""
    return page.locator(f'.tabulator-cell[tabulator-field="{name}"]').all_inner_texts()


def assert_rows_equal(page: Page, truth: pd.DataFrame) -> None:
    """The grid's rendered rows are the first rows of ``truth``, field by field."""
    ids = column(page, "tick_id")
    assert len(ids) >= 5, f"too few rows rendered: {ids}"
    expected = truth.iloc[: len(ids)]
    assert [int(v.replace(",", "")) for v in ids] == expected["tick_id"].tolist()
    assert [int(v.replace(",", "")) for v in column(page, "market_center")[: len(ids)]] == expected[
        "market_center"
    ].tolist()
    prices = [float(v.replace(",", "")) for v in column(page, "price")[: len(ids)]]
    assert prices == pytest.approx(expected["price"].tolist())
    stamps = expected["timestamp"].dt.strftime("%Y-%m-%d %H:%M:%S.%f").tolist()
    assert column(page, "timestamp")[: len(ids)] == stamps


def shows_message(page: Page, text: str) -> None:
    """Wait until the page's message box says ``text``."""
    page.locator(".alert", has_text=text).first.wait_for(state="visible", timeout=15_000)


def test_the_explorer_pages_filters_exports_and_says_what_is_wrong(
    explored: str, browser: Browser, artifacts: Path, market: Market
) -> None:
    page = browser.new_page(viewport={"width": 1500, "height": 1000}, accept_downloads=True)
    page.goto(explored + "/explorer")
    page.get_by_placeholder("e.g. AAPL").wait_for(timeout=30_000)

    # the live day of the embedded collector: KO's count grows while the page is open
    first = status(page, timeout=40_000)
    deadline = time.monotonic() + 30
    while status(page) == first:
        assert time.monotonic() < deadline, f"no live ticks streamed in: {first}"
        page.wait_for_timeout(500)

    symbol, day = BIG
    truth = market.ticks(symbol, day)
    field(page, "e.g. AAPL", symbol)
    field(page, "YYYY-MM-DD", day.isoformat())
    status(page, f"rows 1–100 of {len(truth):,}")
    page.get_by_text("rasterized with datashader").first.wait_for(timeout=30_000)
    assert_rows_equal(page, truth)
    page.get_by_text("next ›").click()
    status(page, f"rows 101–200 of {len(truth):,}")
    assert_rows_equal(page, truth.iloc[100:])
    field(page, "page", "5000")
    status(page, f"rows 499,901–500,000 of {len(truth):,}")
    assert_rows_equal(page, truth.iloc[499_900:])

    # a filter narrows the rows, server-side, and the export is exactly the filtered selection
    field(page, "size ≥", "2000")
    field(page, "price ≤", "246.5")
    kept = truth.loc[(truth["size"] >= 2000) & (truth["price"] <= 246.5)].reset_index(drop=True)
    assert 0 < len(kept) < len(truth)
    status(page, f"rows 1–100 of {len(kept):,}")
    assert_rows_equal(page, kept)
    with page.expect_download(timeout=30_000) as download:
        page.get_by_text("Download CSV").click()
    assert download.value.suggested_filename == f"{symbol}_{day}_filtered.csv"
    exported = pd.read_csv(download.value.path())
    assert exported.columns.tolist() == list(TICK_COLUMNS)
    exported["timestamp"] = pd.to_datetime(exported["timestamp"], utc=True, format="ISO8601").dt.tz_convert(
        "America/New_York"
    )
    exported["conditions"] = exported["conditions"].fillna("").astype(str)
    expected = kept.astype({"conditions": str})
    pd.testing.assert_frame_equal(exported, expected, check_dtype=False)
    page.screenshot(path=artifacts / "explorer.png", full_page=True)

    # bad input in any field gets a clear message, not a traceback
    field(page, "e.g. AAPL", "ZZZZ")
    shows_message(page, "unknown symbol ZZZZ: no ticks stored for it; stored symbols: AAPL, KO")
    field(page, "e.g. AAPL", "not a symbol")
    shows_message(page, "not a valid ticker: 'not a symbol'")
    field(page, "e.g. AAPL", SMALL[0])  # a light selection: each valid change reads it again
    field(page, "YYYY-MM-DD", "2025-01-03", nth=0)
    field(page, "YYYY-MM-DD", "2025-01-02", nth=1)
    shows_message(page, "the range ends (2025-01-02) before it starts (2025-01-03)")
    field(page, "YYYY-MM-DD", "2025-01-02", nth=0)
    for spec in ("banana", "volume:-5"):
        field(page, "1min, 5min", spec)
        shows_message(page, f"not a bar spec: '{spec}'")
    assert "Traceback" not in page.content()
    page.close()
